// Draws the overview's charts with uPlot from the page's JSON block (#overview-data); the same numbers are in the tables.
(function () {
  // One colour per dialect on every chart; methods and anything else take the next free one.
  var FIXED = { UQPAY: '#2856d8', QFPay: '#e07a1f', AlphaPay: '#14996b', Card: '#5b6478' };
  var PALETTE = ['#a23cc9', '#c0262d', '#0f8fa6', '#b58900', '#6b7fd7'];
  var assigned = {};
  function colour(label) {
    if (FIXED[label]) return FIXED[label];
    if (!assigned[label]) assigned[label] = PALETTE[Object.keys(assigned).length % PALETTE.length];
    return assigned[label];
  }

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
      series: [{}].concat(series.map(function (s) {
        return { label: s.label, stroke: colour(s.label), width: 2, points: { show: true, size: 5 }, spanGaps: false };
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
    var percent = function (u, values) { return values.map(function (v) { return v + '%'; }); };
    [['dialect-rates', data.dialectRates], ['method-rates', data.methodRates]].forEach(function (chart) {
      document.querySelectorAll('[data-chart="' + chart[0] + '"]').forEach(function (area) {
        draw(area, chart[1], chart[1].map(function (s) { return s.values; }), percent, data);
      });
    });
  });
})();
