// The utilisation heat map: draws every element with data-utilisation-chart="<id of a json_script>" with ECharts.
// The data comes from `environments.schedule_views._heat_map`: {weeks, week_starts, environments, links, cells, levels};
// a cell is [week index, environment index, utilisation % or null, booked days, available days]. Colour follows the
// utilisation; a week the environment was not available at all stays empty. Clicking a row opens the environment.
(function () {
  "use strict";
  var ROWS_SHOWN = 40; // beyond this many environments, a slider scrolls the rows

  function days(value) {
    return (Math.round(value * 10) / 10).toLocaleString() + " day" + (value === 1 ? "" : "s");
  }

  function option(spec) {
    var escape = window.echarts.format.encodeHTML;
    var scroll = spec.environments.length > ROWS_SHOWN;
    return {
      tooltip: {
        formatter: function (p) {
          var cell = p.data;
          var share = cell[2] === null ? "not available" : cell[2] + " % booked";
          return escape(spec.environments[cell[1]]) + "<br>" + escape(spec.weeks[cell[0]]) + " (from " + escape(spec.week_starts[cell[0]]) +
            ")<br><b>" + share + "</b><br>Booked " + days(cell[3]) + " of " + days(cell[4]) + " available";
        },
      },
      grid: { left: 8, right: scroll ? 40 : 16, top: 8, bottom: 48, containLabel: true },
      xAxis: {
        type: "category", data: spec.weeks, position: "top", splitArea: { show: true },
        axisLabel: { interval: 0, rotate: spec.weeks.length > 16 ? 60 : 0, fontSize: 11 },
      },
      yAxis: {
        type: "category", data: spec.environments, inverse: true, splitArea: { show: true }, triggerEvent: true,
        axisLabel: { interval: 0, width: 170, overflow: "truncate", fontSize: 11 },
      },
      dataZoom: scroll ? [
        { type: "slider", yAxisIndex: 0, right: 8, width: 16, startValue: 0, endValue: ROWS_SHOWN - 1, zoomLock: true, showDetail: false },
        { type: "inside", yAxisIndex: 0, zoomOnMouseWheel: false, moveOnMouseWheel: true },
      ] : [],
      visualMap: {
        type: "continuous", min: 0, max: 100, dimension: 2, calculable: false, orient: "horizontal",
        left: "center", bottom: 0, itemHeight: 180, text: ["100 % booked", "0 %"],
        inRange: { color: spec.levels.map(function (level) { return level.color; }) },
      },
      series: [{
        type: "heatmap",
        progressive: 0, // draw every cell at once: a year of 600 environments is drawn in chunks otherwise
        data: spec.cells.filter(function (cell) { return cell[2] !== null; }),
        itemStyle: { borderColor: "#fff", borderWidth: 1 },
        emphasis: { itemStyle: { shadowBlur: 6, shadowColor: "rgba(0, 0, 0, .3)" } },
      }],
    };
  }

  function draw(element) {
    var source = document.getElementById(element.dataset.utilisationChart);
    if (!source || !window.echarts || element.dataset.drawn) { return; }
    element.dataset.drawn = "true";
    var spec = JSON.parse(source.textContent);
    var chart = window.echarts.init(element);
    chart.setOption(option(spec));
    chart.on("click", function (event) {
      var index = event.componentType === "series" ? event.data[1] : event.componentType === "yAxis" ? spec.environments.indexOf(event.value) : -1;
      if (index >= 0 && spec.links[index]) { window.location.href = spec.links[index]; }
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-utilisation-chart]").forEach(draw);
  });
})();
