// Draws the "typical day" charts with uPlot: every element with class "typical-day-chart"
// names, in data-source, the json_script element holding {hours, series, labels}.
(function () {
  "use strict";
  // Weekdays solid, weekends dashed; injected amber, withdrawn blue like the other charts.
  var STYLES = [
    { stroke: "#b45309" },
    { stroke: "#1d4ed8" },
    { stroke: "#b45309", dash: [6, 4] },
    { stroke: "#1d4ed8", dash: [6, 4] }
  ];
  var script = document.currentScript;
  // kWh with up to three decimals in the page's separators (the payload's locale).
  function numberFormat(locale) {
    return function (value) {
      if (value == null) { return "—"; }
      var parts = Math.abs(value).toFixed(3).replace(/\.?0+$/, "").split(".");
      parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, locale.thousands);
      return (value < 0 ? "-" : "") + parts.join(locale.decimal);
    };
  }
  var HEIGHT = 260;
  var charts = [];

  function draw(holder) {
    var data = JSON.parse(document.getElementById(holder.dataset.source).textContent);
    var number = numberFormat(data.locale || { thousands: ".", decimal: "," });
    var width = function () { return Math.max(280, holder.clientWidth - 16); };
    var series = [{ label: script.dataset.hour, value: function (u, v) { return v == null ? "" : v + ":00"; } }];
    data.labels.forEach(function (label, index) {
      var style = STYLES[index % STYLES.length];
      series.push({ label: label, stroke: style.stroke, dash: style.dash, width: 2, spanGaps: false,
        value: function (u, v) { return number(v); } });
    });
    var options = {
      width: width(),
      height: HEIGHT,
      // The x axis holds local hours 0-23, not instants.
      scales: { x: { time: false } },
      series: series,
      axes: [
        { label: script.dataset.hour, values: function (u, ticks) { return ticks.map(function (t) { return t + ":00"; }); } },
        { label: "kWh", values: function (u, ticks) { return ticks.map(number); } }
      ]
    };
    var plot = new uPlot(options, [data.hours].concat(data.series), holder);
    window.addEventListener("resize", function () { plot.setSize({ width: width(), height: HEIGHT }); });
    charts.push(plot);
  }

  Array.prototype.forEach.call(document.querySelectorAll(".typical-day-chart"), draw);
  window.cerTypicalDayCharts = charts;
})();
