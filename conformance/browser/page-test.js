// Runs inside headless Chromium. Uses autobahn-browser's bundle (global `autobahn`)
// against the router named in the query string (?url=ws://...&realm=...).
// Publishes results as window.__plan (names, set at load), window.__results
// ({name, ok, detail}) and window.__done.
'use strict';
(function () {
  const params = new URLSearchParams(location.search);
  const WS_URL = params.get('url');
  const REALM = params.get('realm') || 'realm1';
  const STEP_MS = 5000;
  const MAX_ID = 9007199254740992;
  const SERS = ['json', 'msgpack'];
  const CASES = [
    'join (WELCOME: id range, anonymous authrole/authmethod, subprotocol)',
    'register + call with args and kwargs',
    'callee error arrives with URI, args and kwargs',
    'call unknown procedure -> wamp.error.no_such_procedure',
    'two subscribers of a topic share the subscription id',
    'publish with acknowledge -> PUBLISHED id == EVENT publication id',
    'exclude-me: publisher does not get its own event, the other session does',
    'leave -> GOODBYE wamp.close.goodbye_and_out, clean WebSocket close',
  ];
  const CROSS = ['binary bytes json -> msgpack (publish)', 'binary bytes msgpack -> json (call + result)'];
  // Ticket authentication over wss:// (when the runner gives ?wss=&secure=&ticket=).
  const WSS_URL = params.get('wss');
  const SECURE_REALM = params.get('secure');
  const TICKET = params.get('ticket');
  const AUTH = ['ticket over wss: WELCOME with the principal\'s authid, authrole and authmethod',
                'ticket over wss: a wrong ticket gets ABORT wamp.error.authentication_failed'];
  const plan = [];
  for (const s of SERS) for (const c of CASES) plan.push(`${s}: ${c}`);
  for (const c of CROSS) plan.push(c);
  if (WSS_URL) for (const c of AUTH) plan.push(c);
  window.__plan = plan;
  window.__results = [];
  window.__done = false;

  const logEl = document.getElementById('log');
  function log(line) { logEl.textContent += line + '\n'; }

  function record(name, ok, detail) {
    window.__results.push({ name, ok, detail: detail || '' });
    log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ' -- ' + detail : ''}`);
  }
  function withTimeout(p, ms, what) {
    let t;
    return Promise.race([Promise.resolve(p), new Promise((_, rej) => {
      t = setTimeout(() => rej(new Error(`timeout after ${ms} ms: ${what}`)), ms);
    })]).finally(() => clearTimeout(t));
  }
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  function fmt(e) {
    if (e instanceof autobahn.Error) return `autobahn.Error(${e.error}, ${JSON.stringify(e.args)}, ${JSON.stringify(e.kwargs)})`;
    return e && e.message ? e.message : String(e);
  }
  function assert(cond, msg) { if (!cond) throw new Error(msg); }
  function eq(a, b, what) {
    const ja = JSON.stringify(a), jb = JSON.stringify(b);
    if (ja !== jb) throw new Error(`${what}: got ${ja}, expected ${jb}`);
  }
  const isId = (x) => Number.isInteger(x) && x >= 1 && x <= MAX_ID;
  const uniq = (n) => `com.junction.conformance.browser.${Math.random().toString(16).slice(2, 10)}.${n}`;

  // WAMP binary-in-JSON convention: "\u0000" + base64(bytes)
  function b64(u8) { let s = ''; for (let i = 0; i < u8.length; i++) s += String.fromCharCode(u8[i]); return btoa(s); }
  function unb64(s) { const bin = atob(s); const u8 = new Uint8Array(bin.length); for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i); return u8; }
  function replacer(key, value) { const o = this[key]; return o instanceof Uint8Array ? '\u0000' + b64(o) : value; }
  function reviver(_k, v) { return typeof v === 'string' && v.length && v.charCodeAt(0) === 0 ? unb64(v.slice(1)) : v; }
  function makeSer(name) {
    return name === 'json' ? new autobahn.serializer.JSONSerializer(replacer, reviver) : new autobahn.serializer.MsgpackSerializer();
  }
  function sameBytes(a, b) {
    if (!(a instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  function descBytes(a) { return a instanceof Uint8Array ? `Uint8Array(${a.length})` : `${typeof a} ${JSON.stringify(a).slice(0, 60)}`; }

  function connect(ser, realm, extra = {}) {
    const h = { internal: [] };
    h.closed = new Promise((r) => { h._closed = r; });
    return withTimeout(new Promise((resolve, reject) => {
      const conn = new autobahn.Connection({
        url: WS_URL, realm, ...extra,
        serializers: [makeSer(ser)], protocols: ['wamp.2.' + ser],
        max_retries: 0, retry_if_unreachable: false, use_es6_promises: true,
        on_internal_error: (e) => h.internal.push(String(e && e.message || e)),
        on_user_error: () => {},
      });
      h.conn = conn;
      let opened = false;
      conn.onopen = (session, details) => { opened = true; h.session = session; h.details = details; resolve(h); };
      conn.onclose = (reason, details) => {
        h.closeInfo = { reason, details };
        h._closed(h.closeInfo);
        if (!opened) {
          const e = new Error(`closed before WELCOME: ${reason} ${JSON.stringify(details)}`);
          e.details = details;
          reject(e);
        }
        return true;
      };
      conn.open();
    }), STEP_MS, `join ${realm} over wamp.2.${ser}`);
  }
  function leave(h) {
    if (h.closeInfo) return Promise.resolve(h.closeInfo);
    try { h.conn.close(); } catch (_) { /* closed */ }
    return withTimeout(h.closed, STEP_MS, 'leave');
  }
  function collector() {
    const events = []; const waiters = []; let used = 0;
    return {
      events,
      handler: (args, kwargs, details) => { const ev = { args, kwargs, details }; events.push(ev); const w = waiters.shift(); if (w) w(ev); },
      next: (what) => used < events.length ? Promise.resolve(events[used++])
        : withTimeout(new Promise((r) => waiters.push((ev) => { used++; r(ev); })), STEP_MS, what),
    };
  }

  async function suite(ser) {
    const P = (c) => `${ser}: ${c}`;
    const ctx = {};
    const run = async (i, fn) => {
      const name = P(CASES[i]);
      try { await fn(); record(name, true); } catch (e) { record(name, false, fmt(e)); }
    };
    await run(0, async () => {
      ctx.a = await connect(ser, REALM);
      ctx.b = await connect(ser, REALM);
      for (const x of [ctx.a, ctx.b]) {
        assert(isId(x.session.id), `session id ${x.session.id} not in [1, 2^53]`);
        eq(x.details.authrole, 'anonymous', 'authrole');
        eq(x.details.authmethod, 'anonymous', 'authmethod');
        eq(x.details.transport.protocol, 'wamp.2.' + ser, 'negotiated subprotocol');
      }
      assert(ctx.a.session.id !== ctx.b.session.id, 'two sessions share an id');
    });
    const need = () => { if (!ctx.a || !ctx.b) throw new Error('no sessions (join failed)'); };
    await run(1, async () => {
      need();
      const proc = uniq('add');
      const seen = [];
      await withTimeout(ctx.a.session.register(proc, (args, kwargs) => {
        seen.push([args, kwargs]);
        return new autobahn.Result([args[0] + args[1]], { echo: kwargs });
      }), STEP_MS, 'register');
      const res = await withTimeout(ctx.b.session.call(proc, [20, 22], { s: 'ünï ✓', l: [1, { x: null }] }), STEP_MS, 'call');
      assert(res instanceof autobahn.Result, `expected autobahn.Result, got ${JSON.stringify(res)}`);
      eq(res.args, [42], 'result args');
      eq(res.kwargs, { echo: { s: 'ünï ✓', l: [1, { x: null }] } }, 'result kwargs');
      eq(seen, [[[20, 22], { s: 'ünï ✓', l: [1, { x: null }] }]], 'invocation args/kwargs');
    });
    await run(2, async () => {
      need();
      const proc = uniq('fail');
      await withTimeout(ctx.a.session.register(proc, () => {
        throw new autobahn.Error('com.example.error.x', [1, 'two'], { three: 3 });
      }), STEP_MS, 'register');
      let err = null;
      try { await withTimeout(ctx.b.session.call(proc), STEP_MS, 'call'); } catch (e) { err = e; }
      assert(err instanceof autobahn.Error, `expected autobahn.Error, got ${fmt(err)}`);
      eq(err.error, 'com.example.error.x', 'error URI');
      eq(err.args, [1, 'two'], 'error args');
      eq(err.kwargs, { three: 3 }, 'error kwargs');
    });
    await run(3, async () => {
      need();
      let err = null;
      try { await withTimeout(ctx.b.session.call(uniq('nobody')), STEP_MS, 'call'); } catch (e) { err = e; }
      assert(err instanceof autobahn.Error, `expected autobahn.Error, got ${fmt(err)}`);
      eq(err.error, 'wamp.error.no_such_procedure', 'error URI');
    });
    await run(4, async () => {
      need();
      ctx.topic = uniq('topic');
      ctx.ca = collector();
      ctx.cb = collector();
      const sa = await withTimeout(ctx.a.session.subscribe(ctx.topic, ctx.ca.handler), STEP_MS, 'subscribe a');
      const sb = await withTimeout(ctx.b.session.subscribe(ctx.topic, ctx.cb.handler), STEP_MS, 'subscribe b');
      assert(isId(sa.id), `subscription id ${sa.id}`);
      eq(sb.id, sa.id, 'subscription id of second subscriber');
    });
    await run(5, async () => {
      need();
      if (!ctx.ca) throw new Error('subscribe failed');
      const pub = await withTimeout(ctx.a.session.publish(ctx.topic, ['hi'], { k: 1 }, { acknowledge: true }), STEP_MS, 'publish');
      assert(pub && isId(pub.id), `publication id ${pub && pub.id}`);
      const ev = await ctx.cb.next('EVENT at the other session');
      eq([ev.args, ev.kwargs], [['hi'], { k: 1 }], 'event payload');
      eq(ev.details.publication, pub.id, 'EVENT publication id');
    });
    await run(6, async () => {
      need();
      if (!ctx.ca) throw new Error('subscribe failed');
      await withTimeout(ctx.b.session.publish(ctx.topic, ['from-b'], {}, { acknowledge: true }), STEP_MS, 'publish by b');
      const ev = await ctx.ca.next('EVENT from b at a');
      eq(ev.args, ['from-b'], 'a got b\'s event');
      await sleep(300);
      eq(ctx.ca.events.map((e) => e.args), [['from-b']], 'events seen by a (publisher of "hi")');
      eq(ctx.cb.events.map((e) => e.args), [['hi']], 'events seen by b (publisher of "from-b")');
    });
    await run(7, async () => {
      need();
      for (const x of [ctx.a, ctx.b]) {
        const info = await leave(x);
        eq(info.details.reason, 'wamp.close.goodbye_and_out', 'GOODBYE reason');
        eq(info.reason, 'closed', 'autobahn close reason ("lost" = WebSocket closing handshake not clean)');
        eq(x.internal, [], 'autobahn internal/protocol errors');
      }
    });
    for (const x of [ctx.a, ctx.b]) if (x && !x.closeInfo) { try { x.conn.close(); } catch (_) { /* */ } }
  }

  const ALL = new Uint8Array(256).map((_, i) => i);
  async function cross() {
    // json publisher -> msgpack subscriber
    let j, m;
    try {
      j = await connect('json', REALM); m = await connect('msgpack', REALM);
      const topic = uniq('bytes');
      const c = collector();
      await withTimeout(m.session.subscribe(topic, c.handler), STEP_MS, 'subscribe');
      await withTimeout(j.session.publish(topic, [ALL, 'text'], { b: new Uint8Array([0, 255]) }, { acknowledge: true }), STEP_MS, 'publish');
      const ev = await c.next('EVENT at msgpack subscriber');
      assert(sameBytes(ev.args[0], ALL), `args[0] arrived as ${descBytes(ev.args[0])}`);
      eq(ev.args[1], 'text', 'args[1] string');
      assert(sameBytes(ev.kwargs.b, new Uint8Array([0, 255])), `kwargs.b arrived as ${descBytes(ev.kwargs.b)}`);
      record(CROSS[0], true);
    } catch (e) { record(CROSS[0], false, fmt(e)); }
    // msgpack caller -> json callee -> msgpack caller
    try {
      if (!j || !m) throw new Error('join failed');
      const proc = uniq('bytes_rev');
      let seen = null;
      await withTimeout(j.session.register(proc, (args) => { seen = args[0]; return new autobahn.Result([ALL.slice().reverse()]); }), STEP_MS, 'register');
      const res = await withTimeout(m.session.call(proc, [ALL]), STEP_MS, 'call');
      assert(sameBytes(seen, ALL), `json callee got ${descBytes(seen)}`);
      const got = res instanceof autobahn.Result ? res.args[0] : res;
      assert(sameBytes(got, ALL.slice().reverse()), `msgpack caller got ${descBytes(got)}`);
      record(CROSS[1], true);
    } catch (e) { record(CROSS[1], false, fmt(e)); }
    for (const x of [j, m]) if (x) await leave(x).catch(() => {});
  }

  async function ticketOverWss() {
    const joe = { url: WSS_URL, authmethods: ['ticket'], authid: 'browser', onchallenge: () => TICKET };
    try {
      const h = await connect('json', SECURE_REALM, joe);
      eq([h.details.authid, h.details.authrole, h.details.authmethod], ['browser', 'webuser', 'ticket'], 'WELCOME.Details');
      await leave(h);
      record(AUTH[0], true);
    } catch (e) { record(AUTH[0], false, fmt(e)); }
    try {
      let refused = null;
      try {
        const h = await connect('json', SECURE_REALM, { ...joe, onchallenge: () => 'not-the-ticket' });
        await leave(h);
      } catch (e) { refused = e; }
      assert(refused && refused.details, 'joined with a wrong ticket');
      eq(refused.details.reason, 'wamp.error.authentication_failed', 'ABORT reason');
      record(AUTH[1], true);
    } catch (e) { record(AUTH[1], false, fmt(e)); }
  }

  (async () => {
    try {
      if (!WS_URL) throw new Error('no ?url= given');
      if (typeof autobahn === 'undefined') throw new Error('autobahn-browser bundle did not load');
      log(`autobahn ${autobahn.version} against ${WS_URL}`);
      for (const s of SERS) await suite(s);
      await cross();
      if (WSS_URL) await ticketOverWss();
    } catch (e) {
      log('page error: ' + fmt(e));
      window.__pageError = fmt(e);
    } finally {
      window.__done = true;
    }
  })();
})();
