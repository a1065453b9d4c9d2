/**
 * The report's one inline script: hover read-outs (the values under the pointer, written into the
 * figure's <output>) and a guide line on timeline charts. Progressive enhancement only — with
 * scripts off every chart, label and tooltip (<title>) is still there. It reads the figure's JSON
 * data block and writes text with textContent, never HTML. The page's Content-Security-Policy
 * allows this exact script by its SHA-256 hash and nothing else.
 */
import { EXPLORER_SCRIPT } from './explorer/script.ts';

/**
 * num() and step() of the page: src/format.ts's fmtNum (3 digits) and fmtStep, in the page's
 * plain script. tests/reports/format.test.ts runs this text and compares it with them.
 */
export const FORMAT_SCRIPT = `
  function strip(s) { return s.indexOf('.') >= 0 ? s.replace(/\\.?0+$/, '') : s; }
  function num(v, pct) {
    if (v === null || v === undefined || isNaN(v)) return '–';
    if (pct) return (v * 100).toFixed(1) + ' %';
    if (!isFinite(v)) return v > 0 ? '∞' : '−∞';
    if (v === 0) return '0';
    var a = Math.abs(v), s;
    if (a >= 1e6 || a < 1e-3) { var me = v.toExponential(2).split('e'); s = strip(me[0]) + 'e' + Number(me[1]); }
    else s = strip(String(Number(v.toPrecision(3))));
    return s.replace(/^-/, '−');
  }
  function step(x) {
    if (x === null || x === undefined || !isFinite(x)) return '–';
    var a = Math.round(Math.abs(x)), sign = x < 0 && a > 0 ? '−' : '';
    if (a < 1000) return sign + String(a);
    var unit = a < 1e6 ? 1000 : 1e6, suffix = a < 1e6 ? 'k' : 'M', dec = a < 1e4 ? 2 : a < 1e6 ? 1 : 2;
    var c = (a / unit).toFixed(dec);
    if (Math.round(Number(c) * unit) === a) return sign + strip(c) + suffix;
    return sign + String(a).replace(/\\B(?=(\\d{3})+(?!\\d))/g, ',');
  }
`;

export const HOVER_SCRIPT =
  `(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
${FORMAT_SCRIPT}  function nearest(xs, v) {
    var lo = 0, hi = xs.length - 1;
    if (hi < 0) return -1;
    while (hi - lo > 1) { var mid = (lo + hi) >> 1; if (xs[mid] <= v) lo = mid; else hi = mid; }
    return Math.abs(xs[hi] - v) < Math.abs(xs[lo] - v) ? hi : lo;
  }
  function below(edges, v) {
    var lo = 0, hi = edges.length - 1;
    if (v < edges[0] || v >= edges[hi]) return -1;
    while (hi - lo > 1) { var mid = (lo + hi) >> 1; if (edges[mid] <= v) lo = mid; else hi = mid; }
    return lo;
  }
  function inside(plot, p) {
    return p.x >= plot[0] && p.x <= plot[0] + plot[2] && p.y >= plot[1] - 20 && p.y <= plot[1] + plot[3];
  }
  function readLines(d, p, rule) {
    if (!inside(d.plot, p)) return '';
    var t = d.domain[0] + (p.x - d.plot[0]) / d.plot[2] * (d.domain[1] - d.domain[0]);
    var parts = [];
    var at = null;
    d.series.forEach(function (s) {
      var i = nearest(s.x, t);
      if (i < 0) return;
      if (at === null) at = s.x[i];
      parts.push(s.label + ' ' + num(s.y[i], d.percent));
    });
    if (at === null) return '';
    rule.setAttribute('x1', p.x); rule.setAttribute('x2', p.x);
    rule.setAttribute('y1', d.plot[1]); rule.setAttribute('y2', d.plot[1] + d.plot[3]);
    rule.setAttribute('visibility', 'visible');
    return 'step ' + step(at) + ' · ' + parts.join(' · ');
  }
  function readGrid(d, p) {
    for (var k = 0; k < d.panels.length; k++) {
      var g = d.panels[k];
      if (p.x < g.plot[0] || p.x > g.plot[0] + g.plot[2] || p.y < g.plot[1] || p.y > g.plot[1] + g.plot[3]) continue;
      var c = below(g.colEdges, p.x - g.plot[0]);
      var r = Math.floor((p.y - g.plot[1]) / g.plot[3] * g.rowValues.length);
      if (c < 0 || r < 0 || r >= g.rowValues.length) return '';
      var cv = g.colName === 'step' ? step(g.colValues[c]) : g.colValues[c];
      return g.rowName + ' ' + g.rowValues[r] + ', ' + g.colName + ' ' + cv + ': ' + g.valueName + ' ' + num(g.values[r][c]);
    }
    return '';
  }
  function readBars(d, p) {
    if (!inside(d.plot, p)) return '';
    var i = Math.floor((p.x - d.plot[0]) / d.plot[2] * d.categories.length);
    if (i < 0 || i >= d.categories.length) return '';
    return d.categories[i] + ': ' + num(d.values[i]);
  }
  var figs = document.querySelectorAll('figure[data-hover]');
  Array.prototype.forEach.call(figs, function (fig) {
    var src = fig.querySelector('script.hover-data');
    var svg = fig.querySelector('svg.chart');
    var out = fig.querySelector('output.readout');
    if (!src || !svg || !out || !svg.getScreenCTM) return;
    var d;
    try { d = JSON.parse(src.textContent); } catch (e) { return; }
    var rule = document.createElementNS(NS, 'line');
    rule.setAttribute('stroke', '#000'); rule.setAttribute('stroke-width', '0.7');
    rule.setAttribute('visibility', 'hidden'); rule.setAttribute('pointer-events', 'none');
    svg.appendChild(rule);
    svg.addEventListener('mousemove', function (ev) {
      var m = svg.getScreenCTM();
      if (!m) return;
      var pt = svg.createSVGPoint(); pt.x = ev.clientX; pt.y = ev.clientY;
      var p = pt.matrixTransform(m.inverse());
      rule.setAttribute('visibility', 'hidden');
      var text = d.kind === 'lines' ? readLines(d, p, rule) : d.kind === 'grid' ? readGrid(d, p) : d.kind === 'bars' ? readBars(d, p) : '';
      out.textContent = text;
    });
    svg.addEventListener('mouseleave', function () { out.textContent = ''; rule.setAttribute('visibility', 'hidden'); });
  });
})();
` + EXPLORER_SCRIPT; // the checkpoint explorer (./explorer/script.ts): still one script, one hash
