'use strict';
// Wampy.js 8 (npm `wampy`, pinned in package.json; the second most used JS WAMP client) against Junction,
// over each serializer wampy ships: JSON (built in), MessagePack (msgpackr) and CBOR (cbor-x). Session,
// RPC, PubSub, the Advanced Profile features wampy implements, the meta API, and binary payloads between
// wampy sessions of different serializers. wampy_helpers.js records every frame both ways, so where
// wampy's API hides what went over the wire, the tests look at the frames.
//
// Client limitations of wampy 8.0.2, recorded where they show (each test says what wampy really sends):
//  - publish() always sends `acknowledge: true`, copies `exclude_me` and `disclose_me` only when true
//    (so `exclude_me: false` never reaches the router) and drops `retain` altogether.
//  - subscribe() always sends `match` and `get_retained`, unset ones as `undefined`: msgpackr writes
//    that as the fixext `d4 00 00`, cbor-x as `f7`; the router must read them as absent (regression).
//  - HELLO announces neither progressive_call_invocations (caller) nor progressive_call_results /
//    call_canceling (callee): progressiveCall() is then a protocol violation to the router, a wampy
//    callee is never offered progressive results, and cancel/timeout toward it act as "skip" (wampy has
//    no INTERRUPT handler: one would make it close the session as a protocol violation).
//  - over MessagePack, ids above 2^32 arrive as BigInt (msgpackr's default for 64-bit integers); a
//    Number above 2^32 (a session id in exclude/eligible, wamp.session.get) leaves as a float64 over
//    MessagePack (msgpackr) and CBOR (cbor-x), a BigInt as a 64-bit integer: the router must take both.
//  - wampy's JSON serializer is plain JSON.stringify/parse: bytes only as the WAMP "\u0000"+base64
//    string convention, written and read by the application.
//  - cbor-x writes a Uint8Array (not a Buffer) as tag 64 (RFC 8746 typed array) around a byte string.
const { describe, test, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');
const wh = require('./wampy_helpers');
const { MSG, idNum } = wh;

const T = { timeout: 30000 };
const QUIET_MS = 400; // how long we wait to be sure nothing (more) arrives
const TWO32 = 2 ** 32;

// A promise and its resolve function.
function gate() {
  let open;
  const p = new Promise((r) => { open = r; });
  return { p, open };
}

const last = (frames) => frames[frames.length - 1];
const hex = (raw) => Buffer.from(raw).toString('hex');

// How msgpackr / cbor-x put a JavaScript Number id on the wire (float64 above 2^32).
function numberOnWire(serName, n) {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(n);
  if (n < TWO32) return null; // an integer encoding; nothing special to check
  return (serName === 'msgpack' ? 'cb' : 'fb') + b.toString('hex');
}

// Publishes from `pub` and checks which of `subs` ({x, c}) got it (exactly once) within QUIET_MS.
async function expectReceivers(pub, topic, options, subs, expected, what) {
  const before = subs.map((s) => s.c.events.length);
  await h.withTimeout(pub.w.publish(topic, [what], options), h.STEP_MS, `publish ${what}`);
  for (const i of expected) assert.deepEqual((await subs[i].c.next(h.STEP_MS, `${what}: EVENT at subscriber ${i}`)).argsList, [what]);
  await h.sleep(QUIET_MS);
  const got = subs.map((s, i) => (s.c.events.length > before[i] ? i : -1)).filter((i) => i >= 0);
  assert.deepEqual(got, expected, `${what}: receivers`);
  for (let i = 0; i < subs.length; i++) assert.ok(subs[i].c.events.length - before[i] <= 1, `${what}: subscriber ${i} got duplicates`);
}

after(() => wh.closeLeftovers()); // sessions a failing test could not close in its finally

async function subscriber(serName, topic, options) {
  const x = await wh.open(serName);
  const c = wh.collector();
  const sub = await h.withTimeout(x.w.subscribe(topic, c.handler, options), h.STEP_MS, `subscribe ${topic}`);
  return { x, c, sub };
}

for (const s of wh.SERIALIZERS) {
  describe(`wampy ${wh.WAMPY_VERSION} over ${s.protocol}`, () => {
    // -- session -------------------------------------------------------------------------------------------
    test('join: WELCOME details (session id, realm, anonymous auth, broker and dealer features)', T, async () => {
      const a = await wh.open(s.name);
      const b = await wh.open(s.name);
      try {
        for (const x of [a, b]) {
          assert.equal(x.ws.protocol, s.protocol, 'negotiated WebSocket subprotocol');
          const hello = x.sent[0].msg;
          assert.equal(hello[0], MSG.HELLO);
          assert.equal(hello[2].agent, `Wampy.js v${wh.WAMPY_VERSION}`);
          assert.deepEqual(Object.keys(hello[2].roles).sort(), ['callee', 'caller', 'publisher', 'subscriber']);
          const welcome = x.received[0].msg;
          assert.equal(welcome[0], MSG.WELCOME, `first frame from the router: ${JSON.stringify(welcome, wh.big)}`);
          assert.ok(wh.isId(x.rawId), `session id ${x.rawId} not an integer in [1, 2^53]`);
          // msgpackr reads a uint64 as BigInt: the router's ids above 2^32 reach a MessagePack wampy as BigInt
          assert.equal(typeof x.rawId, s.name === 'msgpack' && x.id >= TWO32 ? 'bigint' : 'number');
          const d = x.details;
          assert.equal(d.realm, h.REALM);
          assert.equal(d.authrole, 'anonymous');
          assert.equal(d.authmethod, 'anonymous');
          assert.equal(typeof d.authid, 'string');
          assert.ok(d.authid.length > 0, 'WELCOME.Details.authid is empty');
          const broker = (d.roles.broker || {}).features || {};
          const dealer = (d.roles.dealer || {}).features || {};
          for (const k of ['publisher_exclusion', 'publisher_identification', 'subscriber_blackwhite_listing',
            'pattern_based_subscription', 'event_retention']) assert.equal(broker[k], true, `broker feature ${k}`);
          for (const k of ['progressive_call_results', 'progressive_call_invocations', 'call_timeout', 'call_canceling',
            'caller_identification', 'pattern_based_registration', 'shared_registration']) assert.equal(dealer[k], true, `dealer feature ${k}`);
        }
        assert.notEqual(a.id, b.id, 'two sessions got the same id');
        assert.notEqual(a.details.authid, b.details.authid, 'two anonymous sessions got the same authid');
        wh.assertHealthy(assert, a, b);
      } finally {
        await wh.closeAll(a, b);
      }
    });

    test('leave: wampy\'s GOODBYE (wamp.close.system_shutdown) is answered with GOODBYE wamp.close.goodbye_and_out', T, async () => {
      const a = await wh.open(s.name);
      try {
        await h.withTimeout(a.w.disconnect(), h.STEP_MS, 'disconnect');
        assert.deepEqual(a.frames('sent', MSG.GOODBYE).map((m) => m[2]), ['wamp.close.system_shutdown']);
        const gb = a.frames('received', MSG.GOODBYE);
        assert.equal(gb.length, 1, `router's GOODBYEs: ${JSON.stringify(gb)}`);
        assert.equal(gb[0][2], 'wamp.close.goodbye_and_out');
        assert.ok(a.closedWs, 'the WebSocket is closed');
        assert.deepEqual(a.errors, []);
      } finally {
        await wh.closeAll(a);
      }
    });

    test('unknown realm: HELLO is answered with ABORT wamp.error.no_such_realm', T, async () => {
      const realm = h.uniq('no_such_realm');
      let joined = null;
      try {
        joined = await wh.open(s.name, { realm });
      } catch (e) {
        assert.ok(e instanceof wh.Errors.AbortError, `expected AbortError, got ${wh.describeErr(e)}`);
        assert.equal(e.errorUri, 'wamp.error.no_such_realm');
        return;
      }
      await wh.closeAll(joined);
      assert.fail(`joined non-existent realm ${realm} (session ${joined.id}) instead of getting ABORT`);
    });

    // -- RPC -----------------------------------------------------------------------------------------------
    test('rpc: register, call with args and kwargs, results with args and kwargs', T, async () => {
      const callee = await wh.open(s.name);
      const caller = await wh.open(s.name);
      try {
        const proc = h.uniq('echo');
        const seen = [];
        const reg = await h.withTimeout(callee.w.register(proc, (inv) => {
          seen.push(inv);
          return { argsList: [...(inv.argsList || []), 'back'], argsDict: { ...(inv.argsDict || {}), n: 2 } };
        }), h.STEP_MS, `register ${proc}`);
        assert.ok(wh.isId(reg.registrationId), `registration id ${reg.registrationId}`);
        assert.deepEqual(last(callee.frames('sent', MSG.REGISTER))[2], {}, 'REGISTER.Options');

        const args = [1, 'two', { three: [3, 3.5] }, null, true];
        const kwargs = { k: 'v', nested: { list: [1, 2], s: 'ü€' } };
        const r = await h.withTimeout(caller.w.call(proc, { argsList: args, argsDict: kwargs }), h.STEP_MS, 'call');
        assert.deepEqual(r.argsList, [...args, 'back']);
        assert.deepEqual(r.argsDict, { ...kwargs, n: 2 });
        assert.deepEqual(seen[0].argsList, args);
        assert.deepEqual(seen[0].argsDict, kwargs);
        assert.equal(seen[0].details.caller, undefined, 'caller disclosed without disclose_me');

        // a single value (wampy wraps it in a list) and kwargs only (wampy sends [] for args)
        const r2 = await h.withTimeout(caller.w.call(proc, 'one'), h.STEP_MS, 'call with one value');
        assert.deepEqual(r2.argsList, ['one', 'back']);
        const r3 = await h.withTimeout(caller.w.call(proc, { only: 'kw' }), h.STEP_MS, 'call with kwargs only');
        assert.deepEqual(r3.argsDict, { only: 'kw', n: 2 });
        assert.deepEqual(seen[2].argsDict, { only: 'kw' });
        // no payload at all
        await h.withTimeout(caller.w.call(proc), h.STEP_MS, 'call without payload');
        assert.deepEqual(seen[3].argsList || [], []);
        assert.equal(seen[3].argsDict, undefined);
        assert.equal(seen.length, 4);
        wh.assertHealthy(assert, callee, caller);
      } finally {
        await wh.closeAll(callee, caller);
      }
    });

    test('rpc: a callee error reaches the caller with its URI, args and kwargs; a thrown exception as invocation_exception', T, async () => {
      const callee = await wh.open(s.name);
      const caller = await wh.open(s.name);
      try {
        const perr = h.uniq('fails');
        await callee.w.register(perr, () => {
          throw Object.assign(new Error('boom'), { error: 'com.example.error.boom', argsList: ['bad', 2], argsDict: { why: 'test' } });
        });
        const e = await wh.expectError(caller.w.call(perr, [1]), 'com.example.error.boom', `call ${perr}`);
        assert.ok(e instanceof wh.Errors.CallError, e.name);
        assert.deepEqual(e.argsList, ['bad', 2]);
        assert.deepEqual(e.argsDict, { why: 'test' });
        const sentErr = last(callee.frames('sent', MSG.ERROR));
        assert.deepEqual(sentErr.slice(0, 2), [MSG.ERROR, MSG.INVOCATION]);

        const pthrow = h.uniq('throws');
        await callee.w.register(pthrow, () => { throw new TypeError('oops'); });
        await wh.expectError(caller.w.call(pthrow), 'wamp.error.invocation_exception', `call ${pthrow}`);
        wh.assertHealthy(assert, callee, caller);
      } finally {
        await wh.closeAll(callee, caller);
      }
    });

    test('rpc: no_such_procedure before register and after unregister; procedure_already_exists', T, async () => {
      const callee = await wh.open(s.name);
      const other = await wh.open(s.name);
      const caller = await wh.open(s.name);
      try {
        const proc = h.uniq('lifecycle');
        await wh.expectError(caller.w.call(proc), 'wamp.error.no_such_procedure', 'call before register');
        await callee.w.register(proc, () => ['ok']);
        assert.deepEqual((await caller.w.call(proc)).argsList, ['ok']);
        await wh.expectError(other.w.register(proc, () => ['other']), 'wamp.error.procedure_already_exists', 'second register');
        const u = await h.withTimeout(callee.w.unregister(proc), h.STEP_MS, 'unregister');
        assert.equal(u.topic, proc);
        assert.equal(callee.frames('received', MSG.UNREGISTERED).length, 1);
        await wh.expectError(caller.w.call(proc), 'wamp.error.no_such_procedure', 'call after unregister');
        // the URI is free again
        await other.w.register(proc, () => ['other']);
        assert.deepEqual((await caller.w.call(proc)).argsList, ['other']);
        wh.assertHealthy(assert, callee, other, caller);
      } finally {
        await wh.closeAll(callee, other, caller);
      }
    });

    // -- PubSub --------------------------------------------------------------------------------------------
    test('pubsub: SUBSCRIBE with wampy\'s default options (unset ones as undefined), acknowledged PUBLISH, EVENT args/kwargs, unsubscribe', T, async () => {
      const topic = h.uniq('topic');
      const sub = await subscriber(s.name, topic);
      const stay = await subscriber(s.name, topic);
      const pub = await wh.open(s.name);
      try {
        assert.ok(wh.isId(sub.sub.subscriptionId), `subscription id ${sub.sub.subscriptionId}`);
        assert.equal(idNum(stay.sub.subscriptionId), idNum(sub.sub.subscriptionId), 'one subscription per topic');
        // What went over the wire: wampy sends {match: undefined, get_retained: undefined}.
        const frame = sub.x.sent.find((f) => f.msg[0] === MSG.SUBSCRIBE);
        if (s.name === 'msgpack') {
          assert.ok(hex(frame.raw).includes(hex(Buffer.from('\xa5match', 'latin1')) + 'd40000'), `no match: d4 00 00 in ${hex(frame.raw)}`);
          assert.ok(hex(frame.raw).includes(hex(Buffer.from('\xacget_retained', 'latin1')) + 'd40000'), `no get_retained: d4 00 00 in ${hex(frame.raw)}`);
        } else if (s.name === 'cbor') {
          assert.ok(hex(frame.raw).includes(hex(Buffer.from('\x65match', 'latin1')) + 'f7'), `no match: f7 in ${hex(frame.raw)}`);
        } else {
          assert.equal(frame.raw, `[32,1,{},"${topic}"]`);
        }

        const p = await h.withTimeout(pub.w.publish(topic, { argsList: [1, 'a', [2]], argsDict: { k: { v: 1 } } }), h.STEP_MS, 'publish');
        assert.ok(wh.isId(p.publicationId), `publication id ${p.publicationId}`);
        assert.deepEqual(last(pub.frames('sent', MSG.PUBLISH))[2], { acknowledge: true }, 'wampy always asks for acknowledgement');
        for (const x of [sub, stay]) {
          const ev = await x.c.next(h.STEP_MS, 'EVENT');
          assert.deepEqual(ev.argsList, [1, 'a', [2]]);
          assert.deepEqual(ev.argsDict, { k: { v: 1 } });
          assert.equal(ev.details.publisher, undefined, 'publisher disclosed without disclose_me');
        }
        const evFrame = last(sub.x.frames('received', MSG.EVENT));
        assert.equal(idNum(evFrame[2]), idNum(p.publicationId), 'EVENT.Publication = PUBLISHED.Publication');

        await h.withTimeout(pub.w.publish(topic, 'single'), h.STEP_MS, 'publish one value');
        assert.deepEqual((await sub.c.next()).argsList, ['single']);
        await h.withTimeout(pub.w.publish(topic, { only: 'kw' }), h.STEP_MS, 'publish kwargs only');
        assert.deepEqual((await sub.c.next()).argsDict, { only: 'kw' });
        await stay.c.next();
        await stay.c.next();

        await h.withTimeout(sub.x.w.unsubscribe(sub.sub.subscriptionId), h.STEP_MS, 'unsubscribe');
        assert.equal(sub.x.frames('received', MSG.UNSUBSCRIBED).length, 1);
        await h.withTimeout(pub.w.publish(topic, ['after']), h.STEP_MS, 'publish after unsubscribe');
        assert.deepEqual((await stay.c.next()).argsList, ['after']);
        await h.sleep(QUIET_MS);
        assert.equal(sub.c.events.length, 3, 'an event arrived after UNSUBSCRIBED');
        wh.assertHealthy(assert, sub.x, stay.x, pub);
      } finally {
        await wh.closeAll(sub.x, stay.x, pub);
      }
    });

    test('exclude_me: the publisher is excluded by default; wampy drops exclude_me: false, sends exclude_me: true', T, async () => {
      const topic = h.uniq('exme');
      const a = await subscriber(s.name, topic);
      const b = await subscriber(s.name, topic);
      try {
        await a.x.w.publish(topic, ['default']);
        assert.deepEqual((await b.c.next()).argsList, ['default']);
        // wampy 8.0.2 copies exclude_me only when it is true: the router never sees exclude_me: false
        await a.x.w.publish(topic, ['false'], { exclude_me: false });
        assert.deepEqual(last(a.x.frames('sent', MSG.PUBLISH))[2], { acknowledge: true }, 'PUBLISH.Options as wampy sends them');
        assert.deepEqual((await b.c.next()).argsList, ['false']);
        await a.x.w.publish(topic, ['true'], { exclude_me: true });
        assert.deepEqual(last(a.x.frames('sent', MSG.PUBLISH))[2], { acknowledge: true, exclude_me: true });
        assert.deepEqual((await b.c.next()).argsList, ['true']);
        await h.sleep(QUIET_MS);
        assert.equal(a.c.events.length, 0, `the publisher got its own events: ${JSON.stringify(a.c.events)}`);
        wh.assertHealthy(assert, a.x, b.x);
      } finally {
        await wh.closeAll(a.x, b.x);
      }
    });

    // -- Advanced Profile: broker ---------------------------------------------------------------------------
    test('black/white listing with session ids of JSON, MessagePack and CBOR sessions (ids above 2^32 as float64)', T, async () => {
      const topic = h.uniq('bw');
      const pub = await wh.open(s.name);
      const subs = [];
      try {
        for (const n of ['json', 'msgpack', 'cbor']) subs.push(await subscriber(n, topic));
        const ids = subs.map((x) => x.x.id);
        const authids = subs.map((x) => x.x.details.authid);
        const X = subs.map((x) => ({ c: x.c }));
        await expectReceivers(pub, topic, {}, X, [0, 1, 2], 'no filter');
        await expectReceivers(pub, topic, { exclude: [ids[1]] }, X, [0, 2], 'exclude');
        const wire = numberOnWire(s.name, ids[1]);
        if (s.binary && wire) {
          assert.ok(hex(last(pub.sent).raw).includes(wire), `PUBLISH.Options.exclude as float64 (${wire}) in ${hex(last(pub.sent).raw)}`);
        }
        await expectReceivers(pub, topic, { exclude: ids[2] }, X, [0, 1], 'exclude one id (wampy wraps it)');
        assert.deepEqual(last(pub.frames('sent', MSG.PUBLISH))[2].exclude.map(idNum), [ids[2]]);
        await expectReceivers(pub, topic, { eligible: [ids[0], ids[2]] }, X, [0, 2], 'eligible');
        await expectReceivers(pub, topic, { eligible: ids[1] }, X, [1], 'eligible one id');
        await expectReceivers(pub, topic, { exclude_authid: authids[0] }, X, [1, 2], 'exclude_authid');
        await expectReceivers(pub, topic, { eligible_authid: [authids[2]] }, X, [2], 'eligible_authid');
        await expectReceivers(pub, topic, { exclude_authrole: 'anonymous' }, X, [], 'exclude_authrole');
        await expectReceivers(pub, topic, { eligible_authrole: ['anonymous'], exclude: [ids[0]] }, X, [1, 2], 'combined');
        if (s.name !== 'json') {
          // BigInt ids (what a MessagePack wampy hands out): 64-bit integers on the wire
          await expectReceivers(pub, topic, { eligible: [BigInt(ids[0]), BigInt(ids[1])] }, X, [0, 1], 'eligible as BigInt');
        }
        wh.assertHealthy(assert, pub, ...subs.map((x) => x.x));
      } finally {
        await wh.closeAll(pub, ...subs.map((x) => x.x));
      }
    });

    test('publisher identification: disclose_me gives EVENT.Details.publisher, publisher_authid, publisher_authrole', T, async () => {
      const topic = h.uniq('disclose');
      const sub = await subscriber(s.name, topic);
      const pub = await wh.open(s.name);
      try {
        await pub.w.publish(topic, ['hidden']);
        const hidden = await sub.c.next();
        assert.equal(hidden.details.publisher, undefined);
        await pub.w.publish(topic, ['shown'], { disclose_me: true });
        assert.deepEqual(last(pub.frames('sent', MSG.PUBLISH))[2], { acknowledge: true, disclose_me: true });
        const shown = await sub.c.next();
        assert.deepEqual(shown.argsList, ['shown']);
        assert.equal(idNum(shown.details.publisher), pub.id);
        assert.equal(shown.details.publisher_authid, pub.details.authid);
        assert.equal(shown.details.publisher_authrole, 'anonymous');
        wh.assertHealthy(assert, sub.x, pub);
      } finally {
        await wh.closeAll(sub.x, pub);
      }
    });

    test('pattern-based subscriptions: match prefix and wildcard, EVENT.Details.topic', T, async () => {
      const base = h.uniq('pat');
      const x = await wh.open(s.name);
      const pub = await wh.open(s.name);
      try {
        const cp = wh.collector();
        const cw = wh.collector();
        const ce = wh.collector();
        const sp = await x.w.subscribe(base, cp.handler, { match: 'prefix' });
        const sw = await x.w.subscribe(`${base}..leaf`, cw.handler, { match: 'wildcard' });
        const se = await x.w.subscribe(`${base}.a.leaf`, ce.handler);
        assert.equal(new Set([sp, sw, se].map((r) => idNum(r.subscriptionId))).size, 3, 'three subscriptions');
        const subs = x.frames('sent', MSG.SUBSCRIBE);
        assert.equal(subs[0][2].match, 'prefix');
        assert.equal(subs[1][2].match, 'wildcard');

        await pub.w.publish(`${base}.a.leaf`, ['1']);
        for (const c of [cp, cw, ce]) assert.deepEqual((await c.next(h.STEP_MS, 'event 1')).argsList, ['1']);
        assert.equal(cp.events[0].details.topic, `${base}.a.leaf`);
        assert.equal(cw.events[0].details.topic, `${base}.a.leaf`);
        assert.equal(ce.events[0].details.topic, undefined, 'Details.topic on an exact subscription');
        await pub.w.publish(`${base}.b`, ['2']);
        await pub.w.publish(`${base}.b.leaf`, ['3']);
        await pub.w.publish(`${base}.b.c.leaf`, ['4']);
        await h.sleep(QUIET_MS);
        assert.deepEqual(cp.events.map((e) => [e.argsList[0], e.details.topic]),
          [['1', `${base}.a.leaf`], ['2', `${base}.b`], ['3', `${base}.b.leaf`], ['4', `${base}.b.c.leaf`]]);
        assert.deepEqual(cw.events.map((e) => e.argsList[0]), ['1', '3']);
        assert.deepEqual(ce.events.map((e) => e.argsList[0]), ['1']);
        wh.assertHealthy(assert, x, pub);
      } finally {
        await wh.closeAll(x, pub);
      }
    });

    test('event retention: wampy\'s get_retained gets the retained event; wampy drops PUBLISH retain', T, async () => {
      const topic = h.uniq('retained');
      const ab = await h.connect('json'); // Autobahn|JS sends retain as given
      const pub = await wh.open(s.name);
      let sub = null;
      try {
        await h.withTimeout(ab.session.publish(topic, ['kept'], { from: 'autobahn' }, { retain: true, acknowledge: true }), h.STEP_MS, 'retain');
        // wampy 8.0.2 reads `retain` (and type-checks it) but never puts it in PUBLISH.Options
        await pub.w.publish(topic, ['not kept'], { retain: true });
        assert.deepEqual(last(pub.frames('sent', MSG.PUBLISH))[2], { acknowledge: true });
        sub = await subscriber(s.name, topic, { get_retained: true });
        assert.equal(last(sub.x.frames('sent', MSG.SUBSCRIBE))[2].get_retained, true);
        const ev = await sub.c.next(h.STEP_MS, 'retained event');
        assert.deepEqual(ev.argsList, ['kept'], 'the retained event is Autobahn\'s (wampy\'s publish was not retained)');
        assert.deepEqual(ev.argsDict, { from: 'autobahn' });
        assert.equal(ev.details.retained, true);
        await h.sleep(QUIET_MS);
        assert.equal(sub.c.events.length, 1);
        wh.assertHealthy(assert, pub, sub.x);
      } finally {
        await h.closeAll(ab);
        await wh.closeAll(pub, sub && sub.x);
      }
    });

    // -- Advanced Profile: dealer ---------------------------------------------------------------------------
    test('progressive call results: a wampy caller gets them from a callee that announces them (Autobahn|JS)', T, async () => {
      const ab = await h.connect('json');
      const caller = await wh.open(s.name);
      try {
        const proc = h.uniq('progress');
        await h.withTimeout(ab.session.register(proc, (args, kwargs, details) => {
          if (details.progress) for (let i = 0; i < 3; i++) details.progress([i], { step: i });
          return new h.autobahn.Result(['final'], { n: 3 });
        }), h.STEP_MS, 'register');
        const progress = [];
        let atFinal = -1;
        const res = await h.withTimeout(caller.w.call(proc, ['go'], { progress_callback: (r) => progress.push(r) })
          .then((r) => { atFinal = progress.length; return r; }), h.STEP_MS, 'progressive call');
        assert.deepEqual(last(caller.frames('sent', MSG.CALL))[2], { receive_progress: true });
        assert.deepEqual(progress.map((p) => [p.argsList, p.argsDict, p.details.progress]),
          [[[0], { step: 0 }, true], [[1], { step: 1 }, true], [[2], { step: 2 }, true]]);
        assert.equal(atFinal, 3, 'every progressive result before the final one');
        assert.deepEqual(res.argsList, ['final']);
        assert.deepEqual(res.argsDict, { n: 3 });
        assert.equal(res.details.progress, undefined);
        wh.assertHealthy(assert, caller);
      } finally {
        await h.closeAll(ab);
        await wh.closeAll(caller);
      }
    });

    test('progressive call results toward a wampy callee: not announced, so not offered, and its progressive YIELDs are dropped', T, async () => {
      const callee = await wh.open(s.name);
      const announcing = await wh.open(s.name, { features: { callee: { progressive_call_results: true } } });
      const caller = await wh.open(s.name);
      try {
        const handler = (inv) => {
          inv.result_handler({ argsList: ['p1'], options: { progress: true } });
          inv.result_handler({ argsList: ['p2'], options: { progress: true } });
          return { argsList: ['final'] };
        };
        // wampy 8.0.2 implements progressive results as callee but does not announce them
        assert.equal(callee.sent[0].msg[2].roles.callee.features.progressive_call_results, undefined);
        const plain = h.uniq('progress_plain');
        await callee.w.register(plain, handler);
        const progress = [];
        const res = await h.withTimeout(caller.w.call(plain, [], { progress_callback: (r) => progress.push(r) }), h.STEP_MS, 'call');
        assert.deepEqual(res.argsList, ['final']);
        const inv = last(callee.frames('received', MSG.INVOCATION));
        assert.equal(inv[3].receive_progress, undefined, `INVOCATION.Details ${JSON.stringify(inv[3], wh.big)}`);
        assert.deepEqual(callee.frames('sent', MSG.YIELD).map((m) => m[2].progress === true), [true, true, false], 'wampy sent them anyway');
        await h.sleep(QUIET_MS);
        assert.deepEqual(progress, [], 'progressive YIELDs from a callee that was not offered them were forwarded');

        // the same callee announcing the feature (HELLO patched): offered, and forwarded in order
        const announced = h.uniq('progress_announced');
        await announcing.w.register(announced, handler);
        const res2 = await h.withTimeout(caller.w.call(announced, [], { progress_callback: (r) => progress.push(r) }), h.STEP_MS, 'call');
        assert.equal(last(announcing.frames('received', MSG.INVOCATION))[3].receive_progress, true);
        assert.deepEqual(progress.map((p) => p.argsList), [['p1'], ['p2']]);
        assert.deepEqual(res2.argsList, ['final']);
        wh.assertHealthy(assert, callee, announcing, caller);
      } finally {
        await wh.closeAll(callee, announcing, caller);
      }
    });

    test('progressive call invocations: wampy does not announce them, so progressiveCall() is a protocol violation', T, async () => {
      const callee = await wh.open(s.name);
      const caller = await wh.open(s.name);
      try {
        const proc = h.uniq('pinv');
        await callee.w.register(proc, () => ['never']);
        assert.equal(caller.sent[0].msg[2].roles.caller.features.progressive_call_invocations, undefined);
        const pc = caller.w.progressiveCall(proc, [1]);
        const failed = pc.result.then(() => null, (e) => e);
        assert.deepEqual(last(caller.frames('sent', MSG.CALL))[2], { progress: true });
        await h.withTimeout(caller.closed, h.STEP_MS, 'the router closing the caller');
        const abort = caller.frames('received', MSG.ABORT);
        assert.equal(abort.length, 1, `ABORT expected, got ${JSON.stringify(caller.received.slice(1).map((f) => f.msg), wh.big)}`);
        assert.equal(abort[0][2], 'wamp.error.protocol_violation');
        assert.match(abort[0][1].message, /progressive_call_invocations/);
        assert.ok((await failed) instanceof Error, 'the call promise rejects');
        assert.equal(callee.frames('received', MSG.INVOCATION).length, 0, 'the callee was invoked');
        wh.assertHealthy(assert, callee);
      } finally {
        await wh.closeAll(callee, caller);
      }
    });

    test('progressive call invocations with the features announced (HELLO patched): one call, chunks in order, one result', T, async () => {
      // The router invokes progressively only callees announcing progressive_call_invocations and
      // call_canceling. wampy has no INTERRUPT handler, so nothing here may cancel or time out.
      const callee = await wh.open(s.name, { features: { callee: { progressive_call_invocations: true, call_canceling: true } } });
      const caller = await wh.open(s.name, { features: { caller: { progressive_call_invocations: true } } });
      try {
        const proc = h.uniq('pinv_ok');
        const chunks = [];
        await callee.w.register(proc, (inv) => {
          chunks.push([inv.argsList[0], inv.details.progress === true]);
          if (inv.details.progress) return new Promise(() => {}); // answer only the final chunk
          return { argsList: [chunks.reduce((a, [v]) => a + v, 0)] };
        });
        const pc = caller.w.progressiveCall(proc, 1);
        pc.sendData(2);
        pc.sendData(3);
        pc.sendData(4, { progress: false });
        const res = await h.withTimeout(pc.result, h.STEP_MS, 'progressive call');
        assert.deepEqual(res.argsList, [10]);
        assert.deepEqual(chunks, [[1, true], [2, true], [3, true], [4, false]]);
        const invs = callee.frames('received', MSG.INVOCATION);
        assert.equal(new Set(invs.map((m) => idNum(m[1]))).size, 1, 'one INVOCATION request id for all chunks');
        const calls = caller.frames('sent', MSG.CALL);
        assert.equal(new Set(calls.map((m) => m[1])).size, 1, 'one CALL request id for all chunks');
        wh.assertHealthy(assert, callee, caller);
      } finally {
        await wh.closeAll(callee, caller);
      }
    });

    test('call timeout: ERROR wamp.error.timeout, no INTERRUPT to a wampy callee, its late YIELD dropped', T, async () => {
      const callee = await wh.open(s.name);
      const caller = await wh.open(s.name);
      try {
        const proc = h.uniq('slow');
        const invoked = gate();
        const release = gate();
        await callee.w.register(proc, (inv) => {
          if (inv.argsList[0] !== 'slow') return ['quick'];
          invoked.open();
          return release.p.then(() => ['late']);
        });
        const t0 = Date.now();
        const e = await wh.expectError(caller.w.call(proc, ['slow'], { timeout: 300 }), 'wamp.error.timeout', 'call with timeout');
        const took = Date.now() - t0;
        assert.ok(took >= 250 && took < 3000, `timed out after ${took} ms`);
        assert.ok(Array.isArray(e.argsList));
        assert.deepEqual(last(caller.frames('sent', MSG.CALL))[2], { timeout: 300 });
        await h.withTimeout(invoked.p, h.STEP_MS, 'invoked');
        release.open();
        await h.sleep(QUIET_MS);
        assert.equal(callee.frames('received', MSG.INTERRUPT).length, 0, 'INTERRUPT to a callee without call_canceling');
        assert.deepEqual(callee.frames('sent', MSG.YIELD).map((m) => m[3]), [['late']], 'the callee answered late');
        assert.equal(caller.frames('received', MSG.RESULT).length, 0, 'the late YIELD was forwarded');
        assert.deepEqual((await caller.w.call(proc, ['again'])).argsList, ['quick']);
        wh.assertHealthy(assert, callee, caller);
      } finally {
        await wh.closeAll(callee, caller);
      }
    });

    test('call canceling: every mode gives ERROR wamp.error.canceled at once, and a wampy callee no INTERRUPT', T, async () => {
      const callee = await wh.open(s.name);
      const caller = await wh.open(s.name);
      try {
        const proc = h.uniq('cancel');
        const pending = [];
        let invoked = gate();
        await callee.w.register(proc, (inv) => {
          if (inv.argsList[0] !== 'slow') return ['quick'];
          const g = gate();
          pending.push(g);
          invoked.open();
          return g.p.then(() => ['late']);
        });
        for (const mode of [undefined, 'skip', 'kill', 'killnowait']) {
          invoked = gate();
          const p = caller.w.call(proc, ['slow']);
          const reqId = caller.w.getOpStatus().reqId;
          await h.withTimeout(invoked.p, h.STEP_MS, `invoked (${mode})`);
          assert.equal(caller.w.cancel(reqId, mode ? { mode } : undefined), true);
          assert.deepEqual(last(caller.frames('sent', MSG.CANCEL)), [MSG.CANCEL, reqId, mode ? { mode } : {}]);
          await wh.expectError(p, 'wamp.error.canceled', `cancel mode ${mode}`);
        }
        for (const g of pending) g.open();
        await h.sleep(QUIET_MS);
        assert.equal(callee.frames('received', MSG.INTERRUPT).length, 0, 'INTERRUPT to a callee without call_canceling');
        assert.equal(callee.frames('sent', MSG.YIELD).length, 4, 'the callee answered late');
        assert.equal(caller.frames('received', MSG.RESULT).length, 0, 'a late YIELD was forwarded');
        assert.deepEqual((await caller.w.call(proc, ['again'])).argsList, ['quick']);
        wh.assertHealthy(assert, callee, caller);
      } finally {
        await wh.closeAll(callee, caller);
      }
    });

    test('caller identification: disclose_me gives INVOCATION.Details.caller, caller_authid, caller_authrole', T, async () => {
      const callee = await wh.open(s.name);
      const caller = await wh.open(s.name);
      try {
        const proc = h.uniq('whoami');
        const details = [];
        await callee.w.register(proc, (inv) => { details.push(inv.details); return ['ok']; });
        await caller.w.call(proc);
        await caller.w.call(proc, [], { disclose_me: true });
        assert.deepEqual(last(caller.frames('sent', MSG.CALL))[2], { disclose_me: true });
        assert.equal(details[0].caller, undefined, 'caller disclosed without disclose_me');
        assert.equal(idNum(details[1].caller), caller.id);
        assert.equal(details[1].caller_authid, caller.details.authid);
        assert.equal(details[1].caller_authrole, 'anonymous');
        wh.assertHealthy(assert, callee, caller);
      } finally {
        await wh.closeAll(callee, caller);
      }
    });

    test('pattern-based registrations: exact before the longest prefix before wildcard, INVOCATION.Details.procedure', T, async () => {
      const P = h.uniq('rpre');
      const W = h.uniq('rwild');
      const callee = await wh.open(s.name);
      const caller = await wh.open(s.name);
      try {
        const tagged = (tag) => (inv) => [tag, inv.details.procedure === undefined ? null : inv.details.procedure];
        await callee.w.register(`${P}.a.leaf`, tagged('exact'));
        await callee.w.register(P, tagged('prefix'), { match: 'prefix' });
        await callee.w.register(`${P}.a`, tagged('longer prefix'), { match: 'prefix' });
        await callee.w.register(`${P}..leaf`, tagged('wildcard P'), { match: 'wildcard' });
        await callee.w.register(`${W}..leaf`, tagged('wildcard W'), { match: 'wildcard' });
        assert.deepEqual(callee.frames('sent', MSG.REGISTER).map((m) => m[2]),
          [{}, { match: 'prefix' }, { match: 'prefix' }, { match: 'wildcard' }, { match: 'wildcard' }]);
        const call = async (uri) => (await h.withTimeout(caller.w.call(uri), h.STEP_MS, `call ${uri}`)).argsList;
        assert.deepEqual(await call(`${P}.a.leaf`), ['exact', null]);
        assert.deepEqual(await call(`${P}.a.x`), ['longer prefix', `${P}.a.x`]);
        assert.deepEqual(await call(`${P}.b.leaf`), ['prefix', `${P}.b.leaf`]);
        assert.deepEqual(await call(`${P}.z`), ['prefix', `${P}.z`]);
        assert.deepEqual(await call(`${W}.q.leaf`), ['wildcard W', `${W}.q.leaf`]);
        await wh.expectError(caller.w.call(`${W}.q.r.leaf`), 'wamp.error.no_such_procedure', 'no match');
        wh.assertHealthy(assert, callee, caller);
      } finally {
        await wh.closeAll(callee, caller);
      }
    });

    test('shared registrations: invoke roundrobin and first, one registration id, policy clash refused', T, async () => {
      const callees = [];
      const caller = await wh.open(s.name);
      try {
        for (let i = 0; i < 3; i++) callees.push(await wh.open(s.name));
        const rr = h.uniq('rr');
        const regs = [];
        for (let i = 0; i < 3; i++) regs.push(await callees[i].w.register(rr, () => [i], { invoke: 'roundrobin' }));
        assert.equal(new Set(regs.map((r) => idNum(r.registrationId))).size, 1, 'one registration for the shared URI');
        assert.deepEqual(last(callees[0].frames('sent', MSG.REGISTER))[2], { invoke: 'roundrobin' });
        const order = [];
        for (let i = 0; i < 6; i++) order.push((await caller.w.call(rr)).argsList[0]);
        assert.deepEqual(order, [0, 1, 2, 0, 1, 2]);
        await wh.expectError(caller.w.register(rr, () => ['x'], { invoke: 'first' }), 'wamp.error.procedure_already_exists', 'invoke clash');
        const single = h.uniq('single');
        await caller.w.register(single, () => ['x']);
        await wh.expectError(callees[0].w.register(single, () => ['y'], { invoke: 'roundrobin' }), 'wamp.error.procedure_already_exists', 'shared onto single');

        const first = h.uniq('first');
        await callees[1].w.register(first, () => [1], { invoke: 'first' });
        await callees[2].w.register(first, () => [2], { invoke: 'first' });
        for (let i = 0; i < 3; i++) assert.deepEqual((await caller.w.call(first)).argsList, [1]);
        await callees[1].close();
        assert.deepEqual((await caller.w.call(first)).argsList, [2], 'the next callee after the first left');
        wh.assertHealthy(assert, caller, callees[0], callees[2]);
      } finally {
        await wh.closeAll(caller, ...callees);
      }
    });

    // -- meta API ------------------------------------------------------------------------------------------
    test('meta API: wamp.session.count, list and get with the ids of JSON, MessagePack and CBOR sessions', T, async () => {
      const me = await wh.open(s.name);
      const others = [];
      try {
        for (const n of ['json', 'msgpack', 'cbor']) others.push(await wh.open(n));
        const count = (await me.w.call('wamp.session.count')).argsList[0];
        assert.ok(Number.isInteger(idNum(count)) && idNum(count) >= 4, `wamp.session.count = ${count}`);
        const list = (await me.w.call('wamp.session.list')).argsList[0].map(idNum);
        for (const x of [me, ...others]) assert.ok(list.includes(x.id), `session ${x.id} missing from wamp.session.list`);
        for (const x of others) {
          const got = (await h.withTimeout(me.w.call('wamp.session.get', [x.id]), h.STEP_MS, `wamp.session.get ${x.id}`)).argsList[0];
          const wire = numberOnWire(s.name, x.id);
          if (s.binary && wire) {
            const f = last(me.sent);
            assert.ok(hex(f.raw).includes(wire), `the id went as float64 ${wire}: ${hex(f.raw)}`);
          }
          assert.equal(idNum(got.session), x.id);
          assert.equal(got.authid, x.details.authid);
          assert.equal(got.authrole, 'anonymous');
          assert.equal(got.transport.protocol, x.ser.protocol);
          if (s.name !== 'json') {
            // as a 64-bit integer (a BigInt, as MessagePack wampy sessions get ids)
            const again = (await me.w.call('wamp.session.get', [BigInt(x.id)])).argsList[0];
            assert.equal(idNum(again.session), x.id);
          }
        }
        await wh.expectError(me.w.call('wamp.session.get', [1]), 'wamp.error.no_such_session', 'get an unknown session');
        wh.assertHealthy(assert, me, ...others);
      } finally {
        await wh.closeAll(me, ...others);
      }
    });

    test('meta API: wamp.registration.lookup; wamp.session.on_join and on_leave subscriptions', T, async () => {
      const me = await wh.open(s.name);
      const callee = await wh.open(s.name);
      let newcomer = null;
      try {
        const proc = h.uniq('looked_up');
        const reg = await callee.w.register(proc, () => ['ok']);
        const found = (await me.w.call('wamp.registration.lookup', [proc])).argsList[0];
        assert.equal(idNum(found), idNum(reg.registrationId));
        const none = (await me.w.call('wamp.registration.lookup', [h.uniq('nothing')])).argsList;
        assert.deepEqual(none, [null]);

        const joins = wh.collector();
        const leaves = wh.collector();
        await me.w.subscribe('wamp.session.on_join', joins.handler);
        await me.w.subscribe('wamp.session.on_leave', leaves.handler);
        newcomer = await wh.open(s.name === 'json' ? 'msgpack' : 'json');
        const id = newcomer.id;
        let ev;
        do ev = await joins.next(h.STEP_MS, 'on_join'); while (idNum(ev.argsList[0].session) !== id);
        assert.equal(ev.argsList[0].authid, newcomer.details.authid);
        assert.equal(ev.argsList[0].authrole, 'anonymous');
        await newcomer.close();
        do ev = await leaves.next(h.STEP_MS, 'on_leave'); while (idNum(ev.argsList[0]) !== id);
        assert.deepEqual([idNum(ev.argsList[0]), ev.argsList[1], ev.argsList[2]], [id, newcomer.details.authid, 'anonymous']);
        wh.assertHealthy(assert, me, callee);
      } finally {
        await wh.closeAll(me, callee, newcomer);
      }
    });
  });
}

// -- binary payloads between wampy sessions of different serializers --------------------------------------
// MessagePack and CBOR wampy sessions carry bytes natively (bin, byte string); wampy's JSON serializer is
// plain JSON.stringify, so a JSON wampy session sees the WAMP convention "\u0000" + base64 as a string,
// and sends bytes by writing that string itself. The router converts between them.
const ALL = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const SMALL = Buffer.from([0xff, 0x00, 0xfe]);
const EMPTY = Buffer.alloc(0);
const LARGE = Buffer.from(Array.from({ length: 70000 }, (_, i) => (i * 31 + 7) & 0xff));

// bytes as a wampy session of `serName` sends them (a Buffer: cbor-x writes a plain byte string for it)
function out(serName, bytes) {
  return serName === 'json' ? '\u0000' + bytes.toString('base64') : Buffer.from(bytes);
}

function assertBytes(serName, actual, expected, what) {
  if (serName === 'json') {
    assert.equal(typeof actual, 'string', `${what}: expected the "\\u0000"+base64 string, got ${typeof actual}`);
    assert.equal(actual.charCodeAt(0), 0, `${what}: no leading \\u0000`);
    assert.ok(Buffer.from(actual.slice(1), 'base64').equals(expected), `${what}: bytes differ`);
    return;
  }
  assert.ok(actual instanceof Uint8Array, `${what}: expected bytes, got ${typeof actual} ${JSON.stringify(actual)?.slice(0, 80)}`);
  assert.ok(Buffer.from(actual).equals(expected), `${what}: bytes differ (${actual.length} vs ${expected.length})`);
}

const BINARY = ['json', 'msgpack', 'cbor'];
for (const from of BINARY) {
  for (const to of BINARY) {
    if (from === 'json' && to === 'json') continue; // strings both ways: nothing to convert
    test(`binary (wampy): ${from} caller/publisher and ${to} callee/subscriber keep bytes intact`, T, async () => {
      const a = await wh.open(from);
      const b = await wh.open(to);
      try {
        const proc = h.uniq('bytes');
        const topic = h.uniq('bytes_topic');
        const inbox = [];
        await b.w.register(proc, (inv) => {
          inbox.push(inv);
          return { argsList: [out(to, Buffer.from(ALL).reverse()), 'plain'], argsDict: { large: out(to, LARGE) } };
        });
        const c = wh.collector();
        await b.w.subscribe(topic, c.handler);
        const args = [out(from, ALL), out(from, EMPTY), 'plain string'];
        const kwargs = { small: out(from, SMALL), nested: { list: [out(from, LARGE), 7] } };
        const res = await h.withTimeout(a.w.call(proc, { argsList: args, argsDict: kwargs }), 10000, 'call with bytes');
        const check = (where, x, xkw) => {
          assertBytes(to, x[0], ALL, `${where} args[0]`);
          assertBytes(to, x[1], EMPTY, `${where} args[1] (empty)`);
          assert.equal(x[2], 'plain string', `${where} args[2] must stay a string`);
          assertBytes(to, xkw.small, SMALL, `${where} kwargs.small`);
          assertBytes(to, xkw.nested.list[0], LARGE, `${where} kwargs.nested.list[0] (70000 bytes)`);
          assert.equal(xkw.nested.list[1], 7);
        };
        check(`INVOCATION at the ${to} callee`, inbox[0].argsList, inbox[0].argsDict);
        assertBytes(from, res.argsList[0], Buffer.from(ALL).reverse(), `RESULT at the ${from} caller args[0]`);
        assert.equal(res.argsList[1], 'plain');
        assertBytes(from, res.argsDict.large, LARGE, `RESULT at the ${from} caller kwargs.large`);

        await h.withTimeout(a.w.publish(topic, { argsList: args, argsDict: kwargs }), h.STEP_MS, 'publish bytes');
        const ev = await c.next(10000, `EVENT at the ${to} subscriber`);
        check(`EVENT at the ${to} subscriber`, ev.argsList, ev.argsDict);
        wh.assertHealthy(assert, a, b);
      } finally {
        await wh.closeAll(a, b);
      }
    });
  }
}

test('binary (wampy): a Uint8Array over MessagePack (bin) and over CBOR (cbor-x: tag 64 around a byte string)', T, async () => {
  const topic = h.uniq('typed_array');
  const subs = [];
  const pubs = [];
  try {
    for (const n of ['json', 'msgpack', 'cbor']) subs.push(await subscriber(n, topic));
    for (const n of ['msgpack', 'cbor']) pubs.push(await wh.open(n));
    const bytes = Buffer.from([0x00, 0x01, 0xfe, 0xff]);
    for (const pub of pubs) {
      const u8 = new Uint8Array(bytes); // not a Buffer: what browser code has
      try {
        await h.withTimeout(pub.w.publish(topic, { argsList: [u8] }), h.STEP_MS, `publish a Uint8Array over ${pub.ser.name}`);
      } catch (e) {
        const abort = pub.frames('received', wh.MSG.ABORT);
        assert.fail(`PUBLISH of a Uint8Array over ${pub.ser.name} (${hex(last(pub.sent).raw)}) failed: ` +
          `${abort.length ? `router sent ABORT ${JSON.stringify(abort[0])}` : wh.describeErr(e)}`);
      }
      if (pub.ser.name === 'cbor') assert.ok(hex(last(pub.sent).raw).includes('d84044' + bytes.toString('hex')), 'cbor-x wrote tag 64');
      else assert.ok(hex(last(pub.sent).raw).includes('c404' + bytes.toString('hex')), 'msgpackr wrote bin 8');
      for (const sub of subs) {
        const ev = await sub.c.next(h.STEP_MS, `EVENT from the ${pub.ser.name} publisher at the ${sub.x.ser.name} subscriber`);
        assertBytes(sub.x.ser.name, ev.argsList[0], bytes, `${pub.ser.name} -> ${sub.x.ser.name}`);
      }
    }
    wh.assertHealthy(assert, ...pubs, ...subs.map((x) => x.x));
  } finally {
    await wh.closeAll(...pubs, ...subs.map((x) => x.x));
  }
});
