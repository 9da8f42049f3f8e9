// Small behaviours htmx doesn't cover. No inline scripts anywhere (the CSP forbids them).
(function () {
  "use strict";

  function flash(message) {
    var region = document.getElementById("flash-region");
    if (!region) return;
    var alert = document.createElement("div");
    alert.className = "alert alert-error";
    alert.setAttribute("role", "alert");
    alert.textContent = message;
    region.appendChild(alert);
  }

  // Every htmx request carries the current page's CSRF token. The body's hx-headers hold
  // the first page's, and signing in (a boosted form) starts a new session and token.
  document.addEventListener("htmx:configRequest", function (event) {
    var holder = document.querySelector("[data-csrf-token]");
    if (holder) event.detail.headers["X-CSRFToken"] = holder.getAttribute("data-csrf-token");
  });

  // The network failed (server down, offline): say so instead of doing nothing.
  document.addEventListener("htmx:sendError", function () {
    flash("The server could not be reached. Check your connection and try again.");
  });

  // A page that arrives through htmx is inert for a moment (until it settles): text typed
  // into a live search box then fires no request. Search for it once the box is live.
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail.elt;
    var selector = "input[type=search][hx-get]";
    var boxes = root.matches(selector) ? [root] : root.querySelectorAll(selector);
    boxes.forEach(function (box) {
      if (box.value !== box.defaultValue) htmx.trigger(box, "search");
    });
  });

  // Alerts in the flash region fade after a while; errors stay until the next action.
  document.addEventListener("htmx:beforeRequest", function () {
    var region = document.getElementById("flash-region");
    if (region) region.querySelectorAll(".alert-error").forEach(function (el) { el.remove(); });
  });
})();
