/* Inlined verbatim by report.html.j2, which jinja2 parses: never put a brace right before #, % or another brace. */
/* Report data is attacker-controlled: this script only reads attributes and textContent and only toggles
   `hidden` and `open`; it never builds markup. */
(function () {
  "use strict";

  var openedForPrint = [];
  window.addEventListener("beforeprint", function () {
    openedForPrint = Array.from(document.querySelectorAll("details:not([open])"));
    openedForPrint.forEach(function (details) { details.open = true; });
  });
  window.addEventListener("afterprint", function () {
    openedForPrint.forEach(function (details) { details.open = false; });
    openedForPrint = [];
  });

  var bar = document.getElementById("filters");
  var statusFilter = document.getElementById("filter-status");
  var textFilter = document.getElementById("filter-text");
  var shownCount = document.getElementById("filter-count");
  if (!bar || !statusFilter || !textFilter || !shownCount) {
    return;
  }
  var controls = Array.from(document.querySelectorAll("[data-control]"));
  var areas = Array.from(document.querySelectorAll("[data-area]"));

  function statusMatches(element, wanted) {
    return wanted === "" || element.getAttribute("data-status") === wanted;
  }

  function textMatches(element, words) {
    var text = element.textContent.toLowerCase();
    return words.every(function (word) { return text.indexOf(word) !== -1; });
  }

  function apply() {
    var wanted = statusFilter.value;
    var words = textFilter.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    controls.forEach(function (control) {
      var head = control.querySelector("[data-control-head]");
      var headMatches = head !== null && textMatches(head, words);
      var rowsShown = 0;
      control.querySelectorAll("[data-finding]").forEach(function (row) {
        var rowVisible = statusMatches(row, wanted) && (headMatches || textMatches(row, words));
        row.hidden = !rowVisible;
        if (rowVisible) {
          rowsShown += 1;
        }
      });
      var table = control.querySelector("table");
      if (table) {
        table.hidden = rowsShown === 0;
      }
      // A control without a matching finding stays visible when its own roll-up and text match.
      var visible = rowsShown > 0 || (statusMatches(control, wanted) && headMatches);
      control.hidden = !visible;
      if (visible) {
        shown += 1;
      }
    });
    areas.forEach(function (area) {
      area.hidden = area.querySelector("[data-control]:not([hidden])") === null;
    });
    shownCount.textContent = shown + " of " + controls.length + " shown";
  }

  statusFilter.addEventListener("change", apply);
  textFilter.addEventListener("input", apply);
  bar.hidden = false;
  apply();
})();
