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

  // A page is loading (an htmx request is out): the top bar shows it after a short delay
  // (CSS), so quick answers don't flicker.
  var pending = 0;
  function loading(delta) {
    pending = Math.max(0, pending + delta);
    document.documentElement.classList.toggle("is-loading", pending > 0);
  }
  document.addEventListener("htmx:beforeSend", function () { loading(1); });
  ["htmx:afterRequest", "htmx:sendError", "htmx:timeout", "htmx:sendAbort"].forEach(function (name) {
    document.addEventListener(name, function () { loading(-1); });
  });

  // A link styled as a button (a destructive action that asks first) answers Space too.
  document.addEventListener("keydown", function (event) {
    var el = event.target;
    if (event.key === " " && el instanceof HTMLAnchorElement && el.getAttribute("role") === "button") {
      event.preventDefault();
      el.click();
    }
  });

  // Esc closes an open dropdown (the org switcher, the phone menu) and puts focus back on
  // its toggle.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = event.target.closest ? event.target.closest("details[open]") : null;
    open = open || document.querySelector("details.dropdown[open]");
    if (!open) return;
    open.removeAttribute("open");
    var summary = open.querySelector("summary");
    if (summary) summary.focus();
  });

  // Copy buttons (see the copy_button macro): shown only where they can work.
  function showCopyButtons(root) {
    if (!navigator.clipboard) return;
    root.querySelectorAll("[data-copy]").forEach(function (button) { button.hidden = false; });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = "value" in source && source.value !== undefined ? source.value : source.textContent;
    var label = button.textContent;
    navigator.clipboard.writeText(text.trim()).then(function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 2000);
    }, function () {
      button.textContent = "Select and copy";
    });
  });

  // A form shown again with errors: focus its summary, so it is seen and read out.
  function focusErrorSummary(root) {
    var summary = root.querySelector ? root.querySelector("[data-error-summary]") : null;
    if (summary) summary.focus();
  }

  document.addEventListener("htmx:load", function (event) { showCopyButtons(event.detail.elt); });
  // After htmx's own scrolling (a boosted swap scrolls to the top once it settles), so
  // the summary ends up in view.
  document.addEventListener("htmx:afterSettle", function (event) {
    var root = event.detail.elt;
    setTimeout(function () { focusErrorSummary(root); }, 0);
  });
  document.addEventListener("DOMContentLoaded", function () {
    showCopyButtons(document);
    focusErrorSummary(document);
  });
})();
