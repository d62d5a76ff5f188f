/* Doses per hour of a session: measured bars beside the simulator's line (json_script "chart-data"). */
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("doses-chart");
    var node = document.getElementById("chart-data");
    if (!el || !node || typeof echarts === "undefined") { return; }
    var data = JSON.parse(node.textContent);
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      legend: { top: 0, data: [data.labels.measured, data.labels.predicted] },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.hours },
      yAxis: { type: "value", name: data.labels.doses },
      series: [
        { name: data.labels.measured, type: "bar", data: data.measured, itemStyle: { color: "#1f5fa8" } },
        { name: data.labels.predicted, type: "line", data: data.predicted, itemStyle: { color: "#b45309" } }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
