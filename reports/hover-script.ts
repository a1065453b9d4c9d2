/**
 * The report's one inline script: hover read-outs (the values under the pointer, written into the
 * figure's <output>) and a guide line on timeline charts. Progressive enhancement only — with
 * scripts off every chart, label and tooltip (<title>) is still there. It reads the figure's JSON
 * data block and writes text with textContent, never HTML. The page's Content-Security-Policy
 * allows this exact script by its SHA-256 hash and nothing else.
 */
import { EXPLORER_SCRIPT } from './explorer/script.ts';

export const HOVER_SCRIPT = `(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  function num(v, pct) {
    if (v === null || v === undefined) return '–';
    if (pct) return (v * 100).toFixed(1) + ' %';
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
    return String(Number(v.toPrecision(3)));
  }
  function step(s) {
    var a = Math.abs(s);
    if (a < 1000) return String(Math.round(s));
    if (a < 1e6) return String(Number((s / 1000).toFixed(a < 1e4 ? 2 : 1))) + 'k';
    return String(Number((s / 1e6).toFixed(2))) + 'M';
  }
  function nearest(xs, v) {
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
