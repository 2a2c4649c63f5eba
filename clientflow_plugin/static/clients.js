// Clients pages: a changed select sends its form at once. Without this
// script every such form keeps its own submit button, so nothing is lost.
(function () {
  "use strict";
  document.documentElement.classList.add("cf-js");
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
