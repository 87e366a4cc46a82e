/**
 * The browser side of the charts, shared by the report file and the dashboard: plain ES2020 that runs
 * in the page next to uPlot (inlined in the report, served as /static/ by the dashboard). It reads chart
 * specs (JSON) and draws them; it never builds HTML from data (textContent only).
 *
 * A chart spec: { id, title, unit: 'bytes'|'percent'|'count'|'per-second'|'load',
 *   t: [seconds…], series: [{ label, values: [number|null…], color?, dash?, fill? }],
 *   marks?: [{ t, label }]  (vertical lines: a spike's onset, an exhaustion date) }
 */
export const CHART_JS = String.raw`
(function () {
  'use strict';
  var PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d', '#7c3aed', '#0d9488'];
  function fmtBytes(v) {
    if (v == null || !isFinite(v)) return '–';
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    var i = 0;
    var a = Math.abs(v);
    while (a >= 1024 && i < u.length - 1) { a /= 1024; v /= 1024; i++; }
    return (i === 0 ? v.toFixed(0) : v.toFixed(Math.abs(v) >= 100 ? 0 : 1)) + ' ' + u[i];
  }
  function fmtNum(v) {
    if (v == null || !isFinite(v)) return '–';
    var a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(1) + 'G';
    if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
    if (a >= 1e4) return (v / 1e3).toFixed(1) + 'k';
    if (a >= 100 || Number.isInteger(v)) return v.toFixed(0);
    return v.toFixed(a >= 10 ? 1 : 2);
  }
  function fmt(unit, v) {
    if (v == null || !isFinite(v)) return '–';
    if (unit === 'bytes') return fmtBytes(v);
    if (unit === 'percent') return v.toFixed(v >= 10 ? 0 : 1) + '%';
    if (unit === 'per-second') return fmtNum(v) + '/s';
    return fmtNum(v);
  }
  function fmtTime(s) {
    var d = new Date(s * 1000);
    return d.toISOString().replace('T', ' ').slice(0, 19) + 'Z';
  }

  function marksPlugin(marks) {
    return {
      hooks: {
        draw: [function (u) {
          if (!marks || !marks.length) return;
          var ctx = u.ctx;
          ctx.save();
          for (var i = 0; i < marks.length; i++) {
            var m = marks[i];
            var x = Math.round(u.valToPos(m.t, 'x', true));
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx.strokeStyle = m.color || '#b91c1c';
            ctx.lineWidth = 1.5 * devicePixelRatio;
            ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.setLineDash([]);
            ctx.fillStyle = m.color || '#b91c1c';
            ctx.font = (11 * devicePixelRatio) + 'px system-ui, sans-serif';
            var w = ctx.measureText(m.label).width;
            var tx = x + 4 * devicePixelRatio;
            if (tx + w > u.bbox.left + u.bbox.width) tx = x - w - 4 * devicePixelRatio;
            ctx.fillText(m.label, tx, u.bbox.top + 12 * devicePixelRatio);
          }
          ctx.restore();
        }],
      },
    };
  }

  var charts = [];

  function widthOf(el) {
    var w = el.clientWidth || (el.parentNode && el.parentNode.clientWidth) || 600;
    return Math.max(240, Math.floor(w));
  }

  function toData(spec) {
    var data = [spec.t];
    for (var i = 0; i < spec.series.length; i++) data.push(spec.series[i].values);
    return data;
  }

  function hasData(spec) {
    for (var i = 0; i < spec.series.length; i++) {
      var v = spec.series[i].values;
      for (var j = 0; j < v.length; j++) if (v[j] != null) return true;
    }
    return false;
  }

  function make(el, spec) {
    while (el.firstChild) el.removeChild(el.firstChild);
    el.classList.add('ps-chart');
    if (!spec.t.length || !hasData(spec)) {
      var empty = document.createElement('div');
      empty.className = 'ps-empty';
      empty.textContent = (spec.title ? spec.title + ': ' : '') + 'no data in this window';
      el.appendChild(empty);
      return undefined;
    }
    var unit = spec.unit;
    var series = [{ value: function (u, v) { return v == null ? '–' : fmtTime(v); } }];
    for (var i = 0; i < spec.series.length; i++) {
      var s = spec.series[i];
      var color = s.color || PALETTE[i % PALETTE.length];
      series.push({
        label: s.label,
        stroke: color,
        width: s.width || 1.5,
        dash: s.dash || undefined,
        fill: s.fill ? color + '22' : undefined,
        spanGaps: false,
        points: { show: false },
        value: (function (un) { return function (u, v) { return fmt(un, v); }; })(s.unit || unit),
      });
    }
    var opts = {
      title: spec.title,
      width: widthOf(el),
      height: spec.height || 220,
      series: series,
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true }, y: spec.yMin0 === false ? {} : { range: function (u, lo, hi) { return [Math.min(0, lo), hi > 0 ? hi * 1.08 : 1]; } } },
      axes: [
        { stroke: '#475569', grid: { stroke: '#e2e8f0' } },
        { stroke: '#475569', grid: { stroke: '#e2e8f0' }, size: 70, values: function (u, ticks) { return ticks.map(function (v) { return fmt(unit, v); }); } },
      ],
      plugins: [marksPlugin(spec.marks)],
    };
    var u = new uPlot(opts, toData(spec), el);
    var rec = { el: el, u: u, spec: spec };
    charts.push(rec);
    el.dataset.points = String(spec.t.length);
    return rec;
  }

  function update(rec, spec) {
    if (!rec) return;
    rec.spec = spec;
    rec.u.setData(toData(spec));
    rec.el.dataset.points = String(spec.t.length);
  }

  function resizeAll() {
    for (var i = 0; i < charts.length; i++) {
      var c = charts[i];
      if (!document.body.contains(c.el)) continue;
      c.u.setSize({ width: widthOf(c.el), height: c.u.height });
    }
  }
  var pending;
  window.addEventListener('resize', function () { clearTimeout(pending); pending = setTimeout(resizeAll, 100); });
  // Printing lays the page out narrower than the screen: redraw the canvases at the printed width.
  window.addEventListener('beforeprint', resizeAll);
  window.addEventListener('afterprint', resizeAll);

  function forget(el) {
    charts = charts.filter(function (c) { if (el.contains(c.el)) { c.u.destroy(); return false; } return true; });
  }

  window.psCharts = { make: make, update: update, resizeAll: resizeAll, forget: forget, fmt: fmt, fmtBytes: fmtBytes, fmtTime: fmtTime, palette: PALETTE };
})();
`;

/** Makes every table with class `sortable` sortable by clicking a header (numbers by data-v). */
export const TABLE_JS = String.raw`
(function () {
  'use strict';
  function key(td) {
    var v = td.getAttribute('data-v');
    if (v !== null && v !== '') { var n = Number(v); if (!isNaN(n)) return n; }
    return td.textContent.trim().toLowerCase();
  }
  function sortBy(table, col, dir) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[col]), y = key(b.cells[col]);
      if (typeof x === 'number' && typeof y !== 'number') return -1;
      if (typeof y === 'number' && typeof x !== 'number') return 1;
      return (x < y ? -1 : x > y ? 1 : 0) * dir;
    });
    for (var i = 0; i < rows.length; i++) body.appendChild(rows[i]);
    var ths = table.tHead.rows[0].cells;
    for (var j = 0; j < ths.length; j++) ths[j].removeAttribute('aria-sort');
    ths[col].setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
  }
  function wire(table) {
    if (table.dataset.wired) return;
    table.dataset.wired = '1';
    var ths = table.tHead ? table.tHead.rows[0].cells : [];
    for (var i = 0; i < ths.length; i++) {
      (function (col, th) {
        th.tabIndex = 0;
        th.addEventListener('click', function () {
          var cur = th.getAttribute('aria-sort');
          sortBy(table, col, cur === 'descending' ? 1 : -1);
        });
      })(i, ths[i]);
    }
  }
  window.psTables = { wire: wire, sortBy: sortBy, wireAll: function (root) { var t = (root || document).querySelectorAll('table.sortable'); for (var i = 0; i < t.length; i++) wire(t[i]); } };
})();
`;
