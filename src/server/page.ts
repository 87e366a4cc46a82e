/**
 * The dashboard page: a static shell and one script. Views are routed by the URL hash (#/ overview,
 * #/process/PID) and drawn from /api/ documents; data goes into the DOM as textContent only. The
 * overview refreshes itself every interval of the record (at least every 2 s, paused when hidden).
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>procsleuth dashboard</title>
<link rel="stylesheet" href="/static/uplot.css">
<link rel="stylesheet" href="/static/style.css">
<link rel="icon" href="data:,">
<!-- Sections below the first screen are laid out and painted when scrolled to, not before the first frame. -->
<style>main > section ~ section { content-visibility: auto; contain-intrinsic-size: auto 900px; }</style>
<!-- The overview's first two documents, fetched while the scripts load (the same URLs app.js asks for). -->
<link rel="preload" as="fetch" crossorigin="anonymous" href="/api/overview?since=24h">
<link rel="preload" as="fetch" crossorigin="anonymous" href="/api/processes?sort=cpu&amp;order=desc&amp;group=0&amp;limit=200">
</head><body>
<header class="top"><h1><a href="#/" style="color:inherit;text-decoration:none">procsleuth</a> <span id="hostname"></span></h1><span class="sub" id="status">loading…</span></header>
<nav class="toc"><a href="#/">Overview</a><a href="#/" data-jump="ov-processes">Processes</a><a href="#/" data-jump="ov-findings">Findings</a><a href="#/" data-jump="ov-suspects">Leaks and spikes</a><span class="muted" id="window-pick">window:
<select id="since"><option value="1h">1 hour</option><option value="6h">6 hours</option><option value="24h" selected>24 hours</option><option value="7d">7 days</option><option value="all">all</option></select></span></nav>
<main id="view"></main>
<footer>procsleuth dashboard · JSON API under <a href="/api/">/api/</a></footer>
<script src="/static/uplot.js"></script>
<script src="/static/charts.js"></script>
<script src="/static/tables.js"></script>
<script src="/static/app.js"></script>
</body></html>
`;

export const APP_JS = String.raw`
(function () {
  'use strict';
  var view = document.getElementById('view');
  var statusEl = document.getElementById('status');
  var sinceEl = document.getElementById('since');
  var C = window.psCharts;
  var state = { sort: 'cpu', order: 'desc', grouped: false, timer: null, susTimer: null, procTimer: null, charts: {}, interval: 10000, route: '' };

  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === 'text') el.textContent = attrs[k];
      else if (k === 'class') el.className = attrs[k];
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), attrs[k]);
      else el.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c != null) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return el;
  }
  function api(path) {
    return fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } }).then(function (r) {
      if (r.status === 401) throw new Error('401: this dashboard needs its token (open it as /?token=…)');
      return r.json().then(function (j) { if (!r.ok) throw new Error(r.status + ': ' + (j.error || r.statusText)); return j; });
    });
  }
  function since() { return encodeURIComponent(sinceEl.value); }
  function fmtB(v) { return C.fmtBytes(v); }
  function fmtN(v, d) { return v == null ? '–' : Number(v).toFixed(d || 0); }
  function card(k, v, s) { return h('div', { class: 'card' }, [h('div', { class: 'k', text: k }), h('div', { class: 'v', text: v }), s ? h('div', { class: 's', text: s }) : null]); }
  function section(id, title, kids) { return h('section', { id: id }, [h('h2', { text: title })].concat(kids)); }
  function setStatus(s) { statusEl.textContent = s; }

  function chartsInto(box, specs, keyPrefix) {
    specs.forEach(function (spec) {
      var key = keyPrefix + spec.id;
      var rec = state.charts[key];
      if (rec && document.body.contains(rec.el)) {
        if (rec.u && rec.spec.series.length === spec.series.length) { C.update(rec, spec); return; }
        // The set of series changed (a TCP state appeared): redraw in the same place.
        C.forget(rec.el);
        state.charts[key] = C.make(rec.el, spec) || { el: rec.el, spec: spec };
        return;
      }
      var el = h('div', { 'data-chart': spec.id });
      box.appendChild(el);
      state.charts[key] = C.make(el, spec) || { el: el, spec: spec };
    });
  }

  // ---- overview --------------------------------------------------------------------------------
  function overview() {
    view.textContent = '';
    state.charts = {};
    var cards = h('div', { class: 'cards', id: 'ov-cards' });
    var charts = h('div', { class: 'charts', id: 'ov-charts' });
    var tcp = h('div', { id: 'ov-tcp' });
    var tools = h('div', { class: 'no-print', style: 'margin: 0 0 8px' }, [
      h('label', {}, [h('input', { type: 'checkbox', id: 'grouped', onchange: function (e) { state.grouped = e.target.checked; loadProcesses(); } }), ' grouped by executable and arguments']),
    ]);
    var table = h('div', { id: 'ov-table' });
    view.appendChild(section('ov-host', 'Host', [cards, charts]));
    view.appendChild(section('ov-processes', 'Processes', [tools, table]));
    view.appendChild(section('ov-findings', 'Findings of a triage of this host', [h('div', { id: 'ov-find', class: 'note', text: 'running a triage…' })]));
    view.appendChild(section('ov-suspects', 'Leak suspects and CPU spikes', [h('div', { id: 'ov-sus', class: 'note', text: 'asking for the leak suspects…' })]));
    view.appendChild(section('ov-tcp-s', 'TCP states and top remotes', [tcp]));
    document.getElementById('grouped').checked = state.grouped;
    return Promise.all([loadOverview(), loadProcesses()]).then(function () {
      // Navigation start to overview drawn (charts and table in the DOM), and to the frame that shows
      // them painted (a timeout after the next animation frame runs once that frame is out): for the
      // benchmark, and for anyone asking why it is slow.
      performance.mark('ps-overview-drawn');
      // The findings and suspects below come after that frame: their rendering must not delay it (a
      // hidden tab has no frames: then after a second).
      var rest = function () { if (rest) { rest = null; loadFindings(); loadSuspects(); } };
      var fallback = setTimeout(rest, 1000);
      requestAnimationFrame(function () { setTimeout(function () { performance.mark('ps-overview-painted'); clearTimeout(fallback); if (rest) rest(); }, 0); });
      document.documentElement.setAttribute('data-ready', 'overview');
    });
  }

  function loadOverview() {
    return api('/api/overview?since=' + since()).then(function (o) {
      document.getElementById('hostname').textContent = '— ' + (o.hostname || '');
      state.interval = Math.max(2000, o.intervalMs || 10000);
      setStatus('newest sample ' + (o.newestSample ? o.newestSample.t.replace('T', ' ').slice(0, 19) + 'Z' : 'none') + ' · ' + o.record.samples + ' samples · ' + o.record.processes + ' processes recorded');
      var cards = document.getElementById('ov-cards');
      if (!cards) return;
      cards.textContent = '';
      var n = o.now;
      cards.appendChild(card('CPU busy', n.cpuPercent == null ? '–' : n.cpuPercent.toFixed(0) + '%', 'of all cores'));
      cards.appendChild(card('load', [n.load1, n.load5, n.load15].map(function (x) { return fmtN(x, 2); }).join(' ')));
      cards.appendChild(card('memory used', fmtB(n.memTotalBytes - n.memAvailableBytes), 'of ' + fmtB(n.memTotalBytes)));
      cards.appendChild(card('swap used', fmtB(n.swapUsedBytes)));
      cards.appendChild(card('file handles', fmtN(n.fileNr)));
      cards.appendChild(card('sockets', fmtN(n.socketsUsed)));
      cards.appendChild(card('processes', fmtN(n.processes), fmtN(n.tasks) + ' tasks'));
      chartsInto(document.getElementById('ov-charts'), o.charts, 'ov:');
      var tcp = document.getElementById('ov-tcp');
      tcp.textContent = '';
      var t1 = h('table', { class: 'sortable' }, [h('thead', {}, [h('tr', {}, [h('th', { text: 'state' }), h('th', { class: 'n', text: 'sockets' })])]), h('tbody', {}, o.tcp.states.map(function (s) { return h('tr', {}, [h('td', { text: s.state }), h('td', { class: 'n', 'data-v': s.count, text: String(s.count) })]); }))]);
      var t2 = h('table', { class: 'sortable' }, [h('thead', {}, [h('tr', {}, [h('th', { text: 'state' }), h('th', { text: 'remote' }), h('th', { class: 'n', text: 'sockets' })])]), h('tbody', {}, o.tcp.remotes.map(function (r) { return h('tr', {}, [h('td', { text: r.state }), h('td', { class: 'mono', text: r.address }), h('td', { class: 'n', 'data-v': r.count, text: String(r.count) })]); }))]);
      tcp.appendChild(h('div', { class: 'charts' }, [t1, o.tcp.remotes.length ? t2 : h('p', { class: 'note', text: 'No remote addresses recorded yet: the recorder counts them on its socket passes.' })]));
      window.psTables.wireAll(tcp);
    });
  }

  var COLS = [
    ['pid', 'pid', 'n'], ['comm', 'command', ''], ['cpu', 'CPU', 'n'], ['rss', 'RSS', 'n'], ['pss', 'PSS', 'n'], ['fds', 'fds', 'n'], ['sockets', 'sockets', 'n'],
  ];
  var GCOLS = [['comm', 'group', ''], ['count', 'processes', 'n'], ['cpu', 'CPU', 'n'], ['rss', 'RSS', 'n'], ['pss', 'PSS', 'n'], ['fds', 'fds', 'n'], ['sockets', 'sockets', 'n']];

  function loadProcesses() {
    var q = '/api/processes?sort=' + state.sort + '&order=' + state.order + '&group=' + (state.grouped ? 1 : 0) + '&limit=200';
    return api(q).then(function (d) {
      var box = document.getElementById('ov-table');
      if (!box) return;
      var cols = d.grouped ? GCOLS : COLS;
      var head = h('tr', {}, cols.map(function (c) {
        var th = h('th', { class: c[2], 'data-sort': c[0], tabindex: '0', text: c[1] });
        if (state.sort === c[0]) th.setAttribute('aria-sort', state.order === 'asc' ? 'ascending' : 'descending');
        th.addEventListener('click', function () {
          if (state.sort === c[0]) state.order = state.order === 'desc' ? 'asc' : 'desc';
          else { state.sort = c[0]; state.order = c[0] === 'comm' || c[0] === 'pid' ? 'asc' : 'desc'; }
          loadProcesses();
        });
        return th;
      }));
      var body = h('tbody', {}, d.rows.map(function (r) {
        var cpu = r.cpuPercent == null ? '–' : r.cpuPercent.toFixed(1) + '%';
        if (d.grouped) return h('tr', {}, [h('td', { class: 'cmd', text: r.group }), h('td', { class: 'n', text: String(r.count) }), h('td', { class: 'n', text: cpu }), h('td', { class: 'n', text: fmtB(r.rssBytes) }), h('td', { class: 'n', text: fmtB(r.pssBytes) }), h('td', { class: 'n', text: fmtN(r.fds) }), h('td', { class: 'n', text: fmtN(r.sockets) })]);
        return h('tr', { 'data-pid': r.pid }, [
          h('td', { class: 'n' }, [h('a', { href: '#/process/' + r.pid, text: String(r.pid) })]),
          h('td', { class: 'cmd', title: r.cmdline }, [h('b', { text: r.comm }), ' ', h('span', { class: 'muted', text: r.cmdline.slice(0, 80) })]),
          h('td', { class: 'n', 'data-v': r.cpuPercent == null ? '' : r.cpuPercent, text: cpu }), h('td', { class: 'n', 'data-v': r.rssBytes == null ? '' : r.rssBytes, text: fmtB(r.rssBytes) }), h('td', { class: 'n', 'data-v': r.pssBytes == null ? '' : r.pssBytes, text: fmtB(r.pssBytes) }),
          h('td', { class: 'n', 'data-v': r.fds == null ? '' : r.fds, text: fmtN(r.fds) }), h('td', { class: 'n', 'data-v': r.sockets == null ? '' : r.sockets, text: fmtN(r.sockets) }),
        ]);
      }));
      box.textContent = '';
      box.appendChild(h('p', { class: 'note', text: 'Latest recorded values, CPU over the last minute. ' + d.total + (d.grouped ? ' groups' : ' processes') + '; showing ' + d.rows.length + '. Click a header to sort.' }));
      box.appendChild(h('table', { id: 'proc-table', 'data-sort': state.sort, 'data-order': state.order }, [h('thead', {}, [head]), body]));
    });
  }

  function findingEl(f) {
    var dl = h('dl', {}, []);
    if (f.pids && f.pids.length) { dl.appendChild(h('dt', { text: 'pids' })); dl.appendChild(h('dd', { class: 'mono', text: f.pids.slice(0, 30).join(', ') })); }
    Object.keys(f.evidence || {}).forEach(function (k) { var v = f.evidence[k]; if (v === undefined) return; dl.appendChild(h('dt', { text: k })); dl.appendChild(h('dd', { class: 'mono', text: (typeof v === 'object' ? JSON.stringify(v) : String(v)).slice(0, 300) })); });
    dl.appendChild(h('dt', { text: 'see it' })); dl.appendChild(h('dd', {}, [h('code', { text: f.command })]));
    dl.appendChild(h('dt', { text: 'next' })); dl.appendChild(h('dd', { text: f.next }));
    return h('div', { class: 'finding ' + f.severity }, [h('h3', {}, [h('span', { class: 'badge ' + f.severity, text: f.severity }), ' ' + f.title + ' ', h('span', { class: 'muted mono', text: '[' + f.rule + ']' })]), h('div', { text: f.summary }), dl]);
  }

  function loadFindings() {
    api('/api/findings').then(function (d) {
      var box = document.getElementById('ov-find');
      if (!box) return;
      box.textContent = '';
      box.className = '';
      if (!d.available) { box.appendChild(h('p', { class: 'note', text: d.reason })); return; }
      box.appendChild(h('p', { class: 'note', text: 'snapshot taken ' + d.takenAt }));
      if (!d.findings.length) box.appendChild(h('p', { text: 'No finding: nothing on the checklist is wrong right now.' }));
      d.findings.forEach(function (f) { box.appendChild(findingEl(f)); });
    }).catch(function (e) { var b = document.getElementById('ov-find'); if (b) b.textContent = String(e.message || e); });
  }

  // Leak suspects and spikes come from the server's background run of the detectors: until its first
  // result the answer is pending, and the page says so and asks again instead of showing an empty list.
  function hhmmss(iso) { return iso ? iso.replace('T', ' ').slice(0, 19) + 'Z' : '–'; }
  // An entity's label holds its whole command line: cut for the table, whole in the tooltip.
  function cut(s, n) { return s.length > n ? s.slice(0, n - 1) + '…' : s; }
  function entityEl(e) {
    var text = cut(e.label, 110);
    if (e.kind === 'process' && e.pid) return h('a', { href: '#/process/' + e.pid, title: e.label, text: text });
    return h('span', { title: e.label }, [h('span', { class: 'muted', text: e.kind + ' ' }), text + (e.processes ? ' (' + e.processes + ' processes)' : '')]);
  }
  function loadSuspects() {
    clearTimeout(state.susTimer);
    state.susTimer = null;
    var asked = sinceEl.value;
    api('/api/suspects?since=' + since()).then(function (d) {
      var box = document.getElementById('ov-sus');
      if (!box || sinceEl.value !== asked) return;
      var again = function (ms) { state.susTimer = setTimeout(function () { if (document.getElementById('ov-sus') === box) loadSuspects(); }, ms); };
      if (!d.available) { box.setAttribute('data-state', 'unavailable'); box.className = 'note'; box.textContent = d.reason; return; }
      if (d.pending) {
        box.setAttribute('data-state', 'pending');
        box.className = 'note';
        box.textContent = 'computing… the leak and spike detectors are reading the record (seconds on a large one); this fills in by itself.';
        again(1000);
        return;
      }
      if (d.refreshing) again(2000);
      var key = asked + '|' + d.computedAt + '|' + (d.error || '');
      if (box.getAttribute('data-key') === key) return;
      box.setAttribute('data-key', key);
      box.textContent = '';
      box.className = '';
      if (!d.leaks) {
        box.setAttribute('data-state', 'error');
        box.appendChild(h('p', { class: 'finding critical', text: 'the detectors failed: ' + d.error }));
        return;
      }
      box.setAttribute('data-state', 'done');
      var L = d.leaks, S = d.spikes;
      box.appendChild(h('p', { class: 'note', text: 'As procsleuth leaks and procsleuth spikes report them, computed ' + hhmmss(d.computedAt) + ' in ' + (d.computeMs / 1000).toFixed(1) + ' s over ' + L.samples + ' samples: ' + L.scanned.processes + ' processes, ' + L.scanned.groups + ' groups, ' + L.scanned.trees + ' trees, ' + L.scanned.series + ' series.' + (d.upToDate ? '' : ' Newer samples have arrived since; it is recomputed in the background.') + (d.error ? ' The last recomputation failed: ' + d.error : '') }));
      if (!L.suspects.length) box.appendChild(h('p', { text: 'No series grows like a leak (' + L.scanned.judged + ' of ' + L.scanned.series + ' series needed a full verdict).' }));
      else {
        var rows = L.suspects.slice(0, 50).map(function (s) {
          return h('tr', {}, [
            h('td', {}, [h('span', { class: 'badge ' + s.verdict, text: s.verdict })]),
            h('td', { class: 'cmd' }, [entityEl(s.entity)]),
            h('td', { text: s.metric + (s.alsoGrowing.length ? ' (also ' + s.alsoGrowing.join(', ') + ')' : '') }),
            h('td', { class: 'n', 'data-v': s.slopePerHour, text: C.fmt(s.unit, s.slopePerHour) }),
            h('td', { text: s.exhaustsAt ? hhmmss(s.exhaustsAt) + (s.limit ? ' (' + s.limit.name + ')' : '') : '–' }),
            h('td', { text: s.shape }),
            h('td', { class: 'n', 'data-v': s.confidence, text: (s.confidence * 100).toFixed(0) + '%' }),
          ]);
        });
        box.appendChild(h('table', { class: 'sortable', id: 'sus-table' }, [h('thead', {}, [h('tr', {}, ['verdict', 'what', 'metric', 'growth per hour', 'runs out at', 'shape', 'confidence'].map(function (x) { return h('th', { text: x }); }))]), h('tbody', {}, rows)]));
        if (L.suspects.length > 50) box.appendChild(h('p', { class: 'note', text: 'showing 50 of ' + L.suspects.length + ' suspects' }));
      }
      box.appendChild(h('h3', { text: 'CPU spikes' }));
      if (!S.spikes.length) box.appendChild(h('p', { text: 'No CPU level shift in this window (' + S.scanned.series + ' series).' }));
      else {
        if (d.chart) { var c = h('div', { class: 'charts', id: 'sus-chart' }); box.appendChild(c); C.make(c.appendChild(h('div', { 'data-chart': d.chart.id })), d.chart); }
        S.events.slice(0, 12).forEach(function (e, k) { box.appendChild(h('p', { title: e.summary }, [h('b', { text: 'spike ' + (k + 1) + ': ' }), cut(e.summary, 200)])); });
        box.appendChild(h('table', { class: 'sortable', id: 'spike-table' }, [h('thead', {}, [h('tr', {}, ['onset', 'what', 'CPU before', 'CPU after', 'persisted'].map(function (x) { return h('th', { text: x }); }))]), h('tbody', {}, S.spikes.slice(0, 30).map(function (s) {
          return h('tr', {}, [h('td', { text: hhmmss(s.onset) }), h('td', { class: 'cmd' }, [entityEl(s.entity)]), h('td', { class: 'n', 'data-v': s.before, text: s.before + '%' }), h('td', { class: 'n', 'data-v': s.after, text: s.after + '%' }), h('td', { text: s.persistent ? 'yes' : 'no, came back down' })]);
        }))]));
      }
      window.psTables.wireAll(box);
    }).catch(function (e) { var b = document.getElementById('ov-sus'); if (b) { b.setAttribute('data-state', 'error'); b.textContent = String(e.message || e); } });
  }

  // ---- process page ----------------------------------------------------------------------------
  function fillLeaks(verdicts, leakBox, L) {
    verdicts.textContent = '';
    leakBox.querySelectorAll('[data-chart]').forEach(function (el) { C.forget(el); });
    leakBox.textContent = '';
    verdicts.setAttribute('data-state', L.pending ? 'pending' : 'done');
    if (!L.available) verdicts.appendChild(h('p', { class: 'note', text: 'No leak detectors on this server.' }));
    else if (L.pending) verdicts.appendChild(h('p', { class: 'note', text: 'computing the leak verdicts (procsleuth leaks over this window)…' }));
    else {
      L.suspects.forEach(function (s) {
        var c = card(s.metric + ' leak verdict', '', (s.evidence.reasons[0] || ''));
        var v = c.querySelector('.v');
        v.appendChild(h('span', { class: 'badge ' + s.verdict, text: s.verdict }));
        v.appendChild(document.createTextNode(' ' + C.fmt(s.unit, s.slopePerHour) + '/h' + (s.exhaustsAt ? ', runs out ' + s.exhaustsAt.replace('T', ' ').slice(0, 16) + 'Z' : '')));
        verdicts.appendChild(c);
      });
      L.related.forEach(function (s) {
        var c = card(s.kind + ' ' + s.metric, '', s.label.length > 120 ? s.label.slice(0, 119) + '…' : s.label);
        var v = c.querySelector('.v');
        v.appendChild(h('span', { class: 'badge ' + s.verdict, text: s.verdict }));
        v.appendChild(document.createTextNode(' ' + C.fmt(s.unit, s.slopePerHour) + '/h'));
        verdicts.appendChild(c);
      });
      if (!L.suspects.length && !L.related.length) verdicts.appendChild(h('p', { class: 'note', text: 'procsleuth leaks finds no leak in this process over this window (computed ' + hhmmss(L.computedAt) + ').' }));
    }
    var leakCharts = h('div', { class: 'charts', id: 'proc-leak-charts' });
    L.suspects.forEach(function (s) { if (s.chart) chartsInto(leakCharts, [s.chart], 'l:'); });
    if (leakCharts.firstChild) leakBox.appendChild(section('proc-leaks', 'Fitted trends', [leakCharts]));
  }

  function processPage(pid) {
    view.textContent = '';
    state.charts = {};
    return api('/api/process/' + encodeURIComponent(pid) + '?since=' + since()).then(function (d) {
      var p = d.process;
      var info = h('div', { class: 'cards' }, [
        card('pid', String(p.pid), 'started ' + p.firstSeen.replace('T', ' ').slice(0, 19) + 'Z'),
        card('command', p.comm, (p.exe || '').slice(0, 80)),
        card('state', p.ended ? 'exited' : 'alive', p.ended ? p.ended : (d.liveOnThisHost ? 'running on this host' : 'as of the newest sample')),
        // A group label is a whole normalised command line: the small line wraps it, the big one would not.
        card('group', p.group ? '' : '–', p.group ? (p.group.length > 160 ? p.group.slice(0, 159) + '…' : p.group) : ''),
      ]);
      var cmd = h('p', { class: 'mono', style: 'word-break:break-all', text: p.cmdline });
      var verdicts = h('div', { class: 'cards', id: 'verdicts' });
      var charts = h('div', { class: 'charts', id: 'proc-charts' });
      view.appendChild(section('proc', 'Process ' + p.pid + ' ' + p.comm, [info, cmd, verdicts, charts]));
      chartsInto(charts, d.charts, 'p:');
      var leakBox = h('div', { id: 'proc-leaks-box' });
      view.appendChild(leakBox);
      var here = state.route;
      var url = '/api/process/' + encodeURIComponent(pid) + '?since=' + since();
      // The verdicts arrive with the detectors' first run: until then only they are asked for again,
      // one request at a time, and only while this very page is shown.
      function showLeaks(L) {
        fillLeaks(verdicts, leakBox, L);
        if (!L.pending) return;
        clearTimeout(state.procTimer);
        state.procTimer = setTimeout(function () {
          if (state.route !== here) return;
          api(url).then(function (again) { if (state.route === here) showLeaks(again.leaks); }).catch(function () { /* the next route shows the error */ });
        }, 2000);
      }
      showLeaks(d.leaks);
      var fdBox = h('div', { id: 'proc-fds', class: 'note', text: d.liveOnThisHost ? 'reading fds…' : 'Not running on this host now: no live fds.' });
      var mapBox = h('div', { id: 'proc-maps', class: 'note', text: d.liveOnThisHost ? 'reading mappings…' : 'Not running on this host now: no live mappings.' });
      view.appendChild(section('proc-fds-s', 'Open file descriptors', [fdBox]));
      view.appendChild(section('proc-maps-s', 'Mappings', [mapBox]));
      document.documentElement.setAttribute('data-ready', 'process');
      if (d.liveOnThisHost) {
        api('/api/process/' + p.pid + '/fds').then(function (f) {
          fdBox.textContent = ''; fdBox.className = '';
          fdBox.appendChild(h('p', { class: 'note', text: f.fds.length + ' open fds' + (f.fds.length > 500 ? ', showing 500' : '') }));
          fdBox.appendChild(h('div', { class: 'scroll' }, [h('table', { class: 'sortable' }, [h('thead', {}, [h('tr', {}, ['fd', 'kind', 'what', 'flags'].map(function (x) { return h('th', { text: x }); }))]), h('tbody', {}, f.fds.slice(0, 500).map(function (x) { return h('tr', {}, [h('td', { class: 'n', 'data-v': x.fd, text: String(x.fd) }), h('td', { text: x.kind }), h('td', { class: 'cmd', text: x.target }), h('td', { class: 'mono', text: (x.flags || []).join(' ') })]); }))])]));
          window.psTables.wireAll(fdBox);
        }).catch(function (e) { fdBox.textContent = String(e.message || e); });
        api('/api/process/' + p.pid + '/maps').then(function (m) {
          mapBox.textContent = ''; mapBox.className = '';
          var rows = m.mappings.slice().sort(function (a, b) { return (b.rssBytes || 0) - (a.rssBytes || 0); }).slice(0, 200);
          mapBox.appendChild(h('p', { class: 'note', text: m.mappings.length + ' mappings, largest RSS first' + (m.mappings.length > 200 ? ', showing 200' : '') }));
          mapBox.appendChild(h('div', { class: 'scroll' }, [h('table', { class: 'sortable' }, [h('thead', {}, [h('tr', {}, ['address', 'kind', 'perms', 'size', 'RSS', 'path'].map(function (x) { return h('th', { text: x }); }))]), h('tbody', {}, rows.map(function (x) { return h('tr', {}, [h('td', { class: 'mono', text: x.address }), h('td', { text: x.kind }), h('td', { class: 'mono', text: x.perms }), h('td', { class: 'n', 'data-v': x.sizeBytes, text: fmtB(x.sizeBytes) }), h('td', { class: 'n', 'data-v': x.rssBytes, text: fmtB(x.rssBytes) }), h('td', { class: 'cmd', text: x.path })]); }))])]));
          window.psTables.wireAll(mapBox);
        }).catch(function (e) { mapBox.textContent = String(e.message || e); });
      }
    }).catch(function (e) { view.appendChild(h('p', { class: 'finding critical', text: String(e.message || e) })); document.documentElement.setAttribute('data-ready', 'error'); });
  }

  function route() {
    clearTimeout(state.procTimer);
    var hsh = location.hash || '#/';
    state.route = hsh;
    document.documentElement.removeAttribute('data-ready');
    var m = /^#\/process\/(\d+)$/.exec(hsh);
    var p = m ? processPage(m[1]) : overview();
    p.catch(function (e) { setStatus(String(e.message || e)); view.appendChild(h('p', { class: 'finding critical', text: String(e.message || e) })); document.documentElement.setAttribute('data-ready', 'error'); });
  }

  function tick() {
    clearTimeout(state.timer);
    state.timer = setTimeout(function () {
      if (document.visibilityState === 'visible' && (state.route === '#/' || state.route === '')) {
        Promise.all([loadOverview(), loadProcesses()]).catch(function (e) { setStatus(String(e.message || e)); }).then(tick);
        // A newer result of the detectors replaces the shown one; an unchanged one is left alone.
        if (document.getElementById('ov-sus') && !state.susTimer) loadSuspects();
      } else tick();
    }, state.interval);
  }

  document.querySelectorAll('[data-jump]').forEach(function (a) {
    a.addEventListener('click', function (e) { var t = document.getElementById(a.getAttribute('data-jump')); if (t && (location.hash === '#/' || location.hash === '')) { e.preventDefault(); t.scrollIntoView(); } });
  });
  sinceEl.addEventListener('change', route);
  window.addEventListener('hashchange', route);
  route();
  tick();
})();
`;
