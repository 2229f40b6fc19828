// The environment schedule: draws every element with data-environment-schedule="<id of a json_script>" with
// vis-timeline. The data is `environments.selectors.environment_schedule`: {start, end, today, group_by, groups,
// environments, bookings, freezes}. One row per environment (nested under its lane or type when grouped), a bar per
// booking coloured by status (red border: it does not fit beside the others), freeze windows shaded on the rows they
// cover and named in a row of their own. Where the page allows booking (data-booking-url), holding Ctrl (⌘ on a Mac)
// and dragging along an environment's row, or double-clicking on it, opens the booking form for that window.
(function () {
  "use strict";
  var DAY = 24 * 60 * 60 * 1000;
  var ZOOMS = { week: 14, month: 31, quarter: 91 };
  var FREEZE_ROW = "freezes";
  var COLLAPSE_ABOVE = 60; // environment rows: beyond this many, lanes start folded (click a lane to open it)
  var WHEN = new Intl.DateTimeFormat("en-GB", {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
  });
  var DATE = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric" });
  var STATUS_LABELS = {
    requested: "Requested", approved: "Approved", active: "Active", released: "Released",
    rejected: "Rejected", cancelled: "Cancelled",
  };

  var day = window.LaunchdeckTimeline.day;
  var dayAfter = window.LaunchdeckTimeline.dayAfter;
  var element = window.LaunchdeckTimeline.element;
  function escape(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  // The booking form reads date-times as a datetime-local field shows them (YYYY-MM-DDTHH:MM) in the site's time
  // zone, which may not be the browser's.
  function local(date, zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: zone || undefined, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(date).forEach(function (part) { parts[part.type] = part.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + "T" + parts.hour + ":" + parts.minute;
  }

  function rowContent(environment) {
    var box = element("span", "es-row");
    var name = environment.url ? element("a", "es-row-name", environment.name) : element("span", "es-row-name", environment.name);
    if (environment.url) { name.href = environment.url; }
    box.appendChild(name);
    var detail = environment.type_label + " · " + (environment.capacity === 1 ? "exclusive" : "capacity " + environment.capacity);
    if (environment.status !== "available" && environment.status !== "in_use") { detail += " · " + environment.status.replace(/_/g, " "); }
    box.appendChild(element("span", "es-row-detail", detail));
    return box;
  }

  function bookingContent(booking) {
    var box = element("span", "es-booking-label");
    if (booking.conflict) {
      var icon = element("i", "bi bi-exclamation-triangle-fill es-conflict-icon");
      icon.setAttribute("aria-label", "Conflict");
      box.appendChild(icon);
    }
    box.appendChild(document.createTextNode(booking.label));
    return box;
  }

  function bookingTitle(booking, environment) {
    var lines = [
      "<strong>" + escape(booking.label) + "</strong>",
      escape(environment ? environment.name : "") + " · " + escape(STATUS_LABELS[booking.status] || booking.status) +
        " · " + (booking.usage === "shared" ? "shared (regression)" : "exclusive"),
      escape(WHEN.format(new Date(booking.start))) + " – " + escape(WHEN.format(new Date(booking.end))),
    ];
    if (booking.purpose && booking.purpose !== booking.label) { lines.push(escape(booking.purpose)); }
    if (booking.conflict) { lines.push('<span class="text-danger">Conflict: does not fit beside the other bookings</span>'); }
    return lines.join("<br>");
  }

  function freezeTitle(freeze) {
    var covers = freeze.environments === null ? "every environment" : freeze.scope === "portfolios"
      ? "bookings of releases in some portfolios" : freeze.environments.length + " environment" + (freeze.environments.length === 1 ? "" : "s");
    return "<strong>" + escape(freeze.name) + "</strong><br>Booking freeze · " + escape(covers) + "<br>" +
      escape(DATE.format(day(freeze.start))) + " – " + escape(DATE.format(day(freeze.end)));
  }

  function build(spec) {
    var environments = {};
    spec.environments.forEach(function (environment) { environments[environment.id] = environment; });
    var groups = [];
    var collapsed = spec.environments.length > COLLAPSE_ABOVE;
    if (spec.groups.length) {
      spec.groups.forEach(function (group, index) {
        groups.push({
          id: "g:" + group.id,
          content: element("span", "es-lane", group.label + " (" + group.environments.length + ")"),
          nestedGroups: group.environments.map(function (pk) { return "e" + pk; }),
          showNested: !collapsed,
          order: index * 1000,
          className: "es-lane-row",
        });
        group.environments.forEach(function (pk, position) {
          groups.push({
            id: "e" + pk, content: rowContent(environments[pk]), order: index * 1000 + position + 1, treeLevel: 1, className: "es-env-row",
          });
        });
      });
    } else {
      spec.environments.forEach(function (environment, index) {
        groups.push({ id: "e" + environment.id, content: rowContent(environment), order: index, className: "es-env-row" });
      });
    }
    var items = [];
    var bookings = {};
    spec.bookings.forEach(function (booking) {
      var id = "b" + booking.id;
      bookings[id] = booking;
      items.push({
        id: id,
        group: "e" + booking.environment,
        type: "range",
        start: new Date(booking.start),
        end: new Date(booking.end),
        content: bookingContent(booking),
        title: bookingTitle(booking, environments[booking.environment]),
        className: "es-booking es-status-" + booking.status + " es-usage-" + booking.usage + (booking.conflict ? " es-conflict" : ""),
        editable: false,
      });
    });
    // A freeze of some environments or systems none of which is on screen is left out; a portfolio freeze (it covers
    // the bookings of some releases, not environments) is only named in the freeze row.
    var freezes = spec.freezes.filter(function (freeze) {
      return freeze.environments === null || freeze.scope === "portfolios" ||
        freeze.environments.some(function (pk) { return environments[pk]; });
    });
    if (freezes.length) {
      groups.unshift({ id: FREEZE_ROW, content: element("span", "es-lane es-freeze-label", "Booking freezes"), order: -1 });
    }
    freezes.forEach(function (freeze, index) {
      var scoped = freeze.environments !== null;
      var classes = "es-freeze " + (scoped ? "es-freeze-scoped" : "es-freeze-organisation");
      var rows = scoped ? freeze.environments.filter(function (pk) { return environments[pk]; }) : [null];
      rows.forEach(function (pk, position) {
        var shade = { id: "fs" + index + "-" + position, type: "background", start: day(freeze.start), end: dayAfter(freeze.end), className: classes };
        if (pk !== null) { shade.group = "e" + pk; }
        items.push(shade);
      });
      items.push({
        id: "f" + index,
        group: FREEZE_ROW,
        type: "range",
        start: day(freeze.start),
        end: dayAfter(freeze.end),
        content: element("span", "es-freeze-name", freeze.name),
        title: freezeTitle(freeze),
        className: classes + " es-freeze-bar",
        editable: false,
      });
    });
    // Beyond the window asked for nothing was loaded: say so rather than look free.
    var far = 20 * 366 * DAY;
    items.push({ id: "before", type: "background", start: new Date(day(spec.start).getTime() - far), end: day(spec.start), className: "es-outside" });
    items.push({ id: "after", type: "background", start: dayAfter(spec.end), end: new Date(dayAfter(spec.end).getTime() + far), className: "es-outside" });
    return { groups: groups, items: items, bookings: bookings, environments: environments };
  }

  function openBookingForm(container, item) {
    var url = container.dataset.bookingUrl;
    var group = String(item.group || "");
    if (!url || group.charAt(0) !== "e") { return false; }
    var start = item.start instanceof Date ? item.start : new Date(item.start);
    var end = item.end ? (item.end instanceof Date ? item.end : new Date(item.end)) : null;
    if (!end || end <= start) { end = new Date(start.getTime() + DAY); }
    var zone = container.dataset.timeZone;
    var query = new URLSearchParams({ environment: group.slice(1), start: local(start, zone), end: local(end, zone) });
    window.location.href = url + (url.indexOf("?") >= 0 ? "&" : "?") + query.toString();
    return true;
  }

  function draw(container) {
    var source = document.getElementById(container.dataset.environmentSchedule);
    if (!source || !window.vis || container.dataset.drawn) { return; }
    container.dataset.drawn = "true";
    var spec = JSON.parse(source.textContent);
    var data = build(spec);
    var mayBook = !!container.dataset.bookingUrl;
    var timeline = new window.vis.Timeline(container, new window.vis.DataSet(data.items), new window.vis.DataSet(data.groups), {
      start: day(spec.start),
      end: dayAfter(spec.end),
      stack: true,
      orientation: { axis: "top", item: "top" },
      groupOrder: "order",
      verticalScroll: true,
      maxHeight: "72vh",
      zoomKey: "ctrlKey",
      zoomMin: DAY / 4,
      zoomMax: 400 * DAY,
      showCurrentTime: true,
      selectable: mayBook,
      editable: mayBook ? { add: true, updateTime: false, updateGroup: false, remove: false } : false,
      margin: { item: { horizontal: 0, vertical: 3 } },
      tooltip: { followMouse: true, overflowMethod: "flip" },
      // Ready (for people and tests) once the first drawing is on screen.
      onInitialDrawComplete: function () { container.dataset.ready = "true"; },
      onAdd: function (item, callback) {
        // The new bar is only a pointer to the form: it is never kept on the schedule.
        callback(null);
        if (!openBookingForm(container, item)) {
          var hint = document.querySelector('[data-schedule-hint="' + container.id + '"]');
          if (hint) { hint.hidden = false; }
        }
      },
    });
    container.timeline = timeline;
    timeline.on("click", function (properties) {
      var booking = properties.item && data.bookings[properties.item];
      if (booking && booking.url && !properties.event.srcEvent.ctrlKey && !properties.event.srcEvent.metaKey) {
        window.location.href = booking.url;
      }
    });
  }

  function zoom(container, key) {
    var timeline = container && container.timeline;
    if (!timeline || !ZOOMS[key]) { return; }
    var window_ = timeline.getWindow();
    var middle = (window_.start.getTime() + window_.end.getTime()) / 2;
    var half = (ZOOMS[key] * DAY) / 2;
    timeline.setWindow(new Date(middle - half), new Date(middle + half));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-schedule-zoom]");
    if (button) { zoom(document.getElementById(button.dataset.target), button.dataset.scheduleZoom); }
  });

  function drawAll(root) {
    (root || document).querySelectorAll("[data-environment-schedule]").forEach(draw);
  }
  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target); });
})();
