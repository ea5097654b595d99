/* The installer sheet: a print button, and the connection indicator that asks the
   server every 5 seconds until the device's first valid message has been stored. */
(function () {
  "use strict";
  var button = document.querySelector("[data-print]");
  if (button) {
    button.addEventListener("click", function () { window.print(); });
  }

  var indicator = document.querySelector("[data-connection-url]");
  if (!indicator || !window.fetch) { return; }
  var url = indicator.dataset.connectionUrl;
  var timer = null;

  function show(answer) {
    indicator.textContent = answer.label;
    indicator.className = "connection-status " + (answer.connected ? "connected" : "waiting");
  }

  function ask() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (!answer) { return; }
        show(answer);
        if (answer.connected && timer !== null) {
          window.clearInterval(timer);
          timer = null;
        }
      })
      .catch(function () { /* try again at the next tick */ });
  }

  ask();
  timer = window.setInterval(ask, 5000);
}());
