/* Dashboard charts: the data come from the page (json_script "chart-data"), drawn with ECharts. */
(function () {
  "use strict";

  var BLUE = "#1f5fa8";
  var GREY = "#9aa5b1";
  var charts = [];

  function coverageChart(el, data) {
    // Horizontal bars with every name shown: a county has up to 30 townships, so the chart grows
    // with them (a bar and its label per row) instead of dropping labels that would overlap.
    el.style.height = Math.max(240, 28 * data.names.length + 48) + "px";
    var chart = echarts.init(el, null, { renderer: "svg" });
    var narrow = el.clientWidth < 480;
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 56, top: 8, bottom: 8, containLabel: true },
      tooltip: {
        trigger: "axis", axisPointer: { type: "shadow" },
        formatter: function (items) { var p = items[0]; return p.name + ": " + data.labels[p.dataIndex]; }
      },
      xAxis: { type: "value", min: 0, splitNumber: 4, axisLabel: { formatter: "{value}%", hideOverlap: true } },
      yAxis: {
        type: "category", data: data.names, inverse: true,
        axisLabel: { interval: 0, width: narrow ? 120 : 220, overflow: "break", lineHeight: 14 }
      },
      series: [{
        type: "bar",
        data: data.percent,
        itemStyle: { color: BLUE },
        // The label is the page's own text for the value (core.formats): chart and table agree.
        label: { show: true, position: "right", formatter: function (p) { return data.labels[p.dataIndex]; } },
        barMaxWidth: 22
      }]
    });
    return chart;
  }

  function dailyChart(el, data) {
    var chart = echarts.init(el, null, { renderer: "svg" });
    var last = data.doses.length - 1;
    // The last day stops at the chosen time, so it is drawn apart (grey) from the whole days.
    var points = data.doses.map(function (v, i) {
      return i === last ? { value: v, itemStyle: { color: GREY }, symbolSize: 8 } : v;
    });
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 24, top: 16, bottom: 8, containLabel: true },
      tooltip: {
        trigger: "axis",
        formatter: function (items) {
          var p = items[0];
          return p.axisValue + "<br>" + data.series + ": " + p.value + (p.dataIndex === last ? " (" + data.partial + ")" : "");
        }
      },
      xAxis: { type: "category", data: data.days, boundaryGap: true, axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{
        name: data.series,
        type: "line",
        data: points,
        showSymbol: data.days.length <= 31,
        lineStyle: { color: BLUE, width: 2 },
        itemStyle: { color: BLUE },
        areaStyle: { color: "rgba(31, 95, 168, 0.12)" }
      }]
    });
    return chart;
  }

  function init() {
    var source = document.getElementById("chart-data");
    if (!source || !window.echarts) {
      return;
    }
    var data = JSON.parse(source.textContent);
    var coverage = document.getElementById("coverage-chart");
    var daily = document.getElementById("daily-chart");
    if (coverage) {
      charts.push(coverageChart(coverage, data.coverage));
    }
    if (daily) {
      charts.push(dailyChart(daily, data.daily));
    }
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
