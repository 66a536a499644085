/**
 * The script and style embedded in the HTML page, as strings.
 *
 * Invariants:
 * - Plain ES2017 with no imports, no network and no external URLs: the page is
 *   one offline file. SVG is built as markup and parsed by the HTML parser, so
 *   no namespace URL is needed either.
 * - The page reads its data from `<script type="application/json" id="gc-data">`
 *   and renders every panel from the same frame index, so all modes always show
 *   the same step.
 * - DOM contract the browser test relies on: each panel is `#panel-<mode>`; an
 *   edge is `path.edge[data-edge="G1.s2"]` (a stack slot) or `[data-edge="A.x"]`;
 *   the first violating edge carries class `violation` and `data-violation`
 *   (`weak` or `strong`); `#step-slider` is the slider; the pacer's outputs are
 *   `#pacer-go118` and `#pacer-pre118`.
 * - Written without template literals, so it can live inside one here.
 */

export const CLIENT_CSS = String.raw`
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; color: #222; background: #fafafa; }
h1 { font-size: 20px; margin: 0 0 4px; }
.desc { max-width: 70em; color: #444; }
.controls { position: sticky; top: 0; background: #fafafa; padding: 8px 0; z-index: 2; border-bottom: 1px solid #ddd; }
.controls button { font-size: 14px; margin-right: 4px; }
#step-slider { width: 320px; vertical-align: middle; }
#step-label { font-family: ui-monospace, monospace; margin-left: 8px; }
.layout { display: flex; gap: 16px; align-items: flex-start; margin-top: 10px; }
ol.steps { font-family: ui-monospace, monospace; font-size: 12px; min-width: 13em; padding-left: 2.6em; margin: 0; }
ol.steps li { cursor: pointer; padding: 1px 4px; }
ol.steps li.current { background: #ffe9a8; }
ol.steps li.initial { list-style: none; color: #777; }
.panels { display: flex; flex-wrap: wrap; gap: 12px; }
.panel { background: #fff; border: 1px solid #ccc; border-radius: 6px; padding: 8px; width: 380px; }
.panel.broken { border-color: #d33; box-shadow: 0 0 0 2px #f3b7b7; }
.panel h2 { font-size: 15px; margin: 0; font-family: ui-monospace, monospace; }
.panel .title { font-size: 11px; color: #666; min-height: 2.6em; }
.badge { font-size: 11px; padding: 1px 6px; border-radius: 8px; margin-left: 6px; font-family: system-ui, sans-serif; }
.badge.safe { background: #d9f2dc; color: #185c1f; }
.badge.unsafe { background: #f8d7d7; color: #8a1c1c; }
.panel svg { width: 100%; height: auto; background: #fcfcfc; border: 1px solid #eee; }
.status { font-family: ui-monospace, monospace; font-size: 12px; }
.status .ok { color: #1a7f2a; }
.status .bad { color: #c62020; font-weight: bold; }
.status .note { color: #555; }
.obj circle { stroke: #333; stroke-width: 1.5; }
.obj.white circle { fill: #fff; }
.obj.grey circle { fill: #a9a9a9; }
.obj.black circle { fill: #222; }
.obj text { font: 13px ui-monospace, monospace; text-anchor: middle; dominant-baseline: central; fill: #222; }
.obj.black text { fill: #fff; }
.obj.freed { opacity: 0.35; }
.obj.freed circle { stroke-dasharray: 3 3; }
.obj.lost { opacity: 1; }
.obj.lost circle { stroke: #d00; stroke-width: 3; fill: #fff; }
.obj .tag { font-size: 9px; fill: #d00; }
.root rect.frame { fill: #fff; stroke: #555; }
.root rect.head { stroke: #555; }
.root.grey rect.head { fill: #a9a9a9; }
.root.black rect.head { fill: #222; }
.root.white rect.head { fill: #fff; }
.root text { font: 12px ui-monospace, monospace; fill: #222; }
.root.black text.name { fill: #fff; }
.edge { fill: none; stroke: #777; stroke-width: 1.4; }
.edge.bw { stroke: #e08a00; stroke-dasharray: 5 3; }
.edge.dangling { stroke: #d00; stroke-dasharray: 2 3; }
.edge.violation { stroke: #d00; stroke-width: 3.5; stroke-dasharray: none; }
.flabel { font: 10px ui-monospace, monospace; fill: #555; }
.legend { font-size: 12px; color: #555; margin: 6px 0; }
.pacer { margin-top: 18px; background: #fff; border: 1px solid #ccc; border-radius: 6px; padding: 8px 12px; max-width: 760px; }
.pacer input { width: 5em; }
.pacer output { font-weight: bold; font-family: ui-monospace, monospace; }
`

export const CLIENT_JS = String.raw`
(function () {
  'use strict';
  // Names come from users' files ("__proto__" is one): every object of the
  // data becomes null-prototype, so a name is always a plain own key.
  var data = JSON.parse(document.getElementById('gc-data').textContent, function (key, value) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    var out = Object.create(null);
    Object.keys(value).forEach(function (k) { out[k] = value[k]; });
    return out;
  });
  var L = data.layout, R = 16, HEADER = data.dims.header, ROW = data.dims.row;
  var frameCount = data.steps.length + 1;
  var current = 0;
  var slider = document.getElementById('step-slider');
  var label = document.getElementById('step-label');
  var stepItems = document.querySelectorAll('ol.steps li');

  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]; });
  }
  function attr(name, value) { return ' ' + name + '="' + esc(value) + '"'; }
  function fmt(n) { return Math.round(n * 10) / 10; }

  // A quadratic curve from (x1,y1) to the rim of the circle at (x2,y2).
  function curve(x1, y1, x2, y2, bend, startRim) {
    var dx = x2 - x1, dy = y2 - y1, len = Math.hypot(dx, dy) || 1;
    var cx = (x1 + x2) / 2 - dy / len * bend, cy = (y1 + y2) / 2 + dx / len * bend;
    var ex = x2 - cx, ey = y2 - cy, el = Math.hypot(ex, ey) || 1;
    var tx = x2 - ex / el * (R + 3), ty = y2 - ey / el * (R + 3);
    if (startRim) {
      var sx = cx - x1, sy = cy - y1, sl = Math.hypot(sx, sy) || 1;
      x1 = x1 + sx / sl * R; y1 = y1 + sy / sl * R;
    }
    var lx = 0.49 * x1 + 0.42 * cx + 0.09 * tx, ly = 0.49 * y1 + 0.42 * cy + 0.09 * ty;
    return { d: 'M' + fmt(x1) + ',' + fmt(y1) + ' Q' + fmt(cx) + ',' + fmt(cy) + ' ' + fmt(tx) + ',' + fmt(ty), lx: lx, ly: ly };
  }
  function selfLoop(x, y) {
    return { d: 'M' + (x + 11) + ',' + (y - 12) + ' C' + (x + 48) + ',' + (y - 40) + ' ' + (x + 48) + ',' + (y + 40) + ' ' + (x + 14) + ',' + (y + 13), lx: x + 40, ly: y - 20 };
  }

  function edgeClass(frame, sourceColor, from, to) {
    var target = frame.objects[to];
    var cls = 'edge';
    if (target && target.freed) cls += ' dangling';
    else if (sourceColor === 'black' && target && target.color === 'white') cls += ' bw';
    var v = null;
    if (frame.weak && frame.weak.from === from) v = 'weak';
    else if (!frame.weak && frame.strong && frame.strong.from === from) v = 'strong';
    if (v) cls += ' violation';
    return { cls: cls, v: v };
  }

  function renderSvg(panelIndex, frame) {
    var marker = 'arrow-' + panelIndex, markerRed = 'arrow-red-' + panelIndex;
    var out = ['<svg viewBox="0 0 ' + L.width + ' ' + L.height + '" role="img" aria-label="heap graph">',
      '<defs><marker id="' + marker + '" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#777"/></marker>',
      '<marker id="' + markerRed + '" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#d00"/></marker></defs>'];
    var edges = [], boxes = [], nodes = [];
    function pushEdge(geom, e, from, to, fieldLabel) {
      var m = e.v || e.cls.indexOf('dangling') >= 0 ? markerRed : marker;
      edges.push('<path class="' + e.cls + '"' + attr('d', geom.d) + attr('data-edge', from) + attr('data-to', to) +
        (e.v ? attr('data-violation', e.v) : '') + ' marker-end="url(#' + m + ')"><title>' + esc(from + ' -> ' + to) + '</title></path>');
      if (fieldLabel) edges.push('<text class="flabel"' + attr('x', fmt(geom.lx)) + attr('y', fmt(geom.ly)) + '>' + esc(fieldLabel) + '</text>');
    }
    L.roots.forEach(function (box) {
      var isStack = box.kind === 'stack';
      var state = isStack ? frame.stacks[box.name] : frame.objects[box.name];
      if (!state) return;
      var color = state.color;
      var cells = isStack ? state.slots : state.fields;
      var map = Object.create(null);
      cells.forEach(function (c) { map[c[0]] = c[1]; });
      boxes.push('<g class="root ' + color + '"' + attr('data-root', box.name) + '>' +
        '<rect class="frame"' + attr('x', box.x) + attr('y', box.y) + attr('width', box.w) + attr('height', box.h) + ' rx="4"/>' +
        '<rect class="head"' + attr('x', box.x) + attr('y', box.y) + attr('width', box.w) + attr('height', HEADER) + ' rx="4"/>' +
        '<text class="name"' + attr('x', box.x + 6) + attr('y', box.y + 15) + '>' + esc(box.name + (isStack ? ' stack' : '')) + '</text>');
      box.rows.forEach(function (row, i) {
        var y = box.y + HEADER + i * ROW + ROW / 2;
        var has = row in map;
        boxes.push('<text' + attr('x', box.x + 6) + attr('y', y + 4) + '>' + esc(row + (has && map[row] === null ? ': nil' : has ? '' : ' (gone)')) + '</text>');
        var to = map[row];
        if (to) {
          var n = L.nodes[to];
          var from = box.name + '.' + row;
          if (n) pushEdge(curve(box.x + box.w, y, n.x, n.y, 18, false), edgeClass(frame, color, from, to), from, to, '');
        }
      });
      boxes.push('</g>');
    });
    Object.keys(L.nodes).forEach(function (name) {
      var o = frame.objects[name];
      var p = L.nodes[name];
      if (!o) return;
      o.fields.forEach(function (f) {
        var to = f[1];
        if (!to || !L.nodes[to]) return;
        var q = L.nodes[to];
        var from = name + '.' + f[0];
        var geom = to === name ? selfLoop(p.x, p.y) : curve(p.x, p.y, q.x, q.y, f[0] === 'y' ? -22 : 22, true);
        pushEdge(geom, edgeClass(frame, o.freed ? 'freed' : o.color, from, to), from, to, f[0]);
      });
      var lost = frame.lost.indexOf(name) >= 0;
      var cls = 'obj ' + o.color + (o.freed ? ' freed' : '') + (lost ? ' lost' : '');
      nodes.push('<g' + attr('class', cls) + attr('data-node', name) + attr('data-color', o.freed ? 'freed' : o.color) + '>' +
        '<circle' + attr('cx', p.x) + attr('cy', p.y) + attr('r', R) + '/>' +
        '<text' + attr('x', p.x) + attr('y', p.y) + '>' + esc(name) + '</text>' +
        (lost ? '<text class="tag"' + attr('x', p.x) + attr('y', p.y + R + 9) + '>LOST</text>' : o.freed ? '<text class="tag"' + attr('x', p.x) + attr('y', p.y + R + 9) + '>freed</text>' : '') +
        '</g>');
    });
    return out.concat(boxes, edges, nodes, ['</svg>']).join('');
  }

  function inv(name, edge) {
    return edge ? '<span class="bad">' + name + ' broken: ' + esc(edge.from + ' -> ' + edge.to) + '</span>'
      : '<span class="ok">' + name + ' holds</span>';
  }
  function list(xs) { return xs.length ? xs.join(' ') : '-'; }

  function render() {
    data.modes.forEach(function (m, i) {
      var frame = m.frames[current];
      var panel = document.getElementById('panel-' + m.mode);
      panel.querySelector('.graph').innerHTML = renderSvg(i, frame);
      panel.classList.toggle('broken', !!frame.weak);
      var mt = frame.metrics;
      panel.querySelector('.status').innerHTML =
        '<div>phase ' + esc(frame.phase) + (frame.pause ? ' · <b>STW pause ' + frame.pause + '</b>' : '') + '</div>' +
        '<div>' + inv('strong', frame.strong) + '</div><div>' + inv('weak', frame.weak) + '</div>' +
        '<div class="note">' + esc(frame.note || '\u00a0') + '</div>' +
        '<div>STW ' + mt.stw + ' in ' + mt.pauses + ' pause(s) · mark work ' + mt.markWork + ' · barrier calls ' + mt.barrierCalls + '</div>' +
        '<div>freed ' + esc(list(frame.freed)) + ' · <span class="' + (frame.lost.length ? 'bad' : '') + '">lost ' + esc(list(frame.lost)) + '</span> · floating ' + esc(list(frame.floating)) + '</div>';
    });
    slider.value = String(current);
    label.textContent = current === 0 ? 'initial state' : 'after steps[' + (current - 1) + '] ' + data.steps[current - 1];
    for (var k = 0; k < stepItems.length; k++) stepItems[k].classList.toggle('current', k === current);
    document.body.setAttribute('data-frame', String(current));
  }

  function go(frame) {
    current = Math.max(0, Math.min(frameCount - 1, frame));
    render();
  }

  function firstViolation() {
    for (var f = 0; f < frameCount; f++) {
      for (var i = 0; i < data.modes.length; i++) if (data.modes[i].frames[f].weak) return f;
    }
    for (var g = 0; g < frameCount; g++) {
      for (var j = 0; j < data.modes.length; j++) if (data.modes[j].frames[g].strong) return g;
    }
    return current;
  }

  slider.addEventListener('input', function () { go(Number(slider.value)); });
  document.getElementById('btn-first').addEventListener('click', function () { go(0); });
  document.getElementById('btn-prev').addEventListener('click', function () { go(current - 1); });
  document.getElementById('btn-next').addEventListener('click', function () { go(current + 1); });
  document.getElementById('btn-last').addEventListener('click', function () { go(frameCount - 1); });
  document.getElementById('btn-violation').addEventListener('click', function () { go(firstViolation()); });
  Array.prototype.forEach.call(stepItems, function (li, k) { li.addEventListener('click', function () { go(k); }); });
  document.addEventListener('keydown', function (ev) {
    var t = ev.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA')) return; // the slider and the pacer handle their own keys
    if (ev.key === 'ArrowRight' || ev.key === 'j') go(current + 1);
    else if (ev.key === 'ArrowLeft' || ev.key === 'k') go(current - 1);
    else if (ev.key === 'Home') go(0);
    else if (ev.key === 'End') go(frameCount - 1);
    else if (ev.key === 'v') go(firstViolation());
    else return;
    ev.preventDefault();
  });

  // Pacer panel: the same formulas as src/gc-sim/pacer.ts.
  function pacer() {
    function num(id) { return Number(document.getElementById(id).value); }
    var live = num('pacer-live'), stacks = num('pacer-stacks'), globals = num('pacer-globals');
    var gogcText = document.getElementById('pacer-gogc').value.trim().toLowerCase();
    var pre = document.getElementById('pacer-pre118'), now = document.getElementById('pacer-go118');
    if (gogcText === 'off') { pre.textContent = now.textContent = 'unbounded (GOGC=off)'; return; }
    var r = Number(gogcText) / 100;
    if (!(r >= 0) || !(live >= 0) || !(stacks >= 0) || !(globals >= 0)) { pre.textContent = now.textContent = 'invalid input'; return; }
    pre.textContent = fmt(live * (1 + r)) + ' MiB';
    now.textContent = fmt(live + (live + stacks + globals) * r) + ' MiB';
  }
  ['pacer-live', 'pacer-stacks', 'pacer-globals', 'pacer-gogc'].forEach(function (id) {
    document.getElementById(id).addEventListener('input', pacer);
  });
  pacer();
  // Panels grow with the graph (one pixel per layout unit), within reason.
  var panelWidth = Math.min(Math.max(380, L.width + 18), 1100) + 'px';
  Array.prototype.forEach.call(document.querySelectorAll('.panel'), function (p) { p.style.width = panelWidth; });
  go(data.start || 0);
})();
`
