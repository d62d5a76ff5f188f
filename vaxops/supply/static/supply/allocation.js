/* Allocation review chart: need against what the plan gives per child store (ECharts). */
(function () {
  "use strict";

  var NEED = "#9aa5b1";
  var STOCK = "#7fb3e0";
  var SHIPPED = "#1f5fa8";

  function draw(el, data) {
    el.style.height = Math.max(220, 56 * data.names.length + 72) + "px";
    var chart = echarts.init(el, null, { renderer: "svg" });
    var narrow = el.clientWidth < 480;
    chart.setOption({
      animation: false,
      legend: { top: 0, left: 0, itemGap: 12, textStyle: { fontSize: narrow ? 11 : 12 } },
      grid: { left: 8, right: 40, top: narrow ? 64 : 40, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", min: 0, minInterval: 1, axisLabel: { hideOverlap: true } },
      yAxis: {
        type: "category", data: data.names, inverse: true,
        axisLabel: { interval: 0, width: narrow ? 96 : 200, overflow: "break", lineHeight: 14 }
      },
      series: [
        { name: data.labels.need, type: "bar", data: data.need, itemStyle: { color: NEED }, barGap: "10%",
          label: { show: true, position: "right" }, barMaxWidth: 18 },
        { name: data.labels.stock, type: "bar", stack: "given", data: data.stock, itemStyle: { color: STOCK },
          barMaxWidth: 18 },
        { name: data.labels.shipped, type: "bar", stack: "given", data: data.shipped, itemStyle: { color: SHIPPED },
          label: { show: true, position: "right" }, barMaxWidth: 18 }
      ]
    });
    return chart;
  }

  function init() {
    var source = document.getElementById("chart-data");
    var el = document.getElementById("allocation-chart");
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
