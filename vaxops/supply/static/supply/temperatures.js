/* A store's temperature chart: readings as a step line (a reading holds until the next), the
   2–8 °C band shaded, excursions marked. Data from the page (json_script "chart-data"). */
(function () {
  "use strict";

  var BLUE = "#1f5fa8";
  var ORANGE = "#b45309";

  function draw(el, data) {
    var chart = echarts.init(el, null, { renderer: "svg" });
    var points = data.points.map(function (p) { return [p[0], p[1]]; });
    var manual = data.points.filter(function (p) { return p[2] === "manual"; }).map(function (p) { return [p[0], p[1]]; });
    var values = data.points.map(function (p) { return p[1]; });
    var low = Math.min.apply(null, values.concat([data.low - 2]));
    var high = Math.max.apply(null, values.concat([data.high + 2]));
    var areas = data.excursions.map(function (e) {
      return [{ xAxis: e.start, name: e.name, itemStyle: { color: e.open ? "rgba(180, 35, 24, 0.22)" : "rgba(180, 35, 24, 0.10)" } },
              { xAxis: e.end }];
    });
    var narrow = el.clientWidth < 480;
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 16, top: 28, bottom: 8, containLabel: true },
      legend: { top: 0, data: [data.labels.logger, data.labels.manual] },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v + " °C"; } },
      xAxis: {
        type: "time", min: data.from, max: data.to,
        axisLabel: { hideOverlap: true, formatter: { year: "{yyyy}", month: "{MM}-{dd}", day: "{MM}-{dd}",
                                                     hour: "{HH}:{mm}", minute: "{HH}:{mm}" } }
      },
      yAxis: { type: "value", name: data.labels.celsius, min: Math.floor(low), max: Math.ceil(high) },
      series: [
        {
          name: data.labels.logger, type: "line", step: "start", data: points, showSymbol: points.length <= 60,
          symbolSize: 5, lineStyle: { color: BLUE, width: 2 }, itemStyle: { color: BLUE },
          markArea: {
            silent: true,
            label: { show: !narrow, position: "insideTop", color: "#7a1a12", fontSize: 11 },
            data: [[{ yAxis: data.low, name: data.labels.band, itemStyle: { color: "rgba(29, 122, 70, 0.12)" },
                      label: { position: "insideRight", color: "#1d7a46" } }, { yAxis: data.high }]].concat(areas)
          },
          markLine: {
            silent: true, symbol: "none", lineStyle: { color: "#1d7a46", type: "dashed" }, label: { show: false },
            data: [{ yAxis: data.low }, { yAxis: data.high }]
          }
        },
        {
          name: data.labels.manual, type: "scatter", data: manual, symbol: "diamond", symbolSize: 10,
          itemStyle: { color: ORANGE }
        }
      ]
    });
    return chart;
  }

  function init() {
    var source = document.getElementById("chart-data");
    var el = document.getElementById("temperature-chart");
    if (!source || !el || !window.echarts) {
      return;
    }
    var chart = draw(el, JSON.parse(source.textContent));
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
