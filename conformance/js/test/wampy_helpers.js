'use strict';
// Helpers for wampy.test.js: Wampy.js (npm `wampy`, pinned in package.json) sessions against Junction.
//
// Wampy needs a WebSocket class under Node (option `ws`); we give it a subclass of the `ws` package that
// wampy itself depends on (node_modules/wampy/node_modules/ws, 8.x) which also records every frame both
// ways, decoded with a serializer of the session's kind. So a test can assert on what wampy really sent
// (e.g. which PUBLISH options survived its option filter) and on what the router answered.
// Over wss:// the router's certificate is trusted through NODE_EXTRA_CA_CERTS, as for Autobahn|JS.
const path = require('node:path');
const h = require('./helpers');

const wampyMain = require.resolve('wampy');
const { Wampy, Errors } = require('wampy');
const { JsonSerializer } = require('wampy/JsonSerializer.js');
const { MsgpackSerializer } = require('wampy/MsgpackSerializer.js');
const { CborSerializer } = require('wampy/CborSerializer.js');
const WebSocket = require(require.resolve('ws', { paths: [path.dirname(wampyMain)] }));
const WAMPY_VERSION = new Wampy().version.replace(/^v/, ''); // "8.0.2"; package.json is not exported

const SERIALIZERS = [
  { name: 'json', protocol: 'wamp.2.json', make: () => new JsonSerializer(), binary: false },
  { name: 'msgpack', protocol: 'wamp.2.msgpack', make: () => new MsgpackSerializer(), binary: true },
  { name: 'cbor', protocol: 'wamp.2.cbor', make: () => new CborSerializer(), binary: true },
];
const SER = Object.fromEntries(SERIALIZERS.map((s) => [s.name, s]));

const MSG = {
  HELLO: 1, WELCOME: 2, ABORT: 3, GOODBYE: 6, ERROR: 8, PUBLISH: 16, PUBLISHED: 17, SUBSCRIBE: 32,
  SUBSCRIBED: 33, UNSUBSCRIBE: 34, UNSUBSCRIBED: 35, EVENT: 36, CALL: 48, CANCEL: 49, RESULT: 50,
  REGISTER: 64, REGISTERED: 65, UNREGISTER: 66, UNREGISTERED: 67, INVOCATION: 68, INTERRUPT: 69, YIELD: 70,
};

// A WAMP id as wampy hands it to the application: a Number, or (MessagePack, msgpackr's default for a
// uint64/int64 above 2^32) a BigInt. Number(x) for comparisons; both must denote an integer in [1, 2^53].
function idNum(x) {
  if (typeof x === 'bigint') return Number(x);
  return x;
}
function isId(x) {
  return (typeof x === 'bigint' || typeof x === 'number') && h.isWampId(idNum(x));
}

// Open a wampy session. Resolves a handle once WELCOME arrived:
//   {w, ser, details, id (Number), ws, sent, received, errors, closed, frames(dir, type), close()}
// `sent` / `received` hold {raw, msg} for every frame (msg decoded; raw as given to / taken from ws).
// opts: realm, url, timeoutMs, wampy (more Wampy options), features (patch wampy's HELLO roles before
// connecting: {caller: {progressive_call_invocations: true}, ...}; only where a test says why).
async function open(serName, opts = {}) {
  const ser = SER[serName];
  if (!ser) throw new Error(`unknown serializer ${serName}`);
  const decoder = ser.make();
  const handle = { ser, sent: [], received: [], errors: [], ws: null, w: null, details: null, id: null, closedWs: false };
  let resolveClosed;
  handle.closed = new Promise((r) => { resolveClosed = r; });
  const decode = (raw) => {
    try {
      return decoder.decode(raw);
    } catch (e) {
      return { undecodable: String(e) };
    }
  };
  class RecordingWebSocket extends WebSocket {
    // wampy calls new ws(url, protocols, origin, headers, requestOptions) (WebSocket-Node's signature)
    constructor(url, protocols) {
      super(url, protocols);
      handle.ws = this;
      this.on('message', (data) => handle.received.push({ raw: data, msg: decode(data) }));
      this.on('close', (code, reason) => {
        handle.closedWs = { code, reason: reason.toString() };
        resolveClosed(handle.closedWs);
      });
    }
    send(data, ...rest) {
      handle.sent.push({ raw: data, msg: decode(data) });
      return super.send(data, ...rest);
    }
  }
  const w = new Wampy(opts.url || h.URL, {
    realm: opts.realm || h.REALM,
    ws: RecordingWebSocket,
    serializer: ser.make(),
    autoReconnect: false,
    onError: (e) => handle.errors.push(e),
    ...(opts.wampy || {}),
  });
  handle.w = w;
  if (opts.features) {
    for (const [role, f] of Object.entries(opts.features)) Object.assign(w._wamp_features.roles[role].features, f);
  }
  handle.frames = (dir, type) => (dir === 'sent' ? handle.sent : handle.received)
    .map((f) => f.msg).filter((m) => Array.isArray(m) && (type === undefined || m[0] === type));
  handle.close = () => close(handle);
  try {
    handle.details = await h.withTimeout(w.connect(), opts.timeoutMs || h.STEP_MS,
      `wampy joining realm ${opts.realm || h.REALM} over ${ser.protocol}`);
  } catch (e) {
    if (handle.ws) handle.ws.terminate();
    throw e;
  }
  handle.rawId = w.getSessionId();
  handle.id = idNum(handle.rawId);
  live.add(handle);
  return handle;
}

// Every session opened and not closed yet: closeLeftovers() (a file's after() hook) closes those a
// failing test left behind, so no WebSocket keeps the test file's process alive.
const live = new Set();
async function closeLeftovers() {
  await closeAll(...live);
}

// GOODBYE and wait for the WebSocket to close; never throws, never hangs long.
async function close(handle) {
  if (!handle || !handle.ws) return;
  live.delete(handle);
  if (handle.closedWs) return;
  try {
    await h.withTimeout(handle.w.disconnect(), 3000, 'wampy disconnect');
  } catch (_) {
    try { handle.ws.terminate(); } catch (_e) { /* gone */ }
  }
}

async function closeAll(...handles) {
  await Promise.all(handles.filter(Boolean).map((x) => close(x)));
}

// wampy's onError saw nothing (protocol violations, ABORTs, WebSocket errors) and the connection is up.
function assertHealthy(assert, ...handles) {
  for (const x of handles) {
    assert.deepEqual(x.errors.map((e) => `${e.name}: ${e.message} ${e.errorUri || ''}`), [],
      `wampy ${x.ser.name} session ${x.id} reported errors`);
    assert.equal(x.closedWs, false, `wampy ${x.ser.name} session ${x.id} lost its connection: ${JSON.stringify(x.closedWs)}`);
  }
}

// Describe a wampy rejection readably.
function describeErr(e) {
  if (e && e.errorUri !== undefined) {
    return `${e.name}(${e.errorUri}, args=${JSON.stringify(e.argsList, big)}, kwargs=${JSON.stringify(e.argsDict, big)})`;
  }
  if (e instanceof Error) return e.stack || e.message;
  return String(e);
}

function big(_k, v) {
  return typeof v === 'bigint' ? `${v}n` : v;
}

// Expect a wampy promise to reject with a WampError (CallError, PublishError, ...) of the given URI.
async function expectError(promise, uri, what) {
  let res;
  try {
    res = await h.withTimeout(promise, h.STEP_MS, what);
  } catch (e) {
    if (e instanceof Errors.WampError && e.errorUri === uri) return e;
    throw new Error(`${what}: expected ERROR ${uri}, got ${describeErr(e)}`);
  }
  throw new Error(`${what}: expected ERROR ${uri}, but it succeeded with ${JSON.stringify(res, big)}`);
}

// Event collector for wampy's onEvent({details, argsList, argsDict}).
function collector() {
  const events = [];
  const waiters = [];
  let consumed = 0;
  const handler = (ev) => {
    events.push(ev);
    const w = waiters.shift();
    if (w) w();
  };
  function next(timeoutMs = h.STEP_MS, what = 'event') {
    if (consumed < events.length) return Promise.resolve(events[consumed++]);
    return h.withTimeout(new Promise((r) => waiters.push(() => r(events[consumed++]))), timeoutMs, what);
  }
  return { handler, events, next };
}

module.exports = {
  Wampy, Errors, WebSocket, WAMPY_VERSION, SERIALIZERS, SER, MSG,
  idNum, isId, open, close, closeAll, closeLeftovers, assertHealthy, describeErr, expectError, collector, big,
};
