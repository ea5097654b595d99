/* Web push on this device: register the service worker (served at /sw.js), subscribe
   with the server's VAPID public key, and post the subscription to the site.
   The button stays hidden where the browser has no service workers or Push API. */
(function () {
  "use strict";

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4))
      .replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function say(text) {
    var status = document.getElementById("push-status");
    if (status) { status.textContent = text; }
  }

  async function enable(button) {
    var permission = await Notification.requestPermission();
    if (permission !== "granted") { say(button.dataset.denied); return; }
    await navigator.serviceWorker.register(button.dataset.workerUrl, { scope: "/" });
    var registration = await navigator.serviceWorker.ready;
    var subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(button.dataset.vapidKey)
    });
    var response = await fetch(button.dataset.subscribeUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(subscription.toJSON())
    });
    if (!response.ok) { throw new Error("subscribe " + response.status); }
    say(button.dataset.done);
    // The list of devices below comes from the server: show it with this one in it.
    window.location.reload();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("push-enable");
    if (!button || !("serviceWorker" in navigator) || !("PushManager" in window)) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      enable(button).catch(function () {
        say(button.dataset.failed);
      }).finally(function () { button.disabled = false; });
    });
  });
}());
