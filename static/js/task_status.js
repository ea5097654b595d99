// A background task's page follows its task: every few seconds it reads the page again and
// swaps in the task's part, announced politely to screen readers, until the task has
// ended. Not a <meta> refresh: that reloads the whole page under the reader's eyes and
// focus, and cannot be stopped (WCAG 2.2.1); here a button stops it. Without JavaScript
// the page offers a plain link to look again.
(function () {
  "use strict";
  var region = document.querySelector("[data-task-status]");
  if (!region || !region.dataset.refreshS) { return; }
  var seconds = Number(region.dataset.refreshS) * 1000;
  var stop = document.querySelector("[data-task-stop]");
  var timer = null;

  function schedule() { timer = window.setTimeout(look, seconds); }

  function look() {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html")
          .querySelector("[data-task-status]");
        if (!fresh) { return; }
        region.innerHTML = fresh.innerHTML;
        if (fresh.dataset.refreshS) {
          schedule();
        } else {
          delete region.dataset.refreshS;
          if (stop) { stop.hidden = true; }
        }
      })
      .catch(function () { schedule(); });
  }

  if (stop) {
    stop.hidden = false;
    stop.addEventListener("click", function () {
      window.clearTimeout(timer);
      stop.hidden = true;
    });
  }
  schedule();
})();
