// The main menu behind a button on narrow screens (kept out of the HTML for the CSP).
// Without this script the button stays hidden and the menu stays open: nothing is lost.
(function () {
  "use strict";
  var button = document.querySelector(".menu-toggle");
  if (!button) { return; }
  var header = button.closest(".topbar");
  var menu = document.getElementById(button.getAttribute("aria-controls"));
  if (!header || !menu) { return; }

  function setOpen(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  header.classList.add("menu-ready");
  button.hidden = false;
  setOpen(false);
  button.addEventListener("click", function () {
    setOpen(button.getAttribute("aria-expanded") !== "true");
  });
  // Escape closes the open menu and gives the focus back to its button.
  menu.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      button.focus();
    }
  });
})();
