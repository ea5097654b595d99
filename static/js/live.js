/* The live view: figures pushed by the server's event stream (EventSource), or, where
   the browser has no EventSource or the stream failed three times in a row, the JSON
   snapshot asked for every data-fallback-seconds. The server formats every number and
   date; this script only puts its texts in place. */
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root) { return; }
  var MAX_FAILURES = 3;
  var failures = 0;
  var polling = false;

  function setField(scope, name, text) {
    var element = scope.querySelector('[data-field="' + name + '"]');
    if (element) { element.textContent = text; }
  }

  function cell(text, className) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    td.textContent = text;
    return td;
  }

  function pointRow(point) {
    var row = document.createElement("tr");
    row.dataset.point = point.id;
    row.appendChild(cell(point.pod));
    row.appendChild(cell(point.holder));
    var injected = cell(point.injected, "num");
    injected.dataset.field = "injected";
    row.appendChild(injected);
    var withdrawn = cell(point.withdrawn, "num");
    withdrawn.dataset.field = "withdrawn";
    row.appendChild(withdrawn);
    var last = cell(point.last_sample);
    last.dataset.field = "last_sample";
    row.appendChild(last);
    var status = cell("");
    status.dataset.field = "status";
    if (point.status) {
      var badge = document.createElement("span");
      badge.className = "badge badge-not_met";
      badge.textContent = point.status;
      status.appendChild(badge);
    }
    row.appendChild(status);
    return row;
  }

  function render(data) {
    var figures = root.querySelector(".dash-stats");
    ["injected", "withdrawn", "shared"].forEach(function (name) {
      setField(figures, name, data[name]);
    });
    setField(root, "last_sample", data.last_sample);
    var body = root.querySelector(".live-points tbody");
    if (body && data.points && data.points.length) {
      var rows = document.createDocumentFragment();
      data.points.forEach(function (point) { rows.appendChild(pointRow(point)); });
      body.replaceChildren(rows);
    }
  }

  function poll() {
    fetch(root.dataset.snapshot, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { render(data); } })
      .catch(function () { /* the next poll tries again */ });
  }

  function fallBack() {
    if (polling) { return; }
    polling = true;
    root.querySelector(".live-mode").hidden = true;
    root.querySelector(".live-fallback").hidden = false;
    poll();
    window.setInterval(poll, Number(root.dataset.fallbackSeconds) * 1000);
  }

  if (!window.EventSource) {
    fallBack();
    return;
  }
  var source = new window.EventSource(root.dataset.stream);
  source.onopen = function () { failures = 0; };
  source.onmessage = function (event) { render(JSON.parse(event.data)); };
  source.onerror = function () {
    // The stream ends every two minutes and the browser reconnects (onopen resets the
    // count); errors without a successful reconnection in between are failures.
    failures += 1;
    if (failures >= MAX_FAILURES || source.readyState === window.EventSource.CLOSED) {
      source.close();
      fallBack();
    }
  };
}());
