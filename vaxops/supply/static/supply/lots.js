/* The lot trace: recipients by county as horizontal bars (data from json_script "county-chart-data"). */
(function () {
  "use strict";

  function init() {
    var el = document.getElementById("county-chart");
    var source = document.getElementById("county-chart-data");
    if (!el || !source || !window.echarts) {
      return;
    }
    var data = JSON.parse(source.textContent);
    el.style.height = Math.max(160, 32 * data.names.length + 48) + "px";
    var chart = echarts.init(el, null, { renderer: "svg" });
    var narrow = el.clientWidth < 480;
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", minInterval: 1, axisLabel: { hideOverlap: true } },
      yAxis: {
        type: "category", data: data.names, inverse: true,
        axisLabel: { interval: 0, width: narrow ? 100 : 200, overflow: "break" }
      },
      series: [{
        name: data.series, type: "bar", data: data.counts, barMaxWidth: 22,
        itemStyle: { color: "#1f5fa8" }, label: { show: true, position: "right" }
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
