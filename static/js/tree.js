// The organization tree: the WAI-ARIA tree pattern (roving tabindex, arrow keys) with
// children loaded on demand through htmx. No inline script: the CSP forbids it.
(function () {
  "use strict";

  function items(tree) {
    // Visible tree items, in document order (items inside collapsed groups are hidden).
    return Array.prototype.filter.call(tree.querySelectorAll('[role="treeitem"]'), function (el) {
      return !el.closest('[role="group"][hidden]');
    });
  }

  function focusItem(tree, item) {
    tree.querySelectorAll('[role="treeitem"][tabindex="0"]').forEach(function (el) {
      el.setAttribute("tabindex", "-1");
    });
    item.setAttribute("tabindex", "0");
    item.focus();
  }

  function group(item) {
    return item.querySelector(':scope > [role="group"]');
  }

  // What was expanded survives leaving the page and coming Back (and a reload): the
  // expanded orgs' ids, per page, in sessionStorage; they open again as their parents load.
  var STORE = "tree-open:" + location.pathname;

  function remembered() {
    try { return JSON.parse(sessionStorage.getItem(STORE) || "[]"); } catch (e) { return []; }
  }

  function remember(item, open) {
    var id = item.dataset.org;
    if (!id) return;
    var ids = remembered().filter(function (other) { return other !== id; });
    if (open) ids.push(id);
    try { sessionStorage.setItem(STORE, JSON.stringify(ids)); } catch (e) { /* private mode */ }
  }

  function reopen(root) {
    var ids = remembered();
    if (!ids.length) return;
    root.querySelectorAll('[role="treeitem"][aria-expanded="false"]').forEach(function (item) {
      if (ids.indexOf(item.dataset.org) !== -1) expand(item);
    });
  }

  function expand(item) {
    if (item.getAttribute("aria-expanded") !== "false") return;
    remember(item, true);
    var children = group(item);
    item.setAttribute("aria-expanded", "true");
    children.hidden = false;
    if (!item.dataset.loaded && item.dataset.childrenUrl) {
      item.dataset.loaded = "loading";
      item.setAttribute("aria-busy", "true");
      htmx.ajax("GET", item.dataset.childrenUrl, { target: children, swap: "innerHTML" }).then(
        function () { item.dataset.loaded = "yes"; item.removeAttribute("aria-busy"); reopen(children); },
        function () { delete item.dataset.loaded; item.removeAttribute("aria-busy"); }
      );
    }
  }

  function collapse(item) {
    if (item.getAttribute("aria-expanded") !== "true") return;
    remember(item, false);
    item.setAttribute("aria-expanded", "false");
    group(item).hidden = true;
  }

  function parentItem(item) {
    var parentGroup = item.parentElement.closest('[role="group"]');
    return parentGroup ? parentGroup.closest('[role="treeitem"]') : null;
  }

  function setUp(tree) {
    if (tree.dataset.treeReady) return;
    tree.dataset.treeReady = "yes";
    var first = tree.querySelector('[role="treeitem"]');
    if (first) first.setAttribute("tabindex", "0");
    reopen(tree);

    tree.addEventListener("click", function (event) {
      var twisty = event.target.closest(".twisty");
      if (!twisty) return;
      var item = twisty.closest('[role="treeitem"]');
      if (item.getAttribute("aria-expanded") === "true") collapse(item); else expand(item);
      focusItem(tree, item);
    });

    tree.addEventListener("keydown", function (event) {
      var item = event.target.closest('[role="treeitem"]');
      if (!item || event.target !== item) return;
      var visible = items(tree);
      var index = visible.indexOf(item);
      switch (event.key) {
        case "ArrowDown":
          if (index < visible.length - 1) focusItem(tree, visible[index + 1]);
          break;
        case "ArrowUp":
          if (index > 0) focusItem(tree, visible[index - 1]);
          break;
        case "ArrowRight":
          if (item.getAttribute("aria-expanded") === "false") expand(item);
          else if (item.getAttribute("aria-expanded") === "true") {
            var firstChild = group(item).querySelector('[role="treeitem"]');
            if (firstChild) focusItem(tree, firstChild);
          }
          break;
        case "ArrowLeft":
          if (item.getAttribute("aria-expanded") === "true") collapse(item);
          else { var up = parentItem(item); if (up) focusItem(tree, up); }
          break;
        case "Home":
          focusItem(tree, visible[0]);
          break;
        case "End":
          focusItem(tree, visible[visible.length - 1]);
          break;
        case "Enter":
          var link = item.querySelector(":scope > .tree-row a, :scope > a");
          if (link) link.click();
          break;
        default:
          return;
      }
      event.preventDefault();
    });
  }

  function init(root) {
    (root || document).querySelectorAll("[data-tree]").forEach(setUp);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.detail.elt.parentNode || document); });
})();
