// Draws every element with data-chart="<id of a json_script>" with ECharts. Chart data comes from the server
// as {kind, categories, series: [{name, data}]}; the kinds are the handful of shapes the pages use.
(function () {
  "use strict";
  var builders = {
    "bars": function (spec) {
      return {
        tooltip: { trigger: "axis" },
        grid: { left: 48, right: 16, top: 16, bottom: 24 },
        xAxis: { type: "category", data: spec.categories },
        yAxis: { type: "value" },
        series: spec.series.map(function (s) { return { name: s.name, type: "bar", data: s.data }; }),
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
    chart.setOption(build(spec));
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target); });
})();
