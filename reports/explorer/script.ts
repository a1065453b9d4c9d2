/**
 * The checkpoint explorer's part of the report's one inline script (appended to HOVER_SCRIPT, so
 * the page still runs exactly one script, allowed by its SHA-256 hash). One slider — and the arrow
 * keys, Home and End — moves every checkpoint-level view to the chosen checkpoint: a marker on
 * every chart over training steps, the checkpoint's point on the trajectory plots, the embedding's
 * Fourier norms, the neuron clusters, neuron and attention grids (snapped to the nearest checkpoint
 * that carries grids), and the read-out of that checkpoint's numbers. Text goes in through textContent;
 * the data come from the section's JSON block. Without script the section shows the last
 * checkpoint and says the slider needs scripts.
 */
export const EXPLORER_SCRIPT = `(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var box = document.getElementById('explorer');
  if (!box) return;
  var src = box.querySelector('script.explorer-data');
  var slider = box.querySelector('input.explorer-slider');
  var out = box.querySelector('output.explorer-readout');
  if (!src || !slider || !out) return;
  var d;
  try { d = JSON.parse(src.textContent); } catch (e) { return; }
  var n = d.steps.length;
  if (!n) return;
  var markers = [];
  Array.prototype.forEach.call(document.querySelectorAll('figure[data-hover]'), function (fig) {
    var h = fig.querySelector('script.hover-data');
    var svg = fig.querySelector('svg.chart');
    if (!h || !svg) return;
    var hv;
    try { hv = JSON.parse(h.textContent); } catch (e) { return; }
    if (hv.kind !== 'lines' || hv.domain[0] !== d.domain[0] || hv.domain[1] !== d.domain[1]) return;
    var line = document.createElementNS(NS, 'line');
    line.setAttribute('class', 'explorer-marker');
    line.setAttribute('stroke', '#CC79A7'); line.setAttribute('stroke-width', '1.6');
    line.setAttribute('pointer-events', 'none');
    line.setAttribute('y1', hv.plot[1]); line.setAttribute('y2', hv.plot[1] + hv.plot[3]);
    svg.appendChild(line);
    markers.push({ line: line, plot: hv.plot, domain: hv.domain });
  });
  var points = {};
  Array.prototype.forEach.call(document.querySelectorAll('svg.chart circle[data-step]'), function (c) {
    var s = c.getAttribute('data-step');
    (points[s] = points[s] || []).push(c);
  });
  var lit = [];
  var bars = d.bars ? Array.prototype.map.call(box.querySelectorAll('rect.explorer-bar'), function (r) { return r; }) : [];
  var gd = d.grids;
  var gImages = gd ? box.querySelectorAll('image.explorer-grid') : [];
  var gRanges = gd ? box.querySelectorAll('text.explorer-grid-range') : [];
  var gBars = gd && gd.clusters ? box.querySelectorAll('rect.explorer-cluster-bar') : [];
  var gNote = box.querySelector('output.explorer-grid-note');
  var gText = box.querySelector('output.explorer-cluster-text');
  var gShown = -1;
  function showGrids(i) {
    var g = gd.of[i];
    if (gNote) gNote.textContent = gd.notes[i];
    if (g === gShown) return;
    gShown = g;
    Array.prototype.forEach.call(gImages, function (img) {
      var view = img.id === 'explorer-neurons-svg-sprite' ? 'neurons' : 'attention';
      if (!img.hasAttribute('data-last')) img.setAttribute('data-last', img.getAttribute('href'));
      var b64 = gd.images[view][g];
      img.setAttribute('href', b64 ? 'data:image/png;base64,' + b64 : img.getAttribute('data-last'));
    });
    Array.prototype.forEach.call(gRanges, function (t) {
      var r = gd.ranges[g][Number(t.getAttribute('data-panel'))];
      if (r) t.textContent = r;
    });
    if (gd.clusters) {
      var hs = gd.clusters.heights[g];
      Array.prototype.forEach.call(gBars, function (r, k) {
        var hgt = hs[k] || 0;
        r.setAttribute('y', gd.clusters.top + gd.clusters.height - hgt); r.setAttribute('height', hgt);
      });
      if (gText) gText.textContent = gd.clusters.text[g];
    }
  }
  function show(i) {
    i = Math.max(0, Math.min(n - 1, i));
    slider.value = String(i);
    var s = d.steps[i];
    markers.forEach(function (m) {
      var x = m.plot[0] + (s - m.domain[0]) / (m.domain[1] - m.domain[0]) * m.plot[2];
      m.line.setAttribute('x1', x); m.line.setAttribute('x2', x);
    });
    lit.forEach(function (c) { c.setAttribute('r', c.getAttribute('data-r')); c.removeAttribute('stroke'); });
    lit = points[String(s)] || [];
    lit.forEach(function (c) {
      if (!c.hasAttribute('data-r')) c.setAttribute('data-r', c.getAttribute('r'));
      c.setAttribute('r', '6'); c.setAttribute('stroke', '#000'); c.setAttribute('stroke-width', '1.5');
      c.parentNode.appendChild(c);
    });
    if (d.bars) {
      var hs = d.bars.heights[i];
      bars.forEach(function (r, k) {
        var hgt = hs ? hs[k] : 0;
        r.setAttribute('y', d.bars.top + d.bars.height - hgt); r.setAttribute('height', hgt);
      });
    }
    if (gd) showGrids(i);
    out.textContent = d.labels[i];
  }
  // Sticky for the whole page, not only its own section: lift the bar up to the body, after the contents.
  var bar = box.querySelector('.explorer-bar');
  var nav = document.querySelector('body > nav');
  if (bar && nav && nav.parentNode === document.body) document.body.insertBefore(bar, nav.nextSibling);
  slider.disabled = false;
  slider.addEventListener('input', function () { show(Number(slider.value)); });
  document.addEventListener('keydown', function (ev) {
    var t = ev.target && ev.target.tagName;
    if (t === 'INPUT' && ev.target !== slider) return;
    if (ev.target === slider) return; // the slider moves itself and fires input
    var i = Number(slider.value);
    if (ev.key === 'ArrowRight') i += 1; else if (ev.key === 'ArrowLeft') i -= 1;
    else if (ev.key === 'Home') i = 0; else if (ev.key === 'End') i = n - 1; else return;
    ev.preventDefault();
    show(i);
  });
  show(n - 1);
})();
`;
