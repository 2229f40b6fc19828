// Draws every element with data-chart="<id of a json_script>" with ECharts. Chart data comes from the server
// as {kind, categories, series: [{name, data}]}; the kinds are the handful of shapes the pages use.
(function () {
  "use strict";
  var SIDE_COLOURS = { centre: "#212529", downstream: "#dc3545", upstream: "#0d6efd" };
  var builders = {
    "dependency-graph": function (spec, chart) {
      chart.on("click", function (event) {
        if (event.dataType === "node" && event.data.url) { window.location.href = event.data.url; }
      });
      return {
        tooltip: { formatter: function (p) { return p.dataType === "node" ? p.data.name + " (tier " + p.data.tier + ")" : p.data.kind; } },
        series: [{
          type: "graph",
          layout: "force",
          roam: true,
          draggable: true,
          force: { repulsion: 260, edgeLength: 90 },
          label: { show: true, position: "right", fontSize: 11 },
          edgeSymbol: ["none", "arrow"],
          edgeSymbolSize: 7,
          lineStyle: { color: "#adb5bd", width: 1.2, curveness: 0.1 },
          data: spec.nodes.map(function (n) {
            return {
              id: String(n.id), name: n.name, tier: n.tier, url: n.url,
              symbolSize: n.id === spec.centre ? 30 : 22 - n.tier * 3,
              label: { fontWeight: n.id === spec.centre ? "bold" : "normal" },
              itemStyle: { color: SIDE_COLOURS[n.side] || "#6c757d" },
            };
          }),
          links: spec.links.map(function (l) { return { source: String(l.source), target: String(l.target), kind: l.kind }; }),
        }],
      };
    },
    "bars": function (spec) {
      return {
        tooltip: { trigger: "axis" },
        grid: { left: 48, right: 16, top: 16, bottom: 24 },
        xAxis: { type: "category", data: spec.categories, axisLabel: { interval: 0 } },
        yAxis: { type: "value" },
        series: spec.series.map(function (s) { return { name: s.name, type: "bar", data: s.data }; }),
      };
    },
    // Bars and lines on one category axis: a series may name a `stack`, a `type` ("bar" or "line"), a `color` and a
    // `step`; `horizontal` lays the categories down the side; `links` (one URL per category) makes them clickable.
    // `axes` ([{name, max}], vertical charts) gives two value axes, left and right; a series picks one by `axis` (0, 1).
    // A line with `symbol` shows its points; `rotate` (degrees) shows every category label, slanted.
    "combo": function (spec, chart) {
      var compact = function (value) {
        var size = Math.abs(value);
        if (size >= 1e9) { return (value / 1e9).toFixed(1).replace(/\.0$/, "") + "bn"; }
        if (size >= 1e6) { return (value / 1e6).toFixed(1).replace(/\.0$/, "") + "m"; }
        if (size >= 1e4) { return (value / 1e3).toFixed(0) + "k"; }
        return String(value);
      };
      var categoryAxis = {
        type: "category",
        data: spec.categories,
        inverse: !!spec.horizontal,
        triggerEvent: !!spec.links,
        axisLabel: spec.horizontal
          ? { width: 160, overflow: "truncate" }
          : spec.rotate ? { interval: 0, rotate: spec.rotate, width: 140, overflow: "truncate" } : { hideOverlap: true },
      };
      var valueAxis = { type: "value", minInterval: spec.integer ? 1 : 0, axisLabel: { formatter: compact } };
      if (spec.axes && !spec.horizontal) {
        valueAxis = spec.axes.map(function (axis, index) {
          return {
            type: "value", name: axis.name, max: axis.max, minInterval: spec.integer ? 1 : 0,
            axisLabel: { formatter: compact }, splitLine: { show: index === 0 },
            nameTextStyle: { align: index === 0 ? "left" : "right" },
          };
        });
      }
      if (spec.links) {
        chart.on("click", function (event) {
          var index = event.componentType === "series" ? event.dataIndex : spec.categories.indexOf(event.value);
          if (index >= 0 && spec.links[index]) { window.location.href = spec.links[index]; }
        });
      }
      return {
        tooltip: {
          trigger: "axis",
          axisPointer: { type: "shadow" },
          valueFormatter: function (value) {
            return value === null || value === undefined ? "—" : Number(value).toLocaleString();
          },
        },
        legend: { top: 0, type: "scroll" },
        grid: { left: 8, right: 24, top: spec.axes ? 56 : 32, bottom: 8, containLabel: true },
        xAxis: spec.horizontal ? valueAxis : categoryAxis,
        yAxis: spec.horizontal ? categoryAxis : valueAxis,
        series: spec.series.map(function (s) {
          var series = { name: s.name, type: s.type || "bar", data: s.data };
          if (s.stack) { series.stack = s.stack; }
          if (s.axis) { series.yAxisIndex = s.axis; }
          if (s.color) { series.itemStyle = { color: s.color }; series.lineStyle = { color: s.color, width: 2 }; }
          if (series.type === "line") { series.symbol = s.symbol ? "circle" : "none"; series.step = s.step || false; }
          else { series.barMaxWidth = 28; }
          return series;
        }),
      };
    },
    // A grid of `x` categories across and `y` down; `cells` are [x index, y index, value] and `levels` give each value
    // a label and colour; `x_links` / `y_links` (one URL per category) make cells and labels clickable.
    "heatmap": function (spec, chart) {
      var escape = window.echarts.format.encodeHTML;
      var levels = {};
      spec.levels.forEach(function (level) { levels[level.value] = level; });
      var link = function (links, index) { return links && index >= 0 ? links[index] : null; };
      chart.on("click", function (event) {
        var url = null;
        if (event.componentType === "series") { url = link(spec.x_links, event.value[0]); }
        else if (event.componentType === "xAxis") { url = link(spec.x_links, spec.x.indexOf(event.value)); }
        else if (event.componentType === "yAxis") { url = link(spec.y_links, spec.y.indexOf(event.value)); }
        if (url) { window.location.href = url; }
      });
      return {
        tooltip: {
          formatter: function (p) {
            var level = levels[p.value[2]];
            return escape(spec.y[p.value[1]]) + "<br>" + escape(spec.x[p.value[0]]) + ": <b>" + escape(level ? level.label : String(p.value[2])) + "</b>";
          },
        },
        grid: { left: 8, right: 16, top: 8, bottom: 36, containLabel: true },
        xAxis: {
          type: "category", data: spec.x, position: "top", splitArea: { show: true }, triggerEvent: !!spec.x_links,
          axisLabel: { interval: 0, rotate: spec.x.length > 24 ? 90 : 50, width: 150, overflow: "truncate" },
        },
        yAxis: {
          type: "category", data: spec.y, inverse: true, splitArea: { show: true }, triggerEvent: !!spec.y_links,
          axisLabel: { interval: 0, width: 170, overflow: "truncate" },
        },
        visualMap: {
          type: "piecewise", orient: "horizontal", bottom: 0, left: "center",
          pieces: spec.levels.map(function (level) { return { value: level.value, label: level.label, color: level.color }; }),
        },
        series: [{
          type: "heatmap",
          data: spec.cells,
          itemStyle: { borderColor: "#fff", borderWidth: 1 },
          emphasis: { itemStyle: { shadowBlur: 6, shadowColor: "rgba(0, 0, 0, .3)" } },
        }],
      };
    },
    // Dates on a time axis, one row each: `markers` ([{name, date, color}], ISO dates) as labelled points, `band`
    // ({from, to}) shaded between two dates, `today` a dashed line when it falls near the markers.
    "dates": function (spec) {
      var escape = window.echarts.format.encodeHTML;
      var DAY = 86400000;
      var time = function (iso) { var p = iso.split("-"); return new Date(+p[0], +p[1] - 1, +p[2]).getTime(); };
      var label = function (iso) { return window.echarts.time.format(time(iso), "{d} {MMM} {yyyy}", false); };
      var times = spec.markers.map(function (m) { return time(m.date); });
      var first = Math.min.apply(null, times);
      var last = Math.max.apply(null, times);
      var pad = Math.max(4 * DAY, (last - first) * 0.2);
      var series = {
        type: "scatter",
        symbolSize: 12,
        data: spec.markers.map(function (m, index) {
          return {
            name: m.name, value: [time(m.date), index], date: m.date, itemStyle: { color: m.color },
            label: { show: true, position: "right", distance: 6, color: m.color, formatter: label(m.date) },
          };
        }),
      };
      if (spec.band && spec.band.from !== spec.band.to) {
        series.markArea = {
          silent: true, itemStyle: { color: "rgba(13, 110, 253, .10)" },
          label: { show: false },
          data: [[{ xAxis: time(spec.band.from) }, { xAxis: time(spec.band.to) }]],
        };
      }
      if (spec.today && time(spec.today) >= first - pad && time(spec.today) <= last + pad) {
        series.markLine = {
          silent: true, symbol: "none", lineStyle: { type: "dashed", color: "#adb5bd" },
          label: { formatter: "today", position: "end", color: "#6c757d" },
          data: [{ xAxis: time(spec.today) }],
        };
      }
      return {
        tooltip: { trigger: "item", formatter: function (p) { return escape(p.name) + ": " + escape(label(p.data.date)); } },
        grid: { left: 8, right: 96, top: 8, bottom: 24, containLabel: true },
        xAxis: {
          type: "time", min: first - pad, max: last + pad, splitNumber: 4,
          axisLabel: { formatter: "{d} {MMM}", hideOverlap: true },
        },
        yAxis: {
          type: "category", inverse: true, data: spec.markers.map(function (m) { return m.name; }),
          axisTick: { show: false }, axisLine: { show: false },
        },
        series: [series],
      };
    },
    "stacked-bars": function (spec) {
      return {
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 40, right: 16, top: 32, bottom: 24 },
        xAxis: { type: "category", data: spec.categories, axisLabel: { formatter: function (v) { return v.slice(5); } } },
        yAxis: { type: "value", minInterval: 1 },
        series: spec.series.map(function (s) { return { name: s.name, type: "bar", stack: "total", data: s.data }; }),
      };
    },
  };

  function draw(element) {
    var source = document.getElementById(element.dataset.chart);
    if (!source || !window.echarts) { return; }
    var spec = JSON.parse(source.textContent);
    var build = builders[spec.kind];
    if (!build) { return; }
    var chart = window.echarts.init(element);
    chart.setOption(build(spec, chart));
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target); });
})();
