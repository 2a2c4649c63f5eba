// Billing forms work without this file; with it, the quantity and price
// labels of a line follow its type ("Hours" and "Hourly rate" for hours).
(function () {
  "use strict";

  function relabel(form) {
    var kind = form.querySelector("select[name=kind]");
    var quantity = form.querySelector("label[for=quantity]");
    var price = form.querySelector("label[for=unit_price]");
    if (!kind || !quantity || !price) {
      return;
    }
    var hours = kind.value === "hours";
    quantity.textContent = hours ? form.dataset.hoursLabel : form.dataset.quantityLabel;
    price.textContent = hours ? form.dataset.rateLabel : form.dataset.priceLabel;
  }

  document.querySelectorAll("form[data-cf-line-form]").forEach(function (form) {
    var kind = form.querySelector("select[name=kind]");
    if (!kind) {
      return;
    }
    kind.addEventListener("change", function () {
      relabel(form);
    });
    relabel(form);
  });
})();
