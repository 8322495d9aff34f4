'use strict';
// Shared helpers for the Autobahn|JS (Node) conformance suite against Junction.
//
// Environment:
//   JUNCTION_URL    ws://127.0.0.1:PORT/ws   (default ws://127.0.0.1:8080/ws), or
//                   wss://127.0.0.1:PORT/ws  (TLS; Node must trust the router's CA, e.g.
//                   NODE_EXTRA_CA_CERTS=ca.pem as conformance/run sets it)
//   JUNCTION_REALM  first realm               (default realm1)
//   JUNCTION_REALM2 second, isolated realm    (default realm2)

// autobahn's log.warn is console.warn bound at load time and prints a line for
// every closed connection; drop exactly that noise (before autobahn is loaded).
const NOISE = [/^connection closed/, /^auto-reconnect disabled!/, /^giving up trying to auto-reconnect!/];
const origWarn = console.warn;
console.warn = function (...a) {
  if (typeof a[0] === 'string' && NOISE.some((re) => re.test(a[0]))) return;
  origWarn.apply(console, a);
};

const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const tls = require('node:tls');
const crypto = require('node:crypto');
const autobahn = require('autobahn');

const URL = process.env.JUNCTION_URL || 'ws://127.0.0.1:8080/ws';
const TLS = URL.startsWith('wss://');
const REALM = process.env.JUNCTION_REALM || 'realm1';
const REALM2 = process.env.JUNCTION_REALM2 || 'realm2';
const MAX_ID = 9007199254740992; // 2^53
const STEP_MS = Number(process.env.JUNCTION_STEP_TIMEOUT_MS || 5000);

// WAMP binary-in-JSON convention (serialization_binary_json): a byte string is
// the JSON string "\u0000" + base64(bytes). autobahn-js 22.11.1's JSONSerializer
// does not implement it by itself, but takes a JSON.stringify replacer and a
// JSON.parse reviver, which is where the convention goes.
function jsonReplacer(key, value) {
  const orig = this[key]; // before Buffer#toJSON ran
  if (orig instanceof Uint8Array) {
    return '\u0000' + Buffer.from(orig.buffer, orig.byteOffset, orig.byteLength).toString('base64');
  }
  return value;
}
function jsonReviver(_key, value) {
  if (typeof value === 'string' && value.length > 0 && value.charCodeAt(0) === 0) {
    return Buffer.from(value.slice(1), 'base64');
  }
  return value;
}

const SERIALIZERS = [
  {
    name: 'json',
    protocol: 'wamp.2.json',
    make: () => new autobahn.serializer.JSONSerializer(jsonReplacer, jsonReviver),
  },
  {
    name: 'msgpack',
    protocol: 'wamp.2.msgpack',
    make: () => new autobahn.serializer.MsgpackSerializer(),
  },
  {
    name: 'cbor',
    protocol: 'wamp.2.cbor',
    make: () => new autobahn.serializer.CBORSerializer(),
  },
];
const SER = Object.fromEntries(SERIALIZERS.map((s) => [s.name, s]));

function uniq(name) {
  return `com.junction.conformance.js.${crypto.randomBytes(5).toString('hex')}.${name}`;
}

function withTimeout(promise, ms, what) {
  let t;
  const timeout = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(t));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Describe an autobahn rejection (autobahn.Error or anything else) readably.
function describeErr(e) {
  if (e instanceof autobahn.Error) return `autobahn.Error(${e.error}, ${JSON.stringify(e.args)}, ${JSON.stringify(e.kwargs)})`;
  if (e instanceof Error) return e.stack || e.message;
  return String(e);
}

// http.Agent (https.Agent for wss://) that remembers its TCP / TLS sockets, so a
// test can drop a peer without any WAMP GOODBYE or WebSocket close frame.
class CapturingAgent extends (TLS ? https.Agent : http.Agent) {
  constructor() {
    super({ keepAlive: false });
    this.sockets_ = [];
  }
  createConnection(options, cb) {
    let s;
    if (TLS) {
      // no SNI for an IP address (the certificate is checked against options.host)
      const servername = options.servername || (net.isIP(options.host) ? '' : options.host);
      s = tls.connect({ ...options, servername });
    } else {
      s = net.createConnection(options);
    }
    this.sockets_.push(s);
    if (cb) s.once(TLS ? 'secureConnect' : 'connect', () => cb(null, s));
    return s;
  }
  destroyAll() {
    for (const s of this.sockets_) s.destroy();
  }
}

// Open a WAMP session. Resolves {conn, session, details, ser, closed, internalErrors}
// once WELCOME arrived; rejects with {closeReason, closeDetails} if the connection
// closes before that (e.g. ABORT), or on timeout.
//   opts.realm, opts.url, opts.timeoutMs, opts.abrupt (use CapturingAgent),
//   opts.authmethods / authid / authextra / onchallenge (Autobahn's authentication options)
function connect(serName, opts = {}) {
  const ser = SER[serName];
  if (!ser) throw new Error(`unknown serializer ${serName}`);
  const realm = opts.realm || REALM;
  const url = opts.url || URL;
  const timeoutMs = opts.timeoutMs || STEP_MS;
  const internalErrors = [];
  const agent = opts.abrupt ? new CapturingAgent() : undefined;
  const transport = { type: 'websocket', url, serializers: [ser.make()], protocols: [ser.protocol] };
  if (agent) transport.agent = agent;
  // Authentication (opts.authmethods, authid, authextra, onchallenge) goes to Autobahn as given.
  const auth = {};
  for (const k of ['authmethods', 'authid', 'authextra', 'onchallenge']) if (opts[k] !== undefined) auth[k] = opts[k];
  const conn = new autobahn.Connection({
    ...auth,
    url,
    realm,
    transports: [transport],
    serializers: [ser.make()],
    protocols: [ser.protocol],
    max_retries: 0,
    retry_if_unreachable: false,
    use_es6_promises: true,
    on_internal_error: (err, msg) => internalErrors.push(`${msg || ''} ${err && err.message ? err.message : err}`),
    on_user_error: () => {}, // callee handlers throw on purpose in some tests
  });
  let resolveClosed;
  const closed = new Promise((r) => { resolveClosed = r; });
  const handle = { conn, ser, realm, closed, internalErrors, agent, session: null, details: null, closeInfo: null };
  return withTimeout(new Promise((resolve, reject) => {
    let opened = false;
    conn.onopen = (session, details) => {
      opened = true;
      handle.session = session;
      handle.details = details;
      resolve(handle);
    };
    conn.onclose = (reason, details) => {
      handle.closeInfo = { reason, details };
      resolveClosed(handle.closeInfo);
      if (!opened) {
        const e = new Error(`connection closed before WELCOME: reason=${reason} details=${JSON.stringify(details)}`);
        e.closeReason = reason;
        e.closeDetails = details;
        reject(e);
      }
      return true; // never retry
    };
    conn.open();
  }), timeoutMs, `joining realm ${realm} over ${ser.protocol} at ${url}`).catch((e) => {
    try { if (!handle.closeInfo) conn.close(); } catch (_) { /* already closed */ }
    throw e;
  });
}

// Leave with GOODBYE; resolves with the onclose info.
function leave(h, timeoutMs = STEP_MS) {
  if (h.closeInfo) return Promise.resolve(h.closeInfo);
  try { h.conn.close(); } catch (_) { /* already closing */ }
  return withTimeout(h.closed, timeoutMs, `session ${h.session && h.session.id} leaving`);
}

// Best-effort cleanup for finally blocks (never throws, never hangs long).
async function closeAll(...handles) {
  await Promise.all(handles.filter(Boolean).map((h) => leave(h, 3000).catch(() => {
    if (h.agent) h.agent.destroyAll();
  })));
}

function assertNoInternalErrors(assert, ...handles) {
  for (const h of handles) {
    assert.deepStrictEqual(h.internalErrors, [], `autobahn reported internal/protocol errors on ${h.ser.name} session ${h.session && h.session.id}`);
  }
}

// Event collector: returns {handler, events, next(timeout)}.
function collector() {
  const events = [];
  const waiters = [];
  const handler = (args, kwargs, details) => {
    const ev = { args, kwargs, details };
    events.push(ev);
    const w = waiters.shift();
    if (w) w(ev);
  };
  let consumed = 0;
  function next(timeoutMs = STEP_MS, what = 'event') {
    if (consumed < events.length) return Promise.resolve(events[consumed++]);
    return withTimeout(new Promise((r) => waiters.push((ev) => { consumed++; r(ev); })), timeoutMs, what);
  }
  return { handler, events, next };
}

function isWampId(x) {
  return Number.isInteger(x) && x >= 1 && x <= MAX_ID;
}

// Expect a promise to reject with an autobahn.Error of the given URI.
async function expectWampError(promise, uri, what) {
  let res;
  try {
    res = await withTimeout(promise, STEP_MS, what);
  } catch (e) {
    if (e instanceof autobahn.Error) {
      if (e.error !== uri) throw new Error(`${what}: expected ERROR ${uri}, got ${describeErr(e)}`);
      return e;
    }
    throw new Error(`${what}: expected ERROR ${uri}, got ${describeErr(e)}`);
  }
  throw new Error(`${what}: expected ERROR ${uri}, but it succeeded with ${JSON.stringify(res)}`);
}

// A router of a test file's own, from a config (an object): resolves {url, stop, log} once it
// listens. Its first listener is the one used: ws://, or wss:// when the suite runs over TLS
// (with the conformance run's certificate, next to NODE_EXTRA_CA_CERTS).
function startRouter(config) {
  const { spawn } = require('node:child_process');
  const fs = require('node:fs');
  const os = require('node:os');
  const path = require('node:path');
  const bin = process.env.JUNCTION_BIN || path.join(__dirname, '..', '..', '..', 'build', 'router', 'junction');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-js-'));
  const cfg = JSON.parse(JSON.stringify(config));
  if (!cfg.listeners) {
    const listener = { type: 'ws', port: 0 };
    if (URL.startsWith('wss://') && process.env.NODE_EXTRA_CA_CERTS) {
      const pki = path.dirname(process.env.NODE_EXTRA_CA_CERTS);
      Object.assign(listener, { type: 'wss', tls: { cert: path.join(pki, 'server.pem'), key: path.join(pki, 'server.key') } });
    }
    cfg.listeners = [listener];
  }
  const file = path.join(dir, 'junction.json');
  fs.writeFileSync(file, JSON.stringify(cfg));
  const proc = spawn(bin, ['--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  const handle = { log: '', stop() { proc.kill('SIGTERM'); fs.rmSync(dir, { recursive: true, force: true }); } };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the router did not start: ' + handle.log)), 10000);
    proc.stderr.on('data', (d) => {
      handle.log += d.toString();
      const m = /listening on (wss?:\/\/\S+)/.exec(handle.log);
      if (m && !handle.url) {
        clearTimeout(timer);
        handle.url = m[1];
        resolve(handle);
      }
    });
    proc.on('exit', (code) => { if (!handle.url) reject(new Error(`the router exited (${code}): ${handle.log}`)); });
  });
}

// Junction's own `--make-secret METHOD` for a secret: the members a principal stores.
function makeSecret(method, secret) {
  const { execFileSync } = require('node:child_process');
  const path = require('node:path');
  const bin = process.env.JUNCTION_BIN || path.join(__dirname, '..', '..', '..', 'build', 'router', 'junction');
  return JSON.parse('{' + execFileSync(bin, ['--make-secret', method], { input: secret + '\n' }).toString() + '}');
}

module.exports = {
  startRouter, makeSecret,
  autobahn, URL, REALM, REALM2, MAX_ID, STEP_MS, SERIALIZERS, SER,
  uniq, withTimeout, sleep, describeErr, connect, leave, closeAll,
  assertNoInternalErrors, collector, isWampId, expectWampError,
  jsonReplacer, jsonReviver,
};
