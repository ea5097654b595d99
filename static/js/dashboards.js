// Draws the dashboards' charts with uPlot: every element with class "dash-chart" names,
// in data-source, the json_script element holding {t, series, labels, step, locale}.
// Dates and numbers read as the page's language does: the payload's locale (month names and
// separators written by the server's formatting helper), or the browser's for the page's
// language when a payload has none.
(function () {
  "use strict";
  var COLOURS = ["#b45309", "#1d4ed8", "#15803d", "#7c3aed"];
  var script = document.currentScript;
  var charts = [];
  var HEIGHT = 300;
  var DAY = 86400;

  function pageLocale() {
    var lang = document.documentElement.lang || "it";
    var months = [];
    for (var m = 0; m < 12; m++) {
      months.push(new Intl.DateTimeFormat(lang, { month: "short", timeZone: "UTC" })
        .format(new Date(Date.UTC(2000, m, 15))).replace(".", ""));
    }
    var sample = (1234567.5).toLocaleString(lang, { minimumFractionDigits: 1 });
    return { months: months, thousands: sample.charAt(1), decimal: sample.charAt(sample.length - 2) };
  }

  // Up to three decimals, trailing zeros dropped, digits grouped: 1234.5 -> "1.234,5" (it).
  function numberFormat(locale) {
    return function (value) {
      if (value == null) { return "—"; }
      var parts = Math.abs(value).toFixed(3).replace(/\.?0+$/, "").split(".");
      parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, locale.thousands);
      return (value < 0 ? "-" : "") + parts.join(locale.decimal);
    };
  }

  function draw(holder) {
    var data = JSON.parse(document.getElementById(holder.dataset.source).textContent);
    var locale = data.locale || pageLocale();
    var names = { MMMM: locale.months, MMM: locale.months, WWWW: [], WWW: [] };
    var number = numberFormat(locale);
    var width = function () { return Math.max(280, holder.clientWidth - 16); };
    var series = [{
      label: script.dataset.time,
      // Day first and a 24-hour clock: "1 giu 2025, 14:00", never "6/1 2pm".
      value: data.step === "day" ? "{D} {MMM} {YYYY}" : "{D} {MMM} {YYYY}, {HH}:{mm}"
    }];
    data.labels.forEach(function (label, index) {
      series.push({
        label: label,
        stroke: COLOURS[index % COLOURS.length],
        width: index === 2 ? 2 : 1,
        // A missing reading stays a visible gap: lines are not drawn across it.
        spanGaps: false,
        value: function (u, v) { return number(v); }
      });
    });
    var options = {
      width: width(),
      height: HEIGHT,
      // Buckets are keyed by their UTC start; show them on the Europe/Rome clock.
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Europe/Rome"); },
      fmtDate: function (template) { return uPlot.fmtDate(template, names); },
      cursor: { drag: { x: true, y: false } },
      series: series,
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
    var plot = new uPlot(options, [data.t].concat(data.series), holder);
    window.addEventListener("resize", function () { plot.setSize({ width: width(), height: HEIGHT }); });
    charts.push(plot);
  }

  Array.prototype.forEach.call(document.querySelectorAll(".dash-chart"), draw);
  window.cerDashboardCharts = charts;
})();
