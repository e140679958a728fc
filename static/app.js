// motcua — small enhancements; every page works without this file.
(function () {
  "use strict";
  // A form submits once: the button that sent it is disabled until the answer comes
  // (the server also refuses a second dossier from the same form).
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var button = ev.submitter;
    if (!button || !button.hasAttribute("data-once")) return;
    if (form.getAttribute("data-sent") === "1") { ev.preventDefault(); return; }
    form.setAttribute("data-sent", "1");
    // Disable after the browser has read the button's name and value.
    setTimeout(function () { button.setAttribute("aria-disabled", "true"); button.disabled = true; }, 0);
  });
  // The error summary takes the focus, so a screen reader reads it first.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
  // "In phiếu": the browser's print of the page, which prints the previewed form alone.
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });
  // The header clock follows the minute.
  var clock = document.querySelector(".top .clock");
  if (clock) {
    var days = ["Chủ nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"];
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    var tick = function () {
      // Vietnam time (+07:00, no daylight saving), whatever the computer's zone.
      var d = new Date(Date.now() + 7 * 3600 * 1000);
      clock.textContent = days[d.getUTCDay()] + ", " + two(d.getUTCDate()) + "/" + two(d.getUTCMonth() + 1) + "/" + d.getUTCFullYear() + " lúc " + two(d.getUTCHours()) + ":" + two(d.getUTCMinutes());
    };
    setInterval(tick, 15000);
  }
})();
