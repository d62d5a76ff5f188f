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

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    // The session ended (the request was redirected to the login page): show that page whole
    // rather than inside the desk.
    if (xhr && xhr.responseURL && xhr.responseURL.indexOf("/login/") !== -1) {
      event.detail.shouldSwap = false;
      // Back to the desk itself after logging in, not to the POST-only step that was refused.
      window.location.assign(xhr.responseURL.split("?")[0] + "?next=" + encodeURIComponent(window.location.pathname));
      return;
    }
    // Refusals (4xx) are swapped in too: they carry the message to show in plain words.
    if (xhr && xhr.status >= 400 && xhr.status < 500) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
