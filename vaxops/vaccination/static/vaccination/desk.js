/* Site desk: keep the keyboard where the work is.
 * After every step HTMX replaces #desk-work; focus goes to the element the server marked with
 * autofocus (the ID number, the name, the vaccine choice, the record button, or the field with
 * an error). Esc returns to the ID number from anywhere on the desk, ready for the next scan.
 * On the card, the number keys choose a vaccine; Enter records only when a vaccine is chosen
 * (the form requires one, and none is chosen for a first dose); Enter after a scanned lot code
 * records with that lot. */
(function () {
  "use strict";

  function focusMarked() {
    var target = document.querySelector("#desk-work [autofocus]");
    if (target) {
      target.focus();
      if (target.classList.contains("id-input")) {
        target.select();
      }
    }
  }

  function isTextEntry(el) {
    if (!el) {
      return false;
    }
    var tag = el.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") {
      return true;
    }
    return tag === "INPUT" && ["radio", "checkbox", "button", "submit"].indexOf(el.type) === -1;
  }

  document.addEventListener("htmx:afterSettle", focusMarked);

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var input = document.getElementById("id_id_number");
      if (input) {
        event.preventDefault();
        input.focus();
        input.select();
      }
      return;
    }
    var active = document.activeElement;
    // A digit chooses the vaccine with that number on the card (unless typing in a field).
    if (/^[1-9]$/.test(event.key) && !event.ctrlKey && !event.metaKey && !event.altKey && !isTextEntry(active)) {
      var radio = document.querySelector('#dose-form input[name="product"][data-key="' + event.key + '"]');
      if (radio) {
        event.preventDefault();
        radio.focus();
        if (!radio.checked) {
          radio.click();
        }
      }
      return;
    }
    if (event.key === "Enter" && active && active.name === "product" && active.type === "radio") {
      // Enter on the vaccine choice records only when a vaccine is chosen and a record button
      // is shown; with nothing chosen it does nothing at all.
      event.preventDefault();
      var form = active.form;
      var chosen = form && form.querySelector('input[name="product"]:checked');
      var submit = form && form.querySelector('button[type="submit"][data-testid="record"]');
      if (chosen && submit && !submit.disabled) {
        form.requestSubmit(submit);
      }
      return;
    }
    if (event.key === "Enter" && active && active.id === "id_lot_code") {
      // A scanner ends the lot code with Enter: record with it. (After an HTMX swap the card's
      // no-script "Show eligibility" button is a real element and would be the default button.)
      event.preventDefault();
      var record = active.form && active.form.querySelector('button[type="submit"][data-testid="record"]');
      if (record && !record.disabled) {
        active.form.requestSubmit(record);
      }
      return;
    }
    if (event.key === "Enter" && active && active.id === "id_division_q") {
      // Enter in the division search picks the first match instead of sending the form.
      event.preventDefault();
      var first = document.querySelector('#division-results input[name="division_code"]');
      if (first) {
        first.checked = true;
        first.focus();
      }
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print-slip]");
    if (button) {
      event.preventDefault();
      window.print();
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
