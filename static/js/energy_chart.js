// Draws the community's hourly injected and withdrawn energy with uPlot. Dates and numbers
// read as the page's language does, from the payload's locale (month names and separators
// written by the server's formatting helper).
(function () {
  "use strict";
  var DAY = 86400;
  var script = document.getElementById("energy-chart-script");
  var holder = document.getElementById("energy-chart");
  var data = JSON.parse(document.getElementById("energy-data").textContent);
  var locale = data.locale;
  var names = { MMMM: locale.months, MMM: locale.months, WWWW: [], WWW: [] };
  // Up to three decimals, trailing zeros dropped, digits grouped: 1234.5 -> "1.234,5" (it).
  var number = function (value) {
    if (value == null) { return "—"; }
    var parts = Math.abs(value).toFixed(3).replace(/\.?0+$/, "").split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, locale.thousands);
    return (value < 0 ? "-" : "") + parts.join(locale.decimal);
  };
  var width = function () { return Math.max(300, holder.clientWidth); };
  var options = {
    width: width(),
    height: 320,
    // Hours are stored in UTC; show them on the Europe/Rome clock whatever the browser's zone.
    tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Europe/Rome"); },
    fmtDate: function (template) { return uPlot.fmtDate(template, names); },
    cursor: { drag: { x: true, y: false } },
    series: [
      { label: script.dataset.time, value: "{D} {MMM} {YYYY}, {HH}:{mm}" },
      { label: script.dataset.injected, stroke: "#b45309", width: 1, value: function (u, v) { return number(v); } },
      { label: script.dataset.withdrawn, stroke: "#1d4ed8", width: 1, value: function (u, v) { return number(v); } }
    ],
    axes: [
      {
        // [tick step, label, label when the year changes, month, day, hour, minute, second, mode]
        values: [
          [365 * DAY, "{YYYY}", null, null, null, null, null, null, 1],
          [28 * DAY, "{MMM}", "\n{YYYY}", null, null, null, null, null, 1],
          [DAY, "{D} {MMM}", "\n{YYYY}", null, null, null, null, null, 1],
          [3600, "{HH}:{mm}", "\n{D} {MMM} {YYYY}", null, "\n{D} {MMM}", null, null, null, 1],
          [60, "{HH}:{mm}", "\n{D} {MMM} {YYYY}", null, "\n{D} {MMM}", null, null, null, 1]
        ]
      },
      { label: "kWh", values: function (u, ticks) { return ticks.map(number); } }
    ]
  };
  var plot = new uPlot(options, [data.t, data.injected_kwh, data.withdrawn_kwh], holder);
  window.addEventListener("resize", function () { plot.setSize({ width: width(), height: 320 }); });
  window.cerEnergyChart = plot;
})();
