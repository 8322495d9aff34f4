// Junction's web console (issue 18): a page the router serves that connects back over WAMP with
// Autobahn|JS and shows the realm live — sessions (with a kill button), registrations,
// subscriptions, message rates from /metrics — and calls or publishes by hand. No framework: the
// meta API (wamp.session.*, wamp.registration.*, wamp.subscription.*) and its events are the
// whole data source; what the logged-in role may not call is simply not shown.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  let info = { ws_path: '/ws', realms: ['realm1'], metrics: false };
  let session = null;
  let refreshTimer = null;
  // Counters of /metrics drawn as rates: series key → metric (summed over its labels).
  const COUNTERS = { in: 'junction_messages_received_total', out: 'junction_messages_sent_total',
    calls: 'junction_calls_total' };
  const series = { in: [], out: [], calls: [] };
  let lastScrape = null;

  function setStatus(text, on) {
    const s = $('status');
    s.textContent = text;
    s.className = 'status ' + (on ? 'on' : 'off');
  }

  // A table without rows says so.
  function emptyRow(body, columns, text) {
    if (body.rows.length > 0) return;
    const tr = document.createElement('tr');
    const td = cell(text, 'muted');
    td.colSpan = columns;
    tr.append(td);
    body.append(tr);
  }

  function cell(text, cls) {
    const td = document.createElement('td');
    td.textContent = text === undefined || text === null ? '' : String(text);
    if (cls) td.className = cls;
    return td;
  }

  async function call(procedure, args, kwargs) {
    const r = await session.call(procedure, args || [], kwargs || {});
    return r && r.args !== undefined ? (r.args.length === 1 && !r.kwargs ? r.args[0] : r) : r;
  }

  async function callOr(procedure, args, fallback) {
    try { return await call(procedure, args); } catch (e) { return fallback; }
  }

  // ---- sessions -----------------------------------------------------------------------------
  async function refreshSessions() {
    const ids = (await callOr('wamp.session.list', [], [])) || [];
    const rows = [];
    for (const id of ids) {
      const d = await callOr('wamp.session.get', [id], null);
      if (d) rows.push(d);
    }
    rows.sort((a, b) => String(a.authid).localeCompare(String(b.authid)) || a.session - b.session);
    const body = $('sessions').tBodies[0];
    body.replaceChildren();
    for (const d of rows) {
      const tr = document.createElement('tr');
      tr.dataset.session = d.session;
      const t = d.transport || {};
      tr.append(cell(d.session, 'mono'), cell(d.authid), cell(d.authrole), cell(d.authmethod),
        cell([t.type, t.protocol].filter(Boolean).join(' ')), cell(t.peer, 'mono'));
      const td = document.createElement('td');
      if (d.session !== session.id) {
        const b = document.createElement('button');
        b.className = 'kill';
        b.textContent = 'kill';
        b.dataset.session = d.session;
        b.addEventListener('click', () => kill(d.session));
        td.append(b);
      } else {
        td.className = 'muted';
        td.textContent = 'you';
      }
      tr.append(td);
      body.append(tr);
    }
    $('session-count').textContent = rows.length;
  }

  async function kill(id) {
    try {
      await session.call('wamp.session.kill', [id], { reason: 'wamp.close.killed', message: 'killed from the console' });
    } catch (e) {
      showResult('kill ' + id + ': ' + describe(e), true);
    }
    scheduleRefresh();
  }

  // ---- registrations and subscriptions --------------------------------------------------------
  function idsOf(listing) {
    if (!listing) return [];
    return [].concat(listing.exact || [], listing.prefix || [], listing.wildcard || []);
  }

  async function refreshRegistrations() {
    const ids = idsOf(await callOr('wamp.registration.list', [], null));
    const body = $('registrations').tBodies[0];
    body.replaceChildren();
    for (const id of ids) {
      const d = await callOr('wamp.registration.get', [id], null);
      if (!d) continue;
      const n = await callOr('wamp.registration.count_callees', [id], '?');
      const tr = document.createElement('tr');
      tr.append(cell(d.uri, 'mono'), cell(d.match), cell(d.invoke), cell(n));
      body.append(tr);
    }
    emptyRow(body, 4, 'no procedures registered');
    $('registration-count').textContent = ids.length;
  }

  // The meta API's own topics (wamp.*: this page subscribes to ten of them) are counted apart,
  // not listed: they would bury the application's.
  async function refreshSubscriptions() {
    const ids = idsOf(await callOr('wamp.subscription.list', [], null));
    const body = $('subscriptions').tBodies[0];
    body.replaceChildren();
    let meta = 0;
    for (const id of ids) {
      const d = await callOr('wamp.subscription.get', [id], null);
      if (!d) continue;
      if (String(d.uri).startsWith('wamp.')) {
        meta += 1;
        continue;
      }
      const n = await callOr('wamp.subscription.count_subscribers', [id], '?');
      const tr = document.createElement('tr');
      tr.append(cell(d.uri, 'mono'), cell(d.match), cell(n));
      body.append(tr);
    }
    emptyRow(body, 3, 'no subscriptions');
    $('subscription-count').textContent = ids.length - meta;
    $('subscription-meta').textContent = meta ? `+ ${meta} on wamp.* meta topics` : '';
  }

  async function refreshAll() {
    if (!session) return;
    try {
      await Promise.all([refreshSessions(), refreshRegistrations(), refreshSubscriptions()]);
    } catch (e) {
      showResult('refresh: ' + describe(e), true);
    }
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refreshAll, 100);
  }

  // ---- rates from /metrics ------------------------------------------------------------------------
  function sumOf(text, name) {
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(name)) continue;
      const rest = line.slice(name.length);
      if (rest[0] !== ' ' && rest[0] !== '{') continue;
      sum += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
    }
    return sum;
  }

  // Every realm of the router with its sessions, registrations and subscriptions (gauges by
  // realm label); without /metrics, just the names info.json gave.
  function renderRealms(text) {
    const rows = new Map(info.realms.map((name) => [name, { sessions: '–', registrations: '–', subscriptions: '–' }]));
    if (text !== null) {
      for (const row of rows.values()) Object.assign(row, { sessions: 0, registrations: 0, subscriptions: 0 });
      const re = /^junction_(sessions|registrations|subscriptions)\{realm="((?:[^"\\]|\\.)*)"[^}]*\} (\S+)$/;
      for (const line of text.split('\n')) {
        const m = re.exec(line);
        if (!m) continue;
        const name = m[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
        if (!rows.has(name)) rows.set(name, { sessions: 0, registrations: 0, subscriptions: 0 });
        rows.get(name)[m[1]] += Number(m[3]) || 0;
      }
    }
    const body = $('realms').tBodies[0];
    body.replaceChildren();
    for (const [name, r] of rows) {
      const tr = document.createElement('tr');
      tr.dataset.realm = name;
      tr.append(cell(name, 'mono'), cell(r.sessions), cell(r.registrations), cell(r.subscriptions));
      body.append(tr);
    }
  }

  async function scrape() {
    if (!info.metrics || !session) return;
    try {
      const r = await fetch('/metrics', { cache: 'no-store' });
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const text = await r.text();
      renderRealms(text);
      const now = performance.now();
      const sample = { t: now };
      for (const [k, metric] of Object.entries(COUNTERS)) sample[k] = sumOf(text, metric);
      if (lastScrape) {
        const dt = (sample.t - lastScrape.t) / 1000;
        for (const k of Object.keys(COUNTERS)) {
          series[k].push(Math.max(0, (sample[k] - lastScrape[k]) / dt));
          if (series[k].length > 60) series[k].shift();
          $('rate-' + k).textContent = series[k][series[k].length - 1].toFixed(1);
          draw($('chart-' + k), series[k]);
        }
      }
      lastScrape = sample;
    } catch (e) {
      $('rates-note').textContent = '(/metrics unavailable: ' + e.message + ')';
    }
  }

  function draw(canvas, values) {
    const ctx = canvas.getContext('2d');
    const w = canvas.width;
    const h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    if (values.length === 0) return;
    if (values.length === 1) values = [values[0], values[0]];
    const max = Math.max(1, ...values);
    ctx.strokeStyle = '#2f6fde';
    ctx.lineWidth = 2;
    ctx.beginPath();
    values.forEach((v, i) => {
      const x = w - 2 - ((values.length - 1 - i) / 59) * (w - 4);  // newest at the right
      const y = h - 4 - (v / max) * (h - 8);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
  }

  // ---- call or publish by hand ------------------------------------------------------------------
  function describe(e) {
    if (e && e.error) return e.error + (e.args && e.args.length ? ': ' + JSON.stringify(e.args) : '');
    return e && e.message ? e.message : String(e);
  }

  function showResult(text, error) {
    const r = $('action-result');
    r.hidden = false;
    r.textContent = text;
    r.className = 'result' + (error ? ' err' : '');
  }

  function parseJson(text, fallback, what) {
    if (!text.trim()) return fallback;
    const v = JSON.parse(text);
    if (what === 'list' && !Array.isArray(v)) throw new Error('args must be a JSON list');
    if (what === 'dict' && (v === null || typeof v !== 'object' || Array.isArray(v))) throw new Error('kwargs must be a JSON dict');
    return v;
  }

  async function onAction(ev) {
    ev.preventDefault();
    const kind = $('action-kind').value;
    const uri = $('action-uri').value.trim();
    try {
      const args = parseJson($('action-args').value, [], 'list');
      const kwargs = parseJson($('action-kwargs').value, {}, 'dict');
      if (kind === 'call') {
        const r = await session.call(uri, args, kwargs);
        showResult('result: ' + JSON.stringify(r && r.args !== undefined ? { args: r.args, kwargs: r.kwargs } : r), false);
      } else {
        const p = await session.publish(uri, args, kwargs, { acknowledge: true });
        showResult('published: ' + (p && p.id), false);
      }
    } catch (e) {
      showResult('error: ' + describe(e), true);
    }
  }

  // ---- connecting ---------------------------------------------------------------------------------
  function connect(ev) {
    ev.preventDefault();
    $('login-error').hidden = true;
    const realm = $('realm').value;
    const authid = $('authid').value.trim();
    const ticket = $('ticket').value;
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    const options = {
      url: scheme + location.host + info.ws_path,
      realm,
      max_retries: 0,
      use_es6_promises: true,
      authmethods: authid ? ['ticket'] : ['anonymous'],
    };
    if (authid) {
      options.authid = authid;
      options.onchallenge = () => ticket;
    }
    const conn = new autobahn.Connection(options);
    let opened = false;
    conn.onopen = async (s, welcome) => {
      opened = true;
      session = s;
      setStatus('connected to ' + realm, true);
      $('login').hidden = true;
      $('app').hidden = false;
      $('footer-realm').textContent = realm;
      $('footer-who').textContent = (authid || 'anonymous') + ' (' + ((welcome && welcome.authrole) || '?') + ')';
      const events = ['wamp.session.on_join', 'wamp.session.on_leave', 'wamp.registration.on_create',
        'wamp.registration.on_register', 'wamp.registration.on_unregister', 'wamp.registration.on_delete',
        'wamp.subscription.on_create', 'wamp.subscription.on_subscribe', 'wamp.subscription.on_unsubscribe',
        'wamp.subscription.on_delete'];
      for (const topic of events) await s.subscribe(topic, scheduleRefresh).catch(() => {});
      renderRealms(null);
      scrape();
      await refreshAll();
      document.body.dataset.ready = 'true';
    };
    conn.onclose = (reason, details) => {
      session = null;
      document.body.dataset.ready = 'false';
      setStatus('not connected', false);
      if (!opened) {
        const e = $('login-error');
        e.hidden = false;
        e.textContent = 'could not join: ' + ((details && details.message) || reason);
      } else {
        $('app').hidden = true;
        $('login').hidden = false;
      }
      return true;
    };
    conn.open();
  }

  async function start() {
    if (typeof autobahn === 'undefined') {
      const e = $('login-error');
      e.hidden = false;
      e.textContent = 'Autobahn|JS is missing (vendor/autobahn.min.js): run script/bootstrap on the build machine.';
      return;
    }
    try {
      const r = await fetch('info.json', { cache: 'no-store' });
      if (r.ok) info = await r.json();
    } catch (_) { /* defaults */ }
    const select = $('realm');
    for (const name of info.realms) {
      const o = document.createElement('option');
      o.value = o.textContent = name;
      select.append(o);
    }
    $('rates-note').textContent = info.metrics ? '(from /metrics, every 2 s)' : '(/metrics is not served on this port)';
    $('login-form').addEventListener('submit', connect);
    $('action-form').addEventListener('submit', onAction);
    setInterval(scrape, 2000);
  }

  start();
})();
