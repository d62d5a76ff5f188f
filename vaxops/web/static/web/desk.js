/* Site desk: keep the keyboard where the work is.
 * After every step HTMX replaces #desk-work; focus goes to the element the server marked with
 * autofocus (the ID number, the name, the record button, or the field with an error).
 * Esc returns to the ID number from anywhere on the desk, ready for the next scan. */
(function () {
  "use strict";

  function focusMarked(root) {
    var target = (root || document).querySelector("#desk-work [autofocus]");
    if (target) {
      target.focus();
      if (target.classList.contains("id-input")) {
        target.select();
      }
    }
  }

  document.addEventListener("htmx:afterSettle", function () {
    focusMarked(document);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    var input = document.getElementById("id_id_number");
    if (input) {
      event.preventDefault();
      input.focus();
      input.select();
    }
  });

  // Errors (4xx/5xx) are swapped in too: they carry the message to show in plain words.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr && event.detail.xhr.status >= 400 && event.detail.xhr.status < 500) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
