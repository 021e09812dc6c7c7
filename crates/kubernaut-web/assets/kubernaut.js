// kubernaut's page script: shows every <time> in the reader's local time (UTC stays on hover).
// Pages work without it.
(function () {
  "use strict";
  function localize(root) {
    root.querySelectorAll("time[datetime]:not(.ago)").forEach(function (el) {
      var at = new Date(el.getAttribute("datetime"));
      if (isNaN(at.getTime())) return;
      el.textContent = at.toLocaleString(undefined, {
        year: "numeric", month: "short", day: "numeric",
        hour: "2-digit", minute: "2-digit", second: "2-digit"
      });
    });
    root.querySelectorAll("time.ago[datetime]").forEach(function (el) {
      var at = new Date(el.getAttribute("datetime"));
      if (isNaN(at.getTime())) return;
      el.title = at.toLocaleString() + " (" + el.title + ")";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { localize(document); });
  document.addEventListener("htmx:afterSwap", function (event) { localize(event.target); });
})();
