/* Inlined verbatim by report.html.j2, which jinja2 parses: never put a brace right before #, % or another brace. */
/* Report data is attacker-controlled: this script only reads attributes and textContent, writes textContent
   and toggles `hidden` and `open`; it never builds markup. */
(function () {
  "use strict";

  var root = document.documentElement;
  // Past this many matching findings the filter leaves tables as they are rather than opening them all,
  // which would make the browser lay out tens of thousands of rows at once.
  var AUTO_OPEN_LIMIT = 500;
  var TEXT_DELAY_MS = 150;

  // Severities from least to most, as the report writes them; the filter shows a severity and those above it.
  var SEVERITY_RANK = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

  function byId(id) { return document.getElementById(id); }

  // Printing: everything, the failures only, or the one-page executive summary. The mode is an attribute the
  // stylesheet reads; the tables a mode prints are opened first and closed again afterwards.
  var openedForPrint = [];
  function openForPrint(mode) {
    var selector = mode === "failures" ?
      "[data-control] details[data-findings]:not([open])" : "details:not([open])";
    if (mode === "executive") {
      return;
    }
    Array.from(document.querySelectorAll(selector)).forEach(function (details) {
      var control = details.closest("[data-control]");
      if (mode === "failures" && control !== null && control.querySelector("tr[data-s=fail], tr[data-s=error]") === null) {
        return;
      }
      details.open = true;
      openedForPrint.push(details);
    });
  }
  function setPrintMode(mode) {
    if (mode) {
      root.setAttribute("data-print", mode);
    } else {
      root.removeAttribute("data-print");
    }
  }
  window.addEventListener("beforeprint", function () {
    openForPrint(root.getAttribute("data-print") || "all");
  });
  window.addEventListener("afterprint", function () {
    openedForPrint.forEach(function (details) { details.open = false; });
    openedForPrint = [];
    setPrintMode("");
  });
  var printActions = byId("print-actions");
  [["print-executive", "executive"], ["print-failures", "failures"], ["print-all", ""]].forEach(function (pair) {
    var button = byId(pair[0]);
    if (button) {
      button.addEventListener("click", function () {
        setPrintMode(pair[1]);
        window.print();
      });
    }
  });
  if (printActions) {
    printActions.hidden = false;
  }
  // A link ending in #print=failures or #print=executive opens the page laid out for that print.
  var printMatch = /^#print=(failures|executive)$/.exec(window.location.hash);
  if (printMatch) {
    setPrintMode(printMatch[1]);
    openForPrint(printMatch[1]);
  }

  var bar = byId("filters");
  var fields = {
    status: byId("filter-status"),
    severity: byId("filter-severity"),
    control: byId("filter-control"),
    subscription: byId("filter-subscription"),
    text: byId("filter-text")
  };
  var clearButton = byId("filter-clear");
  var countOutput = byId("filter-count");
  var note = byId("filter-note");
  if (!bar || !fields.status || !fields.severity || !fields.control || !fields.text || !clearButton || !countOutput || !note) {
    return;
  }

  var controls = null;
  var areas = null;
  var totalRows = 0;
  var wasActive = false;

  // Walking 50,000 rows costs little, but only once somebody filters: a report that is just read never pays it.
  function build() {
    var areaIndex = new Map();
    areas = Array.from(document.querySelectorAll("[data-area]")).map(function (element, index) {
      areaIndex.set(element, index);
      return { element: element, shown: true };
    });
    controls = Array.from(document.querySelectorAll("[data-control]")).map(function (element) {
      var severity = element.getAttribute("data-v") || "";
      var details = element.querySelector("details[data-findings]");
      var rows = [];
      var groups = [];
      var group = null;
      // Header rows (data-g) name the subscription the rows after them belong to.
      Array.from(details === null ? [] : details.querySelectorAll("tr[data-s], tr[data-g]")).forEach(function (row) {
        if (row.hasAttribute("data-g")) {
          group = { element: row, subscription: row.getAttribute("data-u") || "", text: null, shown: true, matched: 0 };
          groups.push(group);
          return;
        }
        rows.push({
          element: row,
          group: group,
          status: row.getAttribute("data-s"),
          severity: row.getAttribute("data-v") || severity,
          subscription: row.getAttribute("data-u") || (group === null ? "" : group.subscription),
          text: null,
          shown: true
        });
      });
      totalRows += rows.length;
      return {
        element: element,
        area: areaIndex.get(element.closest("[data-area]")),
        id: element.getAttribute("data-id") || "",
        status: element.getAttribute("data-status") || "",
        severity: severity,
        head: element.querySelector("[data-control-head]"),
        headText: null,
        details: details,
        defaultOpen: details !== null && details.open,
        label: element.querySelector("[data-shown]"),
        rows: rows,
        groups: groups,
        shown: true
      };
    });
  }

  function lowerText(element) {
    return element === null ? "" : element.textContent.toLowerCase();
  }

  function containsAll(text, words) {
    for (var i = 0; i < words.length; i += 1) {
      if (text.indexOf(words[i]) === -1) {
        return false;
      }
    }
    return true;
  }

  // Each word may be found in the control's header or in the row (its subscription header included).
  function eachWordIn(first, second, words) {
    for (var i = 0; i < words.length; i += 1) {
      if (first.indexOf(words[i]) === -1 && second.indexOf(words[i]) === -1) {
        return false;
      }
    }
    return true;
  }

  function rowText(row) {
    if (row.text === null) {
      if (row.group !== null && row.group.text === null) {
        row.group.text = lowerText(row.group.element);
      }
      row.text = (row.group === null ? "" : row.group.text + "\n") + lowerText(row.element);
    }
    return row.text;
  }

  function current() {
    return {
      status: fields.status.value,
      severity: fields.severity.value,
      control: fields.control.value,
      subscription: fields.subscription ? fields.subscription.value : "",
      words: fields.text.value.toLowerCase().split(/\s+/).filter(Boolean)
    };
  }

  function number(value) {
    return value.toLocaleString("en-US");
  }

  function describe(filter) {
    var parts = [];
    if (filter.status) { parts.push("status " + filter.status); }
    if (filter.severity) { parts.push("severity " + filter.severity + (filter.severity === "critical" ? "" : " and above")); }
    if (filter.control) { parts.push("control " + filter.control); }
    if (filter.subscription && fields.subscription) {
      parts.push("subscription " + fields.subscription.options[fields.subscription.selectedIndex].text);
    }
    if (filter.words.length) { parts.push("text \u201c" + filter.words.join(" ") + "\u201d"); }
    return parts.join(", ");
  }

  function atOrAbove(severity, threshold) {
    if (!threshold) {
      return true;
    }
    return (SEVERITY_RANK[severity] === undefined ? -1 : SEVERITY_RANK[severity]) >= SEVERITY_RANK[threshold];
  }

  // The address bar follows the filters, so a filtered view can be bookmarked or sent as a link.
  function toLocation(filter, active) {
    if (!window.history || !window.history.replaceState) {
      return;
    }
    var params = new URLSearchParams();
    if (filter.status) { params.set("status", filter.status); }
    if (filter.severity) { params.set("severity", filter.severity); }
    if (filter.control) { params.set("control", filter.control); }
    if (filter.subscription) { params.set("subscription", filter.subscription); }
    if (fields.text.value.trim()) { params.set("text", fields.text.value.trim()); }
    var hash = active ? "#filter?" + params.toString() : "";
    if (hash === window.location.hash || (!active && window.location.hash.indexOf("#filter?") !== 0)) {
      return;
    }
    try {
      window.history.replaceState(null, "", window.location.pathname + window.location.search + hash);
    } catch (error) {
      // A file: page in some browsers refuses history changes; the filters still apply.
    }
  }

  function setVisible(item, visible) {
    // Writing only what changed keeps a refilter of 50,000 rows from touching every one of them.
    if (item.shown !== visible) {
      item.element.hidden = !visible;
      item.shown = visible;
    }
  }

  function apply() {
    var filter = current();
    var active = Boolean(filter.status || filter.severity || filter.control || filter.subscription || filter.words.length);
    if (controls === null) {
      if (!active) {
        countOutput.textContent = "";
        return;
      }
      build();
    }
    var words = filter.words;
    var shownControls = 0;
    var shownRows = 0;
    var areaShown = areas.map(function () { return false; });
    controls.forEach(function (control) {
      var controlMatches = !filter.control || control.id === filter.control;
      var headMatches = true;
      if (words.length && controlMatches) {
        if (control.headText === null) {
          control.headText = lowerText(control.head);
        }
        headMatches = containsAll(control.headText, words);
      }
      var matched = 0;
      control.groups.forEach(function (group) { group.matched = 0; });
      control.rows.forEach(function (row) {
        var visible = controlMatches &&
          (!filter.status || row.status === filter.status) &&
          atOrAbove(row.severity, filter.severity) &&
          (!filter.subscription || row.subscription === filter.subscription);
        if (visible && !headMatches) {
          visible = eachWordIn(control.headText, rowText(row), words);
        }
        setVisible(row, visible);
        if (visible) {
          matched += 1;
          if (row.group !== null) {
            row.group.matched += 1;
          }
        }
      });
      control.groups.forEach(function (group) { setVisible(group, group.matched > 0); });
      // A control without a matching finding stays visible when its own roll-up, severity and text match.
      var visible = matched > 0 || (controlMatches && headMatches && !filter.subscription &&
        (!filter.status || control.status === filter.status) &&
        atOrAbove(control.severity, filter.severity));
      setVisible(control, visible);
      control.matched = matched;
      if (control.label !== null) {
        control.label.textContent = active ? "(" + number(matched) + " shown)" : "";
      }
      if (visible) {
        shownControls += 1;
        areaShown[control.area] = true;
      }
      shownRows += matched;
    });
    areas.forEach(function (area, index) { setVisible(area, areaShown[index]); });
    if (active && shownRows <= AUTO_OPEN_LIMIT) {
      controls.forEach(function (control) {
        if (control.details !== null && control.matched > 0) {
          control.details.open = true;
        }
      });
    } else if (!active && wasActive) {
      controls.forEach(function (control) {
        if (control.details !== null) {
          control.details.open = control.defaultOpen;
        }
      });
    }
    wasActive = active;
    toLocation(filter, active);
    var summary = number(shownControls) + " of " + number(controls.length) + " controls, " +
      number(shownRows) + " of " + number(totalRows) + " findings shown";
    countOutput.textContent = active ? summary : "";
    note.textContent = active ? "Filtered view (" + describe(filter) + "): " + summary + "." : "";
    note.hidden = !active;
  }

  function choose(select, wanted) {
    // Only a value the page offers is taken, so a crafted link cannot put anything else in the form.
    if (!select || wanted === null) {
      return;
    }
    for (var i = 0; i < select.options.length; i += 1) {
      var option = select.options[i];
      if (option.value === wanted || option.text === wanted) {
        select.selectedIndex = i;
        return;
      }
    }
  }

  // A link ending in #filter?status=fail&text=storage opens the report filtered.
  function fromLocation() {
    var hash = window.location.hash;
    if (hash.indexOf("#filter?") !== 0) {
      return false;
    }
    var params = new URLSearchParams(hash.slice("#filter?".length));
    choose(fields.status, params.get("status"));
    choose(fields.severity, params.get("severity"));
    choose(fields.control, params.get("control"));
    choose(fields.subscription, params.get("subscription"));
    fields.text.value = params.get("text") || "";
    return true;
  }

  var pending = 0;
  fields.text.addEventListener("input", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(apply, TEXT_DELAY_MS);
  });
  [fields.status, fields.severity, fields.control, fields.subscription].forEach(function (select) {
    if (select) {
      select.addEventListener("change", apply);
    }
  });
  clearButton.addEventListener("click", function () {
    [fields.status, fields.severity, fields.control, fields.subscription].forEach(function (select) {
      if (select) {
        select.value = "";
      }
    });
    fields.text.value = "";
    apply();
  });

  bar.hidden = false;
  var filtered = fromLocation();
  var started = performance.now();
  apply();
  // Reading a layout property makes the browser lay the page out now, so the figures below include it;
  // bench/report.py reads them from the rendered DOM.
  void document.body.offsetHeight;
  var ready = performance.now();
  if (filtered) {
    root.setAttribute("data-filter-ms", String(Math.round(ready - started)));
  }
  root.setAttribute("data-ready-ms", String(Math.round(ready)));
})();
