/* Live checks of identifiers (tax code, VAT number, IBAN, POD, PEC): a courtesy only.
   The server validates every form again; this asks the same validators while typing. */
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.dataset.url;
  if (!url || !window.fetch) { return; }

  function messageFor(input) {
    var id = input.id + "_live";
    var node = document.getElementById(id);
    if (!node) {
      node = document.createElement("div");
      node.id = id;
      node.className = "live-check";
      node.setAttribute("aria-live", "polite");
      input.insertAdjacentElement("afterend", node);
      var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      described.push(id);
      input.setAttribute("aria-describedby", described.join(" "));
    }
    return node;
  }

  function check(input) {
    var value = input.value.trim();
    var node = messageFor(input);
    if (!value) { node.textContent = ""; node.className = "live-check"; return; }
    var query = "?field=" + encodeURIComponent(input.dataset.check) +
      "&value=" + encodeURIComponent(value);
    fetch(url + query, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (!answer || answer.valid === null) { return; }
        node.textContent = answer.message;
        node.className = "live-check " + (answer.valid ? "ok" : "error");
        if (answer.valid) { input.removeAttribute("aria-invalid"); }
        else { input.setAttribute("aria-invalid", "true"); }
      })
      .catch(function () { /* the server checks on submit anyway */ });
  }

  document.querySelectorAll("input[data-check]").forEach(function (input) {
    input.addEventListener("change", function () { check(input); });
  });
})();
