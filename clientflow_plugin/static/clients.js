// Clients pages. A changed select sends its form at once; without this
// script every such form keeps its own submit button, so nothing is lost.
(function () {
  "use strict";
  document.documentElement.classList.add("cf-js");

  // After a refused form, start where the first problem is.
  var invalid = document.querySelector("[aria-invalid=true]");
  if (invalid) {
    invalid.focus();
  }

  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("change", function (event) {
      if (event.target.tagName !== "SELECT") {
        return;
      }
      if (typeof form.requestSubmit === "function") {
        form.requestSubmit();
      } else {
        form.submit();
      }
    });
  });
})();
