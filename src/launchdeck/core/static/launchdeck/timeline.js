// Draws every element with data-timeline="<id of a json_script>" with vis-timeline: the consolidated release timeline.
// The data is the selectors' timeline contract: {start, end, today, groups, releases, freezes}. A release is one bar
// coloured by health; its phases are a strip along the bottom and its milestones and gates markers on that strip, all
// painted as backgrounds of one element, so that two thousand releases stay two thousand small DOM items. Tooltips are
// worked out on hover, for whatever is under the pointer.
//
// Reschedule mode (for people who may reschedule): clicking a release shows its phases as draggable items in a row
// of their own under the release's row. Dropping a phase (snapped to whole days), or typing its new start in the side
// panel, asks the server what else would move (`/releases/schedule/preview/`); the panel shows that impact with Apply
// and Cancel. Cancel puts the phase back; Apply writes the change and the timeline reloads its data in place.
// The forecast button asks for the P85 forecasts of the open releases on screen and marks them on their bars.
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
  var PHASE_ROW = "phases-of-"; // + the release's id: a row of its own each time (vis-timeline mislays a reused one)
  var FORECAST_MOST = 60; // releases whose forecast one click asks for (a Monte Carlo run each, on the server)
  var CLOSED = { released: true, cancelled: true };
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

  var day = window.LaunchdeckTimeline.day;
  var dayAfter = window.LaunchdeckTimeline.dayAfter;
  var element = window.LaunchdeckTimeline.element;
  function midday(text) {
    var date = day(text);
    date.setHours(12);
    return date;
  }
  function iso(date) {
    var month = String(date.getMonth() + 1).padStart(2, "0");
    return date.getFullYear() + "-" + month + "-" + String(date.getDate()).padStart(2, "0");
  }
  // Dragging snaps to whole days: the nearest midnight.
  function wholeDay(date) {
    var when = new Date(date);
    var midnight = new Date(when.getFullYear(), when.getMonth(), when.getDate());
    var next = new Date(when.getFullYear(), when.getMonth(), when.getDate() + 1);
    return when - midnight < next - when ? midnight : next;
  }
  function daysBetween(from, to) {
    return Math.round((day(to).getTime() - day(from).getTime()) / DAY);
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
    if (release.forecast) { frame.appendChild(forecastMarker(release)); }
    return frame;
  }

  // The P85 forecast end: a tick on the strip, with a dashed whisker from the bar's end when that is later.
  function forecastMarker(release) {
    var first = day(release.start).getTime();
    var width = dayAfter(release.end).getTime() - first || DAY;
    var at = (dayAfter(release.forecast.p85).getTime() - first) / width;
    var late = release.forecast.p85 > release.end;
    var marker = element("span", "tl-forecast" + (late ? " tl-forecast-late" : ""));
    marker.style.left = late ? "100%" : percent(Math.max(0, at));
    marker.style.width = late ? percent(at - 1) : "0";
    marker.style.top = (STRIP_TOP + STRIP_HEIGHT / 2 - 1) + "px";
    return marker;
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
    var classes = {};
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
        classes[id] = "tl-release tl-health-" + release.health + " tl-status-" + release.status + " tl-kind-" + release.kind;
        items.push({
          id: id,
          group: groupId,
          type: "range",
          start: day(release.start),
          end: dayAfter(release.end),
          content: releaseContent(release),
          className: classes[id],
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
    return { groups: groups, items: items, releases: releases, classes: classes, freezes: freezes };
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

  function shiftWords(days) {
    if (!days) { return "no shift"; }
    return (days > 0 ? "+" : "−") + Math.abs(days) + " working day" + (Math.abs(days) === 1 ? "" : "s");
  }

  function describe(state, target, event) {
    var data = state.data;
    var box = target.closest(".vis-item");
    var item = box && box["vis-item"];
    if (!item) {
      // Between the bars: the freezes shaded at that day, if any.
      var where = state.timeline.getEventProperties(event);
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
    var phase = state.phases[item.id];
    if (phase) { return phaseLines(state, phase); }
    var release = data.releases[item.id];
    if (!release) { return null; }
    var lines = [
      release.name,
      capital(label(release.kind)) + " release · " + label(release.status),
      "Health " + release.health + (release.score !== undefined && release.score !== null ? " · risk " + release.score + " of 100" : ""),
      span(release.start, release.end),
    ];
    if (release.forecast) {
      lines.push("Forecast end: P50 " + shown(release.forecast.p50) + " · P85 " + shown(release.forecast.p85) + " · " +
        Math.round(release.forecast.probability_on_time * 100) + "% chance of ending by " + shown(release.end));
    }
    var moving = state.preview && state.preview.releases[release.id];
    if (moving) {
      lines.push("If applied: " + span(moving.new_start, moving.new_end) + " (start " + shiftWords(moving.start_shift_days) +
        ", end " + shiftWords(moving.end_shift_days) + ")");
    }
    if (state.rescheduling && !(state.selected && state.selected.release === release)) { lines.push("Click to show its phases and move them"); }
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

  function phaseLines(state, phase) {
    var lines = ["Phase " + phase.name + " of " + state.selected.release.name, span(phase.start, phase.end)];
    var moved = state.pending && state.pending.phase === phase ? state.pending : null;
    if (moved) { lines.push("Moved to start on " + shown(moved.start)); }
    if (state.selected.closed) { lines.push("Its release is " + state.selected.release.status + ": its dates are history."); }
    else if (!moved) { lines.push("Drag it to a new start, or type the date in the panel"); }
    return lines;
  }

  // Reschedule mode ------------------------------------------------------------------------------------------------

  var rescheduling = false; // outlives the timeline's body, which the filters swap
  var forecasting = false;

  function panelOf(container) {
    return document.querySelector('[data-schedule-panel][data-target="' + container.id + '"]');
  }

  function markButtons(selector, container, on) {
    document.querySelectorAll(selector).forEach(function (button) {
      if (button.dataset.target !== container.id || !button.hasAttribute("aria-pressed")) { return; }
      button.classList.toggle("active", on);
      button.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  function setRescheduling(container, on) {
    var state = container.state;
    var panel = panelOf(container);
    if (!state || !panel) { return; }
    rescheduling = on;
    state.rescheduling = on;
    if (!on) { unselect(container); }
    panel.hidden = !on;
    container.classList.toggle("tl-rescheduling", on);
    var layout = container.closest(".ld-timeline-layout");
    if (layout) { layout.classList.toggle("is-rescheduling", on); }
    markButtons("[data-timeline-reschedule]", container, on);
    container.dataset.rescheduling = on ? "true" : "false";
    // The timeline narrows or widens with the panel: measure again now rather than on vis-timeline's next check.
    window.requestAnimationFrame(function () { if (state.timeline) { state.timeline.redraw(); } });
  }

  // A phase as an item of the phase row; each phase has a line of its own there (a subgroup), as in a Gantt chart.
  function phaseItem(state, phase, closed, index) {
    var content = element("span", "tl-phase-name", phase.name);
    return {
      id: "p" + phase.id,
      group: PHASE_ROW + state.selected.release.id,
      subgroup: "s" + index,
      position: index,
      type: "range",
      start: day(phase.start),
      end: dayAfter(phase.end),
      content: content,
      className: "tl-phase-item tl-phase-" + phase.kind + (closed ? " tl-phase-fixed" : ""),
      editable: closed ? false : { updateTime: true, updateGroup: false, remove: false },
    };
  }

  // Show the phases of the release behind `itemId` in a row under its own, and list them in the panel.
  function select(container, itemId) {
    var state = container.state;
    var release = state.data.releases[itemId];
    if (!release || state.selected && state.selected.itemId === itemId) { return; }
    unselect(container);
    var groupId = itemId.slice(itemId.indexOf("@") + 1);
    var parent = state.groups.get(groupId);
    var closed = !!CLOSED[release.status];
    state.selected = { release: release, itemId: itemId, closed: closed };
    state.phases = {};
    (release.phases || []).forEach(function (phase) { state.phases["p" + phase.id] = phase; });
    var heading = element("span", "tl-group tl-group-phases");
    var arrow = element("i", "bi bi-arrow-return-right");
    arrow.setAttribute("aria-hidden", "true");
    heading.appendChild(arrow);
    heading.appendChild(document.createTextNode(" Phases of " + release.name));
    state.groups.add({
      id: PHASE_ROW + release.id,
      content: heading,
      order: (parent ? parent.order : 0) + 0.5,
      className: "tl-phase-row",
      subgroupStack: true,
      subgroupOrder: "position",
    });
    var items = (release.phases || []).map(function (phase, index) { return phaseItem(state, phase, closed, index); });
    state.items.add(items);
    // Bring the phases into view: the time line centred on them (at the same zoom), scrolled down to the last one.
    if (items.length) {
      state.timeline.focus(items.map(function (item) { return item.id; }).reverse(), { zoom: false, animation: false });
    }
    state.items.update({ id: itemId, className: state.data.classes[itemId] + " tl-selected" + movingClass(state, release) });
    container.dataset.selected = String(release.id);
    fillPanel(container, release, closed);
  }

  // Hide the selected release's phases again (a pending move goes back); `keepAnswer` keeps what the panel says.
  function unselect(container, keepAnswer) {
    var state = container.state;
    if (!state || !state.selected) { return; }
    clearPreview(container, { revert: true });
    var itemId = state.selected.itemId;
    state.items.remove(Object.keys(state.phases));
    state.groups.remove(PHASE_ROW + state.selected.release.id);
    if (state.items.get(itemId)) { state.items.update({ id: itemId, className: state.data.classes[itemId] }); }
    state.selected = null;
    state.phases = {};
    delete container.dataset.selected;
    var panel = panelOf(container);
    if (panel) {
      panel.querySelector("[data-schedule-release]").hidden = true;
      panel.querySelector("[data-schedule-intro]").hidden = false;
      if (!keepAnswer) { panel.querySelector("[data-schedule-result]").textContent = ""; }
    }
  }

  function fillPanel(container, release, closed) {
    var panel = panelOf(container);
    if (!panel) { return; }
    panel.querySelector("[data-schedule-intro]").hidden = true;
    var box = panel.querySelector("[data-schedule-release]");
    box.hidden = false;
    var link = box.querySelector("[data-schedule-release-link]");
    link.textContent = release.name;
    link.href = release.url;
    box.querySelector("[data-schedule-release-dates]").textContent = span(release.start, release.end) + " · " + label(release.status);
    var note = box.querySelector("[data-schedule-closed]");
    note.hidden = !closed;
    note.textContent = closed ? release.name + " is " + release.status + ": its dates are history." : "";
    var list = box.querySelector("[data-schedule-phases]");
    list.textContent = "";
    if (!(release.phases || []).length) {
      list.appendChild(element("li", "text-body-secondary", "This release has no phases."));
    }
    var result = panel.querySelector("[data-schedule-result]");
    (release.phases || []).forEach(function (phase) {
      var row = element("li", "ld-schedule-phase d-flex align-items-center gap-2");
      row.dataset.phase = String(phase.id);
      var about = element("div", "flex-grow-1 text-truncate");
      about.appendChild(element("span", "legend-swatch tl-phase tl-phase-" + phase.kind));
      var name = element("label", "fw-semibold ms-1", phase.name);
      name.htmlFor = "schedule-start-" + phase.id;
      name.appendChild(element("span", "visually-hidden", " — new start"));
      about.appendChild(name);
      var dates = element("div", "text-body-secondary", span(phase.start, phase.end));
      dates.id = "schedule-dates-" + phase.id;
      about.appendChild(dates);
      row.appendChild(about);
      var form = element("form", "input-group input-group-sm flex-nowrap ld-schedule-phase-form");
      form.dataset.phase = String(phase.id);
      form.setAttribute("hx-post", panel.dataset.previewUrl);
      form.setAttribute("hx-target", "#" + result.id);
      form.setAttribute("hx-swap", "innerHTML");
      var item = element("input");
      item.type = "hidden";
      item.name = "item";
      item.value = "phase:" + phase.id;
      form.appendChild(item);
      var input = element("input", "form-control");
      input.type = "date";
      input.name = "new_start";
      input.required = true;
      input.id = "schedule-start-" + phase.id;
      input.value = phase.start;
      input.setAttribute("aria-describedby", dates.id);
      input.disabled = closed;
      form.appendChild(input);
      var button = element("button", "btn btn-outline-primary", "Preview");
      button.type = "submit";
      button.disabled = closed;
      button.setAttribute("aria-label", "Preview the new start of " + phase.name);
      form.appendChild(button);
      row.appendChild(form);
      list.appendChild(row);
    });
    if (window.htmx) { window.htmx.process(list); }
  }

  // A phase dropped at a new start (or typed): it stays there, marked, while the server works out the impact.
  function propose(container, phase, start) {
    var state = container.state;
    if (state.pending && state.pending.phase !== phase) { clearPreview(container, { revert: true }); }
    var length = dayAfter(phase.end).getTime() - day(phase.start).getTime();
    state.pending = { phase: phase, start: start };
    state.items.update({ id: "p" + phase.id, start: day(start), end: new Date(day(start).getTime() + length), className: phaseClass(state, phase) + " tl-phase-moved" });
    var form = panelOf(container).querySelector('form[data-phase="' + phase.id + '"]');
    form.querySelector('input[name="new_start"]').value = start;
    container.dataset.previewing = "true";
    form.requestSubmit();
  }

  function phaseClass(state, phase) {
    return "tl-phase-item tl-phase-" + phase.kind + (state.selected && state.selected.closed ? " tl-phase-fixed" : "");
  }

  function movingClass(state, release) {
    return state.preview && state.preview.releases[release.id] ? " tl-would-move" : "";
  }

  // Show on the timeline what the preview says: where the changed phase lands, which bars would move.
  function showPreview(container, preview) {
    var state = container.state;
    var releases = {};
    (preview.releases || []).forEach(function (release) { releases[release.id] = release; });
    clearPreview(container, { revert: false });
    state.preview = { item: preview.item, releases: releases };
    // The release's other phases that move along, where they would go (put back with the preview).
    Object.keys(preview.phases || {}).forEach(function (id) {
      var along = state.phases["p" + id];
      if (!along || state.pending && state.pending.phase === along) { return; }
      var dates = preview.phases[id];
      state.along.push(along);
      state.items.update({ id: "p" + id, start: day(dates[0]), end: dayAfter(dates[1]), className: phaseClass(state, along) + " tl-phase-along" });
    });
    var phase = state.phases["p" + String(preview.item).split(":")[1]];
    if (phase && preview.new_start) {
      state.pending = { phase: phase, start: preview.new_start };
      state.items.update({ id: "p" + phase.id, start: day(preview.new_start), end: dayAfter(preview.new_end), className: phaseClass(state, phase) + " tl-phase-moved" });
      var input = panelOf(container).querySelector("#schedule-start-" + phase.id);
      if (input) { input.value = preview.new_start; }
    }
    markMoving(container);
  }

  function markMoving(container) {
    var state = container.state;
    Object.keys(state.data.releases).forEach(function (id) {
      var release = state.data.releases[id];
      var moving = movingClass(state, release);
      var selected = state.selected && state.selected.itemId === id ? " tl-selected" : "";
      if (moving || selected || state.marked[id]) {
        state.items.update({ id: id, className: state.data.classes[id] + selected + moving });
        state.marked[id] = !!moving;
      }
    });
  }

  // Forget the preview; with `revert`, the phase that was moved goes back to where it was.
  function clearPreview(container, options) {
    var state = container.state;
    state.along.forEach(function (phase) {
      if (state.items.get("p" + phase.id)) {
        state.items.update({ id: "p" + phase.id, start: day(phase.start), end: dayAfter(phase.end), className: phaseClass(state, phase) });
      }
    });
    state.along = [];
    if (options.revert && state.pending) {
      var phase = state.pending.phase;
      if (state.items.get("p" + phase.id)) {
        state.items.update({ id: "p" + phase.id, start: day(phase.start), end: dayAfter(phase.end), className: phaseClass(state, phase) });
      }
      var panel = panelOf(container);
      var input = panel && panel.querySelector("#schedule-start-" + phase.id);
      if (input) { input.value = phase.start; }
      state.pending = null;
    }
    if (state.preview) {
      state.preview = null;
      markMoving(container);
    }
    delete container.dataset.previewing;
  }

  function cancel(container) {
    clearPreview(container, { revert: true });
    var panel = panelOf(container);
    if (panel) { panel.querySelector("[data-schedule-result]").textContent = ""; }
  }

  // After an applied change: the timeline's data again (same filters), drawn in place, the same release selected.
  function reload(container) {
    var state = container.state;
    var selected = state.selected && state.selected.itemId;
    state.pending = null;
    state.preview = null;
    state.along = [];
    container.dataset.reloading = "true";
    return window.fetch(window.location.href, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("The timeline could not be reloaded (" + response.status + ")."); }
        return response.text();
      })
      .then(function (html) {
        var fresh = new window.DOMParser().parseFromString(html, "text/html").getElementById(container.dataset.timeline);
        if (!fresh) { return; }
        document.getElementById(container.dataset.timeline).textContent = fresh.textContent;
        unselect(container, true);
        var forecasts = {};
        Object.keys(state.data.releases).forEach(function (id) {
          var release = state.data.releases[id];
          if (release.forecast) { forecasts[release.id] = release.forecast; }
        });
        state.spec = JSON.parse(fresh.textContent);
        state.data = build(state.spec);
        state.marked = {};
        state.spec.releases.forEach(function (release) {
          // A forecast of dates that moved is out of date: ask again below.
          if (forecasts[release.id] && forecasts[release.id].planned_end === release.end) { release.forecast = forecasts[release.id]; }
        });
        state.items.clear();
        state.groups.clear();
        state.groups.add(state.data.groups);
        state.items.add(state.data.items);
        container.dataset.items = String(Object.keys(state.data.releases).length);
        if (selected && state.data.releases[selected]) { select(container, selected); }
        if (forecasting) { loadForecasts(container); }
      })
      .catch(function (error) {
        var panel = panelOf(container);
        if (panel) { panel.querySelector("[data-schedule-result]").appendChild(element("div", "alert alert-warning small mt-2", error.message)); }
      })
      .then(function () { delete container.dataset.reloading; });
  }

  // Forecasts: asked for on demand, for the open releases in view first.
  function loadForecasts(container) {
    var state = container.state;
    var button = document.querySelector('[data-timeline-forecast][data-target="' + container.id + '"]');
    if (!button) { return; }
    var visible = state.timeline.getWindow();
    var wanted = [];
    var seen = {};
    var open = state.spec.releases.filter(function (release) { return !CLOSED[release.status] && !release.forecast; });
    open.sort(function (a, b) {
      var inA = day(a.start) < visible.end && dayAfter(a.end) > visible.start ? 0 : 1;
      var inB = day(b.start) < visible.end && dayAfter(b.end) > visible.start ? 0 : 1;
      return inA - inB;
    });
    open.forEach(function (release) {
      if (wanted.length < FORECAST_MOST && !seen[release.id]) { seen[release.id] = true; wanted.push(release.id); }
    });
    if (!wanted.length) { redrawForecasts(container); return; }
    var query = wanted.map(function (id) { return "release=" + id; }).join("&");
    container.dataset.forecasting = "loading";
    window.fetch(button.dataset.url + "?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        var forecasts = answer.forecasts || {};
        state.spec.releases.forEach(function (release) {
          if (forecasts[release.id]) { release.forecast = forecasts[release.id]; }
        });
        redrawForecasts(container);
        container.dataset.forecasting = "done";
      })
      .catch(function () { container.dataset.forecasting = "failed"; });
  }

  function redrawForecasts(container) {
    var state = container.state;
    var updates = [];
    Object.keys(state.data.releases).forEach(function (id) {
      var release = state.data.releases[id];
      if (!forecasting && release.forecast) { release.forecast = null; }
      updates.push({ id: id, forecast: forecasting && release.forecast ? release.forecast.p85 : null });
    });
    state.items.update(updates);
  }

  function draw(container) {
    var source = document.getElementById(container.dataset.timeline);
    if (!source || !window.vis || container.timeline) { return; }
    var started = window.performance.now();
    var spec = JSON.parse(source.textContent);
    var state = {
      spec: spec, data: build(spec), phases: {}, along: [], marked: {}, selected: null, pending: null, preview: null, rescheduling: false,
    };
    var top = container.getBoundingClientRect().top + window.scrollY;
    state.items = new window.vis.DataSet(state.data.items);
    state.groups = new window.vis.DataSet(state.data.groups);
    var pointer = null;
    var timeline = new window.vis.Timeline(container, state.items, state.groups, {
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
      // Only the phases shown in Reschedule mode are editable (each says so); they move whole, by whole days.
      itemsAlwaysDraggable: { item: true, range: false },
      snap: wholeDay,
      onMoving: function (item, callback) {
        var phase = state.phases[item.id];
        state.dragging = true;
        if (phase && pointer) {
          var start = iso(item.start);
          showTip(pointer, ["Phase " + phase.name, "New start " + shown(start) + " (" + (daysBetween(phase.start, start) >= 0 ? "+" : "−") +
            Math.abs(daysBetween(phase.start, start)) + " calendar days)", "Drop to see what else moves"]);
        }
        callback(item);
      },
      onMove: function (item, callback) {
        var phase = state.phases[item.id];
        var start = iso(item.start);
        state.dragging = false;
        hideTip();
        if (!phase) { callback(null); return; }
        if (start === phase.start) {
          // Back where it was: nothing to preview.
          callback(null);
          if (state.pending && state.pending.phase === phase) { cancel(container); }
          return;
        }
        callback(item);
        propose(container, phase, start);
      },
      // Ready (for people and tests) once the first drawing is on screen.
      onInitialDrawComplete: function () {
        container.dataset.ready = "true";
        container.dataset.drawMs = String(Math.round(window.performance.now() - started));
      },
      visibleFrameTemplate: function (item) {
        var release = state.data.releases[item.id];
        return release ? releaseFrame(release) : "";
      },
    });
    state.timeline = timeline;
    container.state = state;
    timeline.addCustomTime(midday(spec.today), "today");
    timeline.setCustomTimeMarker("Today", "today");
    timeline.on("click", function (properties) {
      var release = properties.item && state.data.releases[properties.item];
      if (!release) { return; }
      if (state.rescheduling) { select(container, properties.item); }
      else if (release.url) { window.location.href = release.url; }
    });
    container.addEventListener("mousemove", function (event) {
      pointer = { clientX: event.clientX, clientY: event.clientY };
      if (state.dragging || event.buttons) { return; }
      var lines = describe(state, event.target, event);
      if (lines) { showTip(event, lines); } else { hideTip(); }
    });
    container.addEventListener("mouseleave", hideTip);
    // vis-timeline scrolls rows by moving their content; a browser scrolling that panel itself (find in page, an
    // element scrolled into view) would put the rows out of line with their labels: undo it.
    var centre = container.querySelector(".vis-panel.vis-center");
    if (centre) {
      centre.addEventListener("scroll", function () { if (centre.scrollTop) { centre.scrollTop = 0; } });
    }
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
    container.showToday = function () {
      var rowOrder = {};
      groupsOrder(state.data).forEach(function (id, index) { rowOrder[id] = index; });
      var now = midday(spec.today).getTime();
      var first = null;
      Object.keys(state.data.releases).forEach(function (id) {
        var release = state.data.releases[id];
        if (day(release.start).getTime() > now || dayAfter(release.end).getTime() <= now) { return; }
        var order = rowOrder[id.slice(id.indexOf("@") + 1)];
        if (first === null || order < first.order) { first = { id: id, order: order }; }
      });
      if (first) { timeline.focus(first.id, { zoom: false, animation: false }); }
      timeline.moveTo(midday(spec.today), { animation: false });
    };

    container.dataset.items = String(Object.keys(state.data.releases).length);
    if (rescheduling) { setRescheduling(container, true); }
    if (forecasting) { markButtons("[data-timeline-forecast]", container, true); loadForecasts(container); }
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
      if (container.timeline) { container.timeline.destroy(); container.timeline = null; container.state = null; }
    });
  }

  function containerOf(element) {
    var panel = element.closest("[data-schedule-panel]");
    return panel ? document.getElementById(panel.dataset.target) : null;
  }

  document.addEventListener("click", function (event) {
    var cancelButton = event.target.closest("[data-schedule-cancel]");
    if (cancelButton) {
      var owner = containerOf(cancelButton);
      if (owner && owner.state) { cancel(owner); }
      return;
    }
    var button = event.target.closest("[data-timeline-zoom], [data-timeline-today], [data-timeline-reschedule], [data-timeline-forecast]");
    if (!button) { return; }
    var container = document.getElementById(button.dataset.target);
    if (!container || !container.timeline) { return; }
    if (button.dataset.timelineZoom) { container.zoomTo(button.dataset.timelineZoom); }
    else if (button.hasAttribute("data-timeline-reschedule")) {
      setRescheduling(container, button.hasAttribute("aria-pressed") ? !container.state.rescheduling : false);
    } else if (button.hasAttribute("data-timeline-forecast")) {
      forecasting = !forecasting;
      markButtons("[data-timeline-forecast]", container, forecasting);
      if (forecasting) { loadForecasts(container); } else { redrawForecasts(container); }
    } else { container.showToday(); }
  });
  // Escape leaves the preview (the phase goes back), then the mode.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    document.querySelectorAll("[data-timeline]").forEach(function (container) {
      if (!container.state || !container.state.rescheduling) { return; }
      if (container.state.pending || container.state.preview) { cancel(container); }
    });
  });
  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:beforeSwap", function (event) {
    // The reschedule panel's answers are swapped in whatever their status (a refusal is a message to show).
    var xhr = event.detail.xhr;
    if (xhr && xhr.getResponseHeader("X-Schedule-Panel")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
      return;
    }
    destroyAll(event.detail.target);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.hasAttribute("data-schedule-result")) { return; }
    var container = containerOf(target);
    if (!container || !container.state) { return; }
    var body = target.closest(".card-body");
    if (body) { body.scrollTop = 0; }
    var data = target.querySelector("#schedule-preview-data");
    if (data) { showPreview(container, JSON.parse(data.textContent)); }
    else if (!target.querySelector('[data-state="applied"]')) { clearPreview(container, { revert: false }); }
    delete container.dataset.previewing;
  });
  document.addEventListener("htmx:responseError", function (event) {
    var target = event.detail.target;
    if (!target || !target.hasAttribute("data-schedule-result")) { return; }
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    target.textContent = "";
    target.appendChild(element("div", "alert alert-danger small", status === 403 ?
      "You may not reschedule releases." : "The server could not answer (" + status + "). Try again in a moment."));
    var container = containerOf(target);
    if (container) { delete container.dataset.previewing; }
  });
  document.addEventListener("htmx:sendError", function (event) {
    var target = event.detail.target;
    if (!target || !target.hasAttribute("data-schedule-result")) { return; }
    target.textContent = "";
    target.appendChild(element("div", "alert alert-danger small", "The server could not be reached. Check the connection and try again."));
  });
  // An applied change (the answer's HX-Trigger): the timeline's data again, drawn in place.
  document.addEventListener("schedule-applied", function () {
    document.querySelectorAll("[data-timeline]").forEach(function (container) {
      if (container.state && container.state.rescheduling) { reload(container); }
    });
  });
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target); });
  // htmx keeps a copy of the page for the back button: keep it without the drawing, and draw again on the way back.
  document.addEventListener("htmx:beforeHistorySave", function () { destroyAll(document); });
  document.addEventListener("htmx:historyRestore", function () { drawAll(document); });
})();
