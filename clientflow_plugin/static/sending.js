// Copy-to-clipboard for the portal link field. Without JavaScript the field
// stays a read-only text box the owner selects and copies by hand.
(function () {
  "use strict";

  function fallbackCopy(input) {
    input.focus();
    input.select();
    try {
      return document.execCommand("copy");
    } catch (err) {
      return false;
    }
  }

  function announce(button, text) {
    var box = button.closest(".card");
    var status = box ? box.querySelector(".cf-copy-status") : null;
    if (status) {
      status.textContent = text;
    }
  }

  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    if (!input) {
      return;
    }
    var label = button.textContent;
    var copied = button.getAttribute("data-copied-label") || label;
    button.hidden = false;
    input.addEventListener("focus", function () {
      input.select();
    });
    button.addEventListener("click", function () {
      var done = function () {
        button.textContent = copied;
        announce(button, copied);
        window.setTimeout(function () {
          button.textContent = label;
        }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () {
          if (fallbackCopy(input)) {
            done();
          }
        });
      } else if (fallbackCopy(input)) {
        done();
      }
    });
  });
})();
