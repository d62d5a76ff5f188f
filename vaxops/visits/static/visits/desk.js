/* The observation timers of the visit desk: a countdown to each release time, and the release
   button unlocked once it has passed (the server refuses an early release in any case). */
(function () {
  "use strict";
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-until].timer").forEach(function (el) {
      var left = Math.round((Date.parse(el.getAttribute("data-until")) - now) / 1000);
      if (left > 0) {
        el.textContent = pad(Math.floor(left / 60)) + ":" + pad(left % 60);
        el.classList.remove("timer-done");
      } else {
        el.textContent = "✓";
        el.classList.add("timer-done");
      }
    });
    document.querySelectorAll("button[data-release]").forEach(function (b) {
      b.disabled = Date.parse(b.getAttribute("data-until")) > now;
    });
  }
  tick();
  setInterval(tick, 1000);
  document.body.addEventListener("htmx:afterSwap", function () {
    tick();
    // After each step the ID number field is ready for the next person.
    var field = document.getElementById("id_number");
    if (field) { field.focus(); }
  });
})();
