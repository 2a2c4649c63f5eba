/*
 * Drag and drop on the pipeline board.
 *
 * Without this script every card keeps its own "Move" form, so the board
 * works with JavaScript off. With it, a card dropped on another column is
 * posted to the card's move URL with the CSRF token from the page's meta tag;
 * the column sums come back from the server, which stays the only place that
 * computes them. Dropping on "lost" (and winning a prospect who is not a
 * client yet) opens the page that asks for the details instead of moving.
 */
(function () {
  "use strict";

  var board = document.querySelector("[data-pipeline-board]");
  if (!board || typeof window.Sortable === "undefined") {
    return;
  }
  var tokenMeta = document.querySelector('meta[name="csrf-token"]');
  var token = tokenMeta ? tokenMeta.getAttribute("content") : "";
  var statusLine = document.getElementById("board-status");
  var busy = false;
  var numbers = numberFormat(document.documentElement.lang);

  function numberFormat(lang) {
    try {
      return new Intl.NumberFormat(lang || undefined);
    } catch (e) {
      return new Intl.NumberFormat();
    }
  }

  function say(message, isError) {
    if (!statusLine) {
      return;
    }
    statusLine.textContent = message || "";
    statusLine.classList.toggle("is-error", Boolean(isError));
  }

  function putBack(evt) {
    var list = evt.from;
    var before = list.children[evt.oldIndex] || null;
    if (evt.from === evt.to && evt.newIndex < evt.oldIndex) {
      before = list.children[evt.oldIndex + 1] || null;
    }
    list.insertBefore(evt.item, before);
  }

  function updateColumns(columns) {
    columns.forEach(function (column) {
      var section = board.querySelector('[data-column="' + column.stage + '"]');
      if (!section) {
        return;
      }
      section.querySelector("[data-count]").textContent = numbers.format(column.count);
      section.querySelector("[data-total]").textContent = column.total;
      section.querySelector("[data-weighted]").textContent = column.weighted;
      // A column cut short says how many of its cards it shows; a drop
      // changes both numbers.
      var more = section.querySelector("[data-more]");
      if (more) {
        var shown = section.querySelectorAll("[data-stage-list] .cf-opp").length;
        more.querySelector("[data-shown]").textContent = numbers.format(shown);
        more.querySelector("[data-of]").textContent = numbers.format(column.count);
      }
    });
  }

  function updateCard(card, opportunity) {
    var probability = card.querySelector("[data-probability]");
    if (probability) {
      probability.textContent = opportunity.probability_label;
    }
    var select = card.querySelector("select[name=stage]");
    if (select) {
      select.value = opportunity.stage;
    }
    var isOpen = opportunity.stage !== "won" && opportunity.stage !== "lost";
    var follow = card.querySelector(".cf-opp-follow");
    if (follow) {
      follow.hidden = !isOpen;
    }
    card.classList.toggle("is-closed", !isOpen);
  }

  function onEnd(evt) {
    var card = evt.item;
    var stage = evt.to.getAttribute("data-stage");
    var moved = evt.from !== evt.to;
    if (!moved && evt.oldIndex === evt.newIndex) {
      return;
    }
    if (moved && stage === "lost") {
      putBack(evt);
      window.location.assign(card.getAttribute("data-lost-url"));
      return;
    }
    if (moved && stage === "won" && card.getAttribute("data-free-prospect") === "1") {
      putBack(evt);
      window.location.assign(card.getAttribute("data-won-url"));
      return;
    }

    var body = new FormData();
    body.append("stage", stage);
    body.append("position", String(evt.newIndex));
    busy = true;
    board.classList.add("is-saving");
    say(board.getAttribute("data-saving-text"));

    fetch(card.getAttribute("data-move-url"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, Accept: "application/json" },
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return { error: board.getAttribute("data-error-text") };
          })
          .then(function (data) {
            return { ok: response.ok, data: data };
          });
      })
      .then(function (result) {
        if (!result.ok) {
          putBack(evt);
          if (result.data.redirect) {
            window.location.assign(result.data.redirect);
            return;
          }
          say(result.data.error || board.getAttribute("data-error-text"), true);
          return;
        }
        updateCard(card, result.data.opportunity);
        updateColumns(result.data.columns);
        say(board.getAttribute("data-saved-text"));
      })
      .catch(function () {
        putBack(evt);
        say(board.getAttribute("data-error-text"), true);
      })
      .then(function () {
        busy = false;
        board.classList.remove("is-saving");
      });
  }

  board.classList.add("is-draggable");
  board.querySelectorAll("[data-stage-list]").forEach(function (list) {
    window.Sortable.create(list, {
      group: "pipeline",
      draggable: ".cf-opp",
      // The card's own controls stay usable: no drag starts on them.
      filter: "details, summary, select, button, input, label",
      preventOnFilter: false,
      animation: 150,
      // On touch screens a short hold starts a drag, a swipe scrolls.
      delay: 180,
      delayOnTouchOnly: true,
      ghostClass: "is-ghost",
      chosenClass: "is-chosen",
      dragClass: "is-dragging",
      onMove: function () {
        return !busy;
      },
      onEnd: onEnd,
    });
  });
})();
