// Demand against supply per environment type: draws every element with data-demand-chart="<id of a json_script>"
// and data-demand-type="<type>" with ECharts. The data comes from `environments.schedule_views.demand`: {weeks, types:
// [{type, label, supply, demand: [per week], shortage: [per week], color}], shortage_color}. Bars are the phases that
// need such an environment each week, the line the environments in service; shortage weeks are shaded and their bars red.
(function () {
  "use strict";

  function shortageAreas(kind, weeks) {
    var areas = [];
    var from = null;
    kind.shortage.forEach(function (short, index) {
      if (short && from === null) { from = index; }
      if ((!short || index === kind.shortage.length - 1) && from !== null) {
        var to = short ? index : index - 1;
        areas.push([{ xAxis: weeks[from] }, { xAxis: weeks[to] }]);
        from = null;
      }
    });
    return areas;
  }

  function option(spec, kind) {
    return {
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        formatter: function (points) {
          var index = points[0].dataIndex;
          var lines = [window.echarts.format.encodeHTML(spec.weeks[index])];
          lines.push("Phases needing one: <b>" + kind.demand[index] + "</b>");
          lines.push("In service: <b>" + kind.supply + "</b>");
          if (kind.shortage[index]) { lines.push('<span style="color:' + spec.shortage_color + '">Short by ' + (kind.demand[index] - kind.supply) + "</span>"); }
          return lines.join("<br>");
        },
      },
      legend: { top: 0, data: ["Demand (phases)", "Supply (in service)"] },
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: spec.weeks, axisLabel: { hideOverlap: true, fontSize: 10 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        {
          name: "Demand (phases)",
          type: "bar",
          barMaxWidth: 18,
          itemStyle: { color: kind.color },
          data: kind.demand.map(function (count, index) {
            return kind.shortage[index] ? { value: count, itemStyle: { color: spec.shortage_color } } : count;
          }),
          markArea: {
            silent: true,
            itemStyle: { color: "rgba(220, 53, 69, .10)" },
            data: shortageAreas(kind, spec.weeks),
          },
        },
        {
          name: "Supply (in service)",
          type: "line",
          step: "middle",
          symbol: "none",
          lineStyle: { color: "#212529", width: 2 },
          itemStyle: { color: "#212529" },
          data: spec.weeks.map(function () { return kind.supply; }),
        },
      ],
    };
  }

  function draw(element) {
    var source = document.getElementById(element.dataset.demandChart);
    if (!source || !window.echarts || element.dataset.drawn) { return; }
    var spec = JSON.parse(source.textContent);
    var kind = spec.types.filter(function (candidate) { return candidate.type === element.dataset.demandType; })[0];
    if (!kind) { return; }
    element.dataset.drawn = "true";
    var chart = window.echarts.init(element);
    chart.setOption(option(spec, kind));
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-demand-chart]").forEach(draw);
  });
})();
