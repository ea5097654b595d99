// Draws the community's hourly injected and withdrawn energy with uPlot.
(function () {
  "use strict";
  var script = document.getElementById("energy-chart-script");
  var holder = document.getElementById("energy-chart");
  var data = JSON.parse(document.getElementById("energy-data").textContent);
  var width = function () { return Math.max(300, holder.clientWidth); };
  var options = {
    width: width(),
    height: 320,
    // Hours are stored in UTC; show them on the Europe/Rome clock whatever the browser's zone.
    tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Europe/Rome"); },
    cursor: { drag: { x: true, y: false } },
    series: [
      { label: script.dataset.time },
      { label: script.dataset.injected, stroke: "#b45309", width: 1 },
      { label: script.dataset.withdrawn, stroke: "#1d4ed8", width: 1 }
    ],
    axes: [{}, { label: "kWh" }]
  };
  var plot = new uPlot(options, [data.t, data.injected_kwh, data.withdrawn_kwh], holder);
  window.addEventListener("resize", function () { plot.setSize({ width: width(), height: 320 }); });
  window.cerEnergyChart = plot;
})();
