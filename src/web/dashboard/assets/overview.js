// Draws the overview's charts with uPlot from the page's JSON block (#overview-data); the same numbers are in the tables.
(function () {
  var COLOURS = ['#2856d8', '#e07a1f', '#14996b', '#a23cc9', '#c0262d'];

  function money(exponent) {
    return function (u, values) {
      return values.map(function (v) { return (v / Math.pow(10, exponent)).toLocaleString('en'); });
    };
  }

  function draw(area, series, values, format, data) {
    var width = Math.max(area.clientWidth, 240);
    var opts = {
      width: width,
      height: 220,
      scales: { x: { time: true } },
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      axes: [{}, { values: format, size: 64 }],
      series: [{}].concat(series.map(function (s, i) {
        return { label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2, points: { show: true, size: 5 }, spanGaps: false };
      })),
    };
    var plot = new uPlot(opts, [data.days].concat(values), area);
    window.addEventListener('resize', function () { plot.setSize({ width: Math.max(area.clientWidth, 240), height: 220 }); });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var block = document.getElementById('overview-data');
    if (!block || typeof uPlot === 'undefined') return;
    var data = JSON.parse(block.textContent);
    document.querySelectorAll('[data-chart="volume"]').forEach(function (area) {
      var v = data.volume[Number(area.getAttribute('data-index'))];
      draw(area, v.series, v.series.map(function (s) { return s.values; }), money(v.exponent), data);
    });
    document.querySelectorAll('[data-chart="success-rate"]').forEach(function (area) {
      draw(area, data.successRate, data.successRate.map(function (s) { return s.values; }), function (u, values) {
        return values.map(function (v) { return v + '%'; });
      }, data);
    });
  });
})();
