/*
 * ClientFlow dashboard: draws the three charts from their JSON.
 *
 * The page is complete without this file: each chart's figures are in the
 * table beside it. When a chart is drawn, its box is shown and its table is
 * folded away (one click opens it again); when anything fails, the table
 * simply stays open. Names and amounts reach Chart.js as plain strings and
 * are painted on the canvas as text, and nothing here builds HTML.
 */
(function () {
  "use strict";

  var lang = document.documentElement.lang || "en";
  var reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  var BRAND = "#4f46e5";
  var BRAND_LIGHT = "#a5b4fc";
  var GREY = "#98a2b3";
  var INK = "#1d2330";
  var LINE = "#e4e7ec";
  var SLICES = ["#4f46e5", "#0f7b4b", "#1d5fb8", "#c27803", "#b42318", "#7c3aed"];

  /* Marks the canvas once Chart.js has painted it and the bars, points and
     slices have come to rest where the mouse will find them. */
  function markReady(chart) {
    chart.canvas.setAttribute("data-chart-ready", "true");
  }

  var readyMarker = {
    id: "cfReady",
    afterRender: function (chart) {
      if (reducedMotion) {
        markReady(chart);
      }
    }
  };

  function axisMoney(currency) {
    var format;
    try {
      format = new Intl.NumberFormat(lang, {
        style: "currency",
        currency: currency,
        notation: "compact",
        maximumFractionDigits: 1
      });
    } catch (error) {
      format = new Intl.NumberFormat(lang, { notation: "compact" });
    }
    return function (value) {
      return format.format(value);
    };
  }

  /* Chart geometry needs numbers; the amounts people read stay the
     server's exact, formatted strings. */
  function plotted(money) {
    return money === null ? null : Number(money.amount);
  }

  function common(legendPosition) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: reducedMotion ? false : {
        duration: 400,
        onComplete: function (context) {
          markReady(context.chart);
        }
      },
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: {
          position: legendPosition || "top",
          labels: { color: INK, usePointStyle: true, boxWidth: 8, boxHeight: 8 }
        }
      }
    };
  }

  function monthly(data) {
    var keys = data.series.map(function (s) { return s.key; });
    var colours = { invoiced: BRAND_LIGHT, collected: BRAND };
    var options = common();
    options.plugins.tooltip = {
      callbacks: {
        label: function (ctx) {
          var money = data.months[ctx.dataIndex][keys[ctx.datasetIndex]];
          return ctx.dataset.label + ": " + money.formatted;
        }
      }
    };
    options.scales = {
      x: { grid: { display: false } },
      y: {
        beginAtZero: true,
        grid: { color: LINE },
        ticks: { callback: axisMoney(data.currency) }
      }
    };
    return {
      type: "bar",
      data: {
        labels: data.months.map(function (m) { return m.label; }),
        datasets: data.series.map(function (s) {
          return {
            label: s.label,
            data: data.months.map(function (m) { return plotted(m[s.key]); }),
            backgroundColor: colours[s.key],
            borderRadius: 4,
            maxBarThickness: 28
          };
        })
      },
      options: options
    };
  }

  function clients(data) {
    var rows = data.clients.slice();
    if (data.others.count > 0) {
      rows.push({ name: data.others.label, collected: data.others.collected,
                  share_label: data.others.share_label });
    }
    var colours = rows.map(function (row, i) {
      return i < data.clients.length ? SLICES[i % SLICES.length] : GREY;
    });
    var narrow = window.innerWidth < 700;
    var options = common(narrow ? "bottom" : "right");
    options.interaction = { mode: "nearest", intersect: true };
    options.cutout = "58%";
    options.plugins.tooltip = {
      callbacks: {
        title: function (items) {
          return items.length ? rows[items[0].dataIndex].name : "";
        },
        label: function (ctx) {
          var row = rows[ctx.dataIndex];
          return row.collected.formatted + " (" + row.share_label + ")";
        }
      }
    };
    return {
      type: "doughnut",
      data: {
        labels: rows.map(function (row) { return row.name; }),
        datasets: [{
          data: rows.map(function (row) { return plotted(row.collected); }),
          backgroundColor: colours,
          borderColor: "#ffffff",
          borderWidth: 2
        }]
      },
      options: options
    };
  }

  function comparison(data, canvas) {
    var growthWord = canvas.getAttribute("data-growth-word") || "";
    var styles = {
      last_year: { colour: GREY, dash: [6, 4] },
      this_year: { colour: BRAND, dash: [] }
    };
    var options = common();
    options.plugins.tooltip = {
      callbacks: {
        label: function (ctx) {
          var money = data.months[ctx.dataIndex][data.series[ctx.datasetIndex].key];
          return money === null ? null : ctx.dataset.label + ": " + money.formatted;
        },
        footer: function (items) {
          if (!items.length) {
            return "";
          }
          return growthWord + ": " + data.months[items[0].dataIndex].growth_label;
        }
      }
    };
    options.scales = {
      x: { grid: { display: false } },
      y: {
        beginAtZero: true,
        grid: { color: LINE },
        ticks: { callback: axisMoney(data.currency) }
      }
    };
    return {
      type: "line",
      data: {
        labels: data.months.map(function (m) { return m.label; }),
        datasets: data.series.map(function (s) {
          return {
            label: s.label,
            data: data.months.map(function (m) { return plotted(m[s.key]); }),
            borderColor: styles[s.key].colour,
            backgroundColor: styles[s.key].colour,
            borderDash: styles[s.key].dash,
            borderWidth: 2,
            pointRadius: 3,
            tension: 0.25,
            spanGaps: false
          };
        })
      },
      options: options
    };
  }

  var BUILDERS = { monthly: monthly, clients: clients, comparison: comparison };

  function reveal(canvas) {
    var box = canvas.closest(".cf-chart");
    box.hidden = false;
    var table = box.parentElement.querySelector("details.cf-chart-data");
    if (table) {
      table.open = false;
    }
  }

  function draw(canvas) {
    var build = BUILDERS[canvas.getAttribute("data-chart")];
    return fetch(canvas.getAttribute("data-source"), {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("chart data answered " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        reveal(canvas);
        return new window.Chart(canvas, Object.assign(build(data, canvas), {
          plugins: [readyMarker]
        }));
      });
  }

  function drawAll() {
    if (typeof window.Chart === "undefined") {
      return;
    }
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      draw(canvas).catch(function (error) {
        canvas.setAttribute("data-chart-error", String(error.message || error));
      });
    });
  }

  /* The date fields matter only for custom dates; without JavaScript they
     always show. */
  function periodForm() {
    var form = document.querySelector("[data-period-form]");
    if (!form) {
      return;
    }
    var select = form.querySelector("[data-period-select]");
    var days = form.querySelectorAll("[data-custom-day]");
    function sync() {
      var custom = select.value === "custom";
      days.forEach(function (day) {
        day.hidden = !custom;
      });
    }
    select.addEventListener("change", sync);
    sync();
  }

  periodForm();
  drawAll();
})();
