// Draws the dashboards' charts with uPlot: every element with class "dash-chart" names,
// in data-source, the json_script element holding {t, series, labels, step}.
(function () {
  "use strict";
  var COLOURS = ["#b45309", "#1d4ed8", "#15803d", "#7c3aed"];
  var script = document.currentScript;
  var charts = [];
  var HEIGHT = 300;

  function draw(holder) {
    var data = JSON.parse(document.getElementById(holder.dataset.source).textContent);
    var width = function () { return Math.max(280, holder.clientWidth - 16); };
    var series = [{ label: script.dataset.time }];
    data.labels.forEach(function (label, index) {
      series.push({
        label: label,
        stroke: COLOURS[index % COLOURS.length],
        width: index === 2 ? 2 : 1,
        // A missing reading stays a visible gap: lines are not drawn across it.
        spanGaps: false
      });
    });
    var options = {
      width: width(),
      height: HEIGHT,
      // Buckets are keyed by their UTC start; show them on the Europe/Rome clock.
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Europe/Rome"); },
      cursor: { drag: { x: true, y: false } },
      series: series,
      axes: [{}, { label: "kWh" }]
    };
    var plot = new uPlot(options, [data.t].concat(data.series), holder);
    window.addEventListener("resize", function () { plot.setSize({ width: width(), height: HEIGHT }); });
    charts.push(plot);
  }

  Array.prototype.forEach.call(document.querySelectorAll(".dash-chart"), draw);
  window.cerDashboardCharts = charts;
})();
