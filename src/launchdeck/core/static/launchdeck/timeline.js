// Draws every element with data-timeline="<id of a json_script>" with vis-timeline: the consolidated release timeline.
// The data is the selectors' timeline contract: {start, end, today, groups, releases, freezes}. A release is one bar
// coloured by health; its phases are a strip along the bottom and its milestones and gates markers on that strip, all
// painted as backgrounds of one element, so that two thousand releases stay two thousand small DOM items. Tooltips are
// worked out on hover, for whatever is under the pointer.
(function () {
  "use strict";
  var DAY = 24 * 60 * 60 * 1000;
  // Zoom presets: the width of the visible window and the time axis' unit.
  var ZOOMS = {
    day: { days: 21, axis: { scale: "day", step: 1 } },
    week: { days: 91, axis: { scale: "week", step: 1 } },
    month: { days: 365, axis: { scale: "month", step: 1 } },
    quarter: { days: 730, axis: { scale: "month", step: 3 } },
  };
  var FREEZE_ROW = "freezes";
  var DATE = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric" });
  // Colours of the phase strip (by phase kind) and of the markers; the legend uses the same ones from timeline.css.
  var PHASE_COLOURS = {
    plan: "#6c757d", build: "#0d6efd", sit: "#6610f2", uat: "#a855f7",
    performance: "#d63384", staging: "#fd7e14", release: "#20c997", warranty: "#adb5bd",
  };
  var GATE_COLOURS = {
    open: ["#ffffff", "#212529"], passed: ["#198754", "#0f5132"],
    rejected: ["#dc3545", "#842029"], overridden: ["#fd7e14", "#984c0c"],
  };
  var MARKER = 10; // px: markers are 10 × 10 images
  var STRIP_TOP = 4;
  var STRIP_HEIGHT = 7;

  function day(text) {
    var parts = text.split("-");
    return new Date(Number(parts[0]), Number(parts[1]) - 1, Number(parts[2]));
  }
  function dayAfter(text) {
    var date = day(text);
    date.setDate(date.getDate() + 1);
    return date;
  }
  function midday(text) {
    var date = day(text);
    date.setHours(12);
    return date;
  }
  function shown(text) {
    return DATE.format(day(text));
  }
  function span(start, end) {
    return start === end ? shown(start) : shown(start) + " – " + shown(end);
  }
  function label(text) {
    return String(text).replace(/_/g, " ");
  }
  function capital(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
  }
  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function svg(body) {
    return 'url("data:image/svg+xml,' + encodeURIComponent(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" viewBox="0 0 10 10">' + body + "</svg>") + '")';
  }
  var MARKER_IMAGES = {
    milestone: svg('<path d="M5 .5 9.5 5 5 9.5 .5 5z" fill="#212529" stroke="#fff"/>'),
    deploy: svg('<path d="M5 .5 9.5 5 5 9.5 .5 5z" fill="#0d6efd" stroke="#fff"/>'),
    frozen: svg('<path d="M5 .3 9.7 5 5 9.7 .3 5z" fill="#dc3545" stroke="#ffc107" stroke-width="1.6"/>'),
  };
  Object.keys(GATE_COLOURS).forEach(function (status) {
    MARKER_IMAGES["gate-" + status] = svg('<circle cx="5" cy="5" r="3.8" fill="' + GATE_COLOURS[status][0] +
      '" stroke="' + GATE_COLOURS[status][1] + '" stroke-width="1.8"/>');
  });

  // Fractions (0–1) of a release bar: where a day starts, its middle, and the day after a date ends.
  function scale(release) {
    var first = day(release.start).getTime();
    var width = dayAfter(release.end).getTime() - first || DAY;
    return {
      at: function (date) { return Math.min(1, Math.max(0, (date.getTime() - first) / width)); },
      date: function (fraction) { return new Date(first + fraction * width); },
      width: width,
    };
  }
  function percent(fraction) {
    return (fraction * 100).toFixed(3) + "%";
  }

  // The phase strip, its progress and the markers of one release, as the background layers of one element.
  function releaseFrame(release) {
    var bar = scale(release);
    var phases = [];
    var done = [];
    (release.phases || []).forEach(function (phase) {
      var from = percent(bar.at(day(phase.start)));
      var to = percent(Math.max(bar.at(dayAfter(phase.end)), bar.at(day(phase.start)) + 0.004));
      var colour = (PHASE_COLOURS[phase.kind] || "#6c757d") + "99"; // 60% opaque: the bar's health shows through
      phases.push("transparent " + from, colour + " " + from, colour + " " + to, "transparent " + to);
      var fraction = Math.min(100, Math.max(0, phase.percent || 0)) / 100;
      if (fraction > 0) {
        var until = percent(bar.at(day(phase.start)) + (bar.at(dayAfter(phase.end)) - bar.at(day(phase.start))) * fraction);
        done.push("transparent " + from, "rgba(0, 0, 0, .35) " + from, "rgba(0, 0, 0, .35) " + until, "transparent " + until);
      }
    });
    var images = [];
    var positions = [];
    var sizes = [];
    // The marker's centre on the day: CSS places an image at p% of (width − image width), so shift it back.
    var place = function (fraction) {
      return "calc(" + percent(fraction) + " + " + (MARKER * fraction - MARKER / 2).toFixed(2) + "px) " + (STRIP_TOP + STRIP_HEIGHT / 2 - MARKER / 2) + "px";
    };
    (release.gates || []).forEach(function (gate) {
      images.push(MARKER_IMAGES["gate-" + gate.status] || MARKER_IMAGES["gate-open"]);
      positions.push(place(bar.at(midday(gate.date))));
      sizes.push(MARKER + "px " + MARKER + "px");
    });
    (release.milestones || []).forEach(function (milestone) {
      images.push(milestone.in_freeze ? MARKER_IMAGES.frozen : milestone.kind === "deploy" ? MARKER_IMAGES.deploy : MARKER_IMAGES.milestone);
      positions.push(place(bar.at(midday(milestone.date))));
      sizes.push(MARKER + "px " + MARKER + "px");
    });
    [done, phases].forEach(function (stops) {
      if (!stops.length) { return; }
      images.push("linear-gradient(to right, " + stops.join(", ") + ")");
      positions.push("0 " + STRIP_TOP + "px");
      sizes.push("100% " + STRIP_HEIGHT + "px");
    });
    var frame = element("div", "tl-frame");
    frame.style.backgroundImage = images.join(", ");
    frame.style.backgroundPosition = positions.join(", ");
    frame.style.backgroundSize = sizes.join(", ");
    return frame;
  }

  function releaseContent(release) {
    var content = element("span", "tl-label");
    if ((release.milestones || []).some(function (m) { return m.in_freeze; })) {
      var warning = element("i", "bi bi-exclamation-triangle-fill tl-warning");
      warning.setAttribute("aria-label", "Deploy inside a freeze");
      content.appendChild(warning);
    }
    content.appendChild(element("span", "tl-name", release.name));
    if (release.status !== "planned" && release.status !== "in_progress") {
      content.appendChild(element("span", "tl-status", label(release.status)));
    }
    return content;
  }

  function groupContent(group) {
    if (!group.url) { return element("span", "tl-group", group.label); }
    var link = element("a", "tl-group", group.label);
    link.href = group.url;
    return link;
  }

  function build(spec) {
    var groups = spec.groups.map(function (group, index) {
      return { id: group.id, content: groupContent(group), order: index };
    });
    var known = {};
    spec.groups.forEach(function (group) { known[group.id] = true; });
    var items = [];
    var releases = {};
    var freezes = {};
    var extra = false;
    // A train's own bar heads its row: on equal starts it comes before its children when the row is stacked.
    var ordered = spec.releases.slice().sort(function (a, b) {
      return a.start < b.start ? -1 : a.start > b.start ? 1 : (a.kind === "enterprise" ? 0 : 1) - (b.kind === "enterprise" ? 0 : 1);
    });
    ordered.forEach(function (release) {
      var rowIds = release.groups && release.groups.length ? release.groups : ["-"];
      rowIds.forEach(function (groupId) {
        if (!known[groupId]) { groupId = "-"; extra = true; }
        var id = "r" + release.id + "@" + groupId;
        releases[id] = release;
        items.push({
          id: id,
          group: groupId,
          type: "range",
          start: day(release.start),
          end: dayAfter(release.end),
          content: releaseContent(release),
          className: "tl-release tl-health-" + release.health + " tl-status-" + release.status + " tl-kind-" + release.kind,
          limitSize: false,
        });
      });
    });
    if (extra) { groups.push({ id: "-", content: element("span", "tl-group", "Other"), order: groups.length }); }
    // Freezes: shaded behind every row, and named in a row of their own at the top (overlapping ones stack there).
    if (spec.freezes.length) {
      groups.unshift({ id: FREEZE_ROW, content: element("span", "tl-group tl-group-freezes", "Freeze windows"), order: -1 });
    }
    spec.freezes.forEach(function (freeze, index) {
      var classes = "tl-freeze tl-freeze-" + (freeze.scope === "organisation" ? "organisation" : "scoped");
      freezes["f" + index] = freeze;
      items.push({ id: "fb" + index, type: "background", start: day(freeze.start), end: dayAfter(freeze.end), className: classes });
      items.push({
        id: "f" + index,
        group: FREEZE_ROW,
        type: "range",
        start: day(freeze.start),
        end: dayAfter(freeze.end),
        content: element("span", "tl-freeze-name", freeze.name),
        className: classes + " tl-freeze-bar",
      });
    });
    // Beyond the period asked for nothing was loaded: say so rather than look empty.
    var far = 20 * 366 * DAY;
    items.push({ id: "before", type: "background", start: new Date(day(spec.start).getTime() - far), end: day(spec.start), className: "tl-outside" });
    items.push({ id: "after", type: "background", start: dayAfter(spec.end), end: new Date(dayAfter(spec.end).getTime() + far), className: "tl-outside" });
    return { groups: groups, items: items, releases: releases, freezes: freezes };
  }

  // Tooltips: what is under the pointer, worked out when the pointer gets there.
  var tip = null;
  function tooltip() {
    if (!tip) {
      tip = element("div", "tl-tip");
      tip.setAttribute("role", "tooltip");
      document.body.appendChild(tip);
    }
    return tip;
  }
  function hideTip() {
    if (tip) { tip.style.display = "none"; }
  }
  function showTip(event, lines) {
    var box = tooltip();
    box.textContent = "";
    var heading = true;
    lines.forEach(function (line) {
      if (line === "") { box.appendChild(element("hr", "my-1")); heading = true; return; }
      box.appendChild(element(heading ? "strong" : "div", heading ? "d-block" : "", line));
      heading = false;
    });
    box.style.display = "block";
    var x = event.clientX + 14;
    var y = event.clientY + 16;
    if (x + box.offsetWidth > window.innerWidth - 8) { x = event.clientX - box.offsetWidth - 10; }
    if (y + box.offsetHeight > window.innerHeight - 8) { y = event.clientY - box.offsetHeight - 10; }
    box.style.left = Math.max(4, x) + "px";
    box.style.top = Math.max(4, y) + "px";
  }

  function underPointer(release, frame, event) {
    var rect = frame.getBoundingClientRect();
    if (!rect.width) { return null; }
    var bar = scale(release);
    var x = event.clientX - rect.left;
    var nearest = null;
    var best = MARKER / 2 + 2;
    (release.gates || []).forEach(function (gate) {
      var distance = Math.abs(bar.at(midday(gate.date)) * rect.width - x);
      if (distance <= best) { best = distance; nearest = "Gate " + gate.name + " · due " + shown(gate.date) + " · " + label(gate.status); }
    });
    (release.milestones || []).forEach(function (milestone) {
      var distance = Math.abs(bar.at(midday(milestone.date)) * rect.width - x);
      if (distance <= best) {
        best = distance;
        nearest = (milestone.in_freeze ? "⚠ " : "") + "Milestone " + milestone.name + " · " + shown(milestone.date) +
          (milestone.in_freeze ? " · deploy inside a deployment freeze" : "");
      }
    });
    if (nearest) { return nearest; }
    var when = bar.date(x / rect.width).getTime();
    var phase = (release.phases || []).filter(function (p) {
      return day(p.start).getTime() <= when && when < dayAfter(p.end).getTime();
    })[0];
    return phase ? "Phase " + phase.name + " · " + span(phase.start, phase.end) + " · " + (phase.percent || 0) + "% complete" : null;
  }

  function freezeLines(freeze) {
    return [
      freeze.name,
      capital(label(freeze.category)) + " freeze · " + (freeze.scope === "organisation" ? "whole organisation" : "some " + label(freeze.scope)),
      span(freeze.start, freeze.end),
    ];
  }

  function describe(timeline, data, target, event) {
    var box = target.closest(".vis-item");
    var item = box && box["vis-item"];
    if (!item) {
      // Between the bars: the freezes shaded at that day, if any.
      var where = timeline.getEventProperties(event);
      if (where.what !== "background" || !where.time) { return null; }
      var at = where.time.getTime();
      var lines = [];
      Object.keys(data.freezes).forEach(function (key) {
        var freeze = data.freezes[key];
        if (day(freeze.start).getTime() <= at && at < dayAfter(freeze.end).getTime()) {
          lines = lines.concat(lines.length ? [""] : [], freezeLines(freeze));
        }
      });
      return lines.length ? lines : null;
    }
    var freeze = data.freezes[item.id];
    if (freeze) { return freezeLines(freeze); }
    var release = data.releases[item.id];
    if (!release) { return null; }
    var lines = [
      release.name,
      capital(label(release.kind)) + " release · " + label(release.status),
      "Health " + release.health + (release.score !== undefined && release.score !== null ? " · risk " + release.score + " of 100" : ""),
      span(release.start, release.end),
    ];
    var frame = box.querySelector(".tl-frame");
    if (frame) {
      var rect = frame.getBoundingClientRect();
      if (event.clientY >= rect.top - 2) {
        var detail = underPointer(release, frame, event);
        if (detail) { lines.push(detail); }
      }
    }
    return lines;
  }

  function draw(container) {
    var source = document.getElementById(container.dataset.timeline);
    if (!source || !window.vis || container.timeline) { return; }
    var started = window.performance.now();
    var spec = JSON.parse(source.textContent);
    var data = build(spec);
    var top = container.getBoundingClientRect().top + window.scrollY;
    var timeline = new window.vis.Timeline(container, new window.vis.DataSet(data.items), new window.vis.DataSet(data.groups), {
      start: day(spec.start),
      end: dayAfter(spec.end),
      orientation: { axis: "top", item: "top" },
      stack: true,
      selectable: false,
      showCurrentTime: false,
      showTooltips: false,
      groupOrder: "order",
      margin: { item: { horizontal: 2, vertical: 4 }, axis: 4 },
      verticalScroll: true,
      zoomKey: "ctrlKey",
      maxHeight: Math.max(420, window.innerHeight - top - 24),
      zoomMin: 7 * DAY,
      zoomMax: 5 * 366 * DAY,
      locale: "en",
      // Ready (for people and tests) once the first drawing is on screen.
      onInitialDrawComplete: function () {
        container.dataset.ready = "true";
        container.dataset.drawMs = String(Math.round(window.performance.now() - started));
      },
      visibleFrameTemplate: function (item) {
        var release = data.releases[item.id];
        return release ? releaseFrame(release) : "";
      },
    });
    timeline.addCustomTime(midday(spec.today), "today");
    timeline.setCustomTimeMarker("Today", "today");
    timeline.on("click", function (properties) {
      var release = properties.item && data.releases[properties.item];
      if (release && release.url) { window.location.href = release.url; }
    });
    container.addEventListener("mousemove", function (event) {
      var lines = describe(timeline, data, event.target, event);
      if (lines) { showTip(event, lines); } else { hideTip(); }
    });
    container.addEventListener("mouseleave", hideTip);
    // A zoom preset fixes the axis' unit; zooming by hand (ctrl + wheel, pinch) lets the axis choose again.
    var presetZoom = false;
    timeline.on("rangechange", function (properties) {
      hideTip();
      if (properties.byUser && !presetZoom && properties.event && properties.event.type !== "panmove") {
        timeline.setOptions({ timeAxis: {} });
        markZoom(container, null);
      }
    });
    container.timeline = timeline;
    container.zoomTo = function (name) {
      var zoom = ZOOMS[name];
      if (!zoom) { return; }
      var visible = timeline.getWindow();
      var centre = (visible.start.getTime() + visible.end.getTime()) / 2;
      var half = (zoom.days * DAY) / 2;
      presetZoom = true;
      timeline.setOptions({ timeAxis: zoom.axis });
      timeline.setWindow(new Date(centre - half), new Date(centre + half), { animation: false });
      presetZoom = false;
      markZoom(container, name);
    };
    // Today: scroll down to the first row with a release under way today, and centre the day.
    var rowOrder = {};
    groupsOrder(data).forEach(function (id, index) { rowOrder[id] = index; });
    container.showToday = function () {
      var now = midday(spec.today).getTime();
      var first = null;
      Object.keys(data.releases).forEach(function (id) {
        var release = data.releases[id];
        if (day(release.start).getTime() > now || dayAfter(release.end).getTime() <= now) { return; }
        var order = rowOrder[id.slice(id.indexOf("@") + 1)];
        if (first === null || order < first.order) { first = { id: id, order: order }; }
      });
      if (first) { timeline.focus(first.id, { zoom: false, animation: false }); }
      timeline.moveTo(midday(spec.today), { animation: false });
    };

    container.dataset.items = String(Object.keys(data.releases).length);
  }

  function groupsOrder(data) {
    return data.groups.slice().sort(function (a, b) { return a.order - b.order; }).map(function (group) { return group.id; });
  }

  function markZoom(container, name) {
    document.querySelectorAll("[data-timeline-zoom]").forEach(function (button) {
      if (button.dataset.target !== container.id) { return; }
      var active = button.dataset.timelineZoom === name;
      button.classList.toggle("active", active);
      button.setAttribute("aria-pressed", active ? "true" : "false");
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("[data-timeline]").forEach(draw);
  }

  function destroyAll(root) {
    hideTip();
    (root || document).querySelectorAll("[data-timeline]").forEach(function (container) {
      if (container.timeline) { container.timeline.destroy(); container.timeline = null; }
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-timeline-zoom], [data-timeline-today]");
    if (!button) { return; }
    var container = document.getElementById(button.dataset.target);
    if (!container || !container.timeline) { return; }
    if (button.dataset.timelineZoom) { container.zoomTo(button.dataset.timelineZoom); }
    else { container.showToday(); }
  });
  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:beforeSwap", function (event) { destroyAll(event.detail.target); });
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target); });
  // htmx keeps a copy of the page for the back button: keep it without the drawing, and draw again on the way back.
  document.addEventListener("htmx:beforeHistorySave", function () { destroyAll(document); });
  document.addEventListener("htmx:historyRestore", function () { drawAll(document); });
})();
