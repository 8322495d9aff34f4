'use strict';
// Broker, Advanced Profile (issue 5) with Autobahn|JS: subscriber black/white listing, publisher
// exclusion and identification, pattern-based subscriptions, event retention. Autobahn|JS sends
// PUBLISH/SUBSCRIBE options as given, so malformed options can be tested here too.
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const T = { timeout: 30000 };
const QUIET_MS = 400; // how long we wait to be sure an event does NOT arrive
const ACK = { acknowledge: true };

async function subscriber(ser, topic, options) {
  const conn = await h.connect(ser);
  const c = h.collector();
  const sub = await h.withTimeout(conn.session.subscribe(topic, c.handler, options), h.STEP_MS, `subscribe ${topic}`);
  return { conn, c, sub };
}

// Publishes `options` from `pub` to `topic` (acknowledged) and checks which of `subs` got it.
async function expectReceivers(pub, topic, options, subs, expected, what) {
  const before = subs.map((s) => s.c.events.length);
  await h.withTimeout(pub.session.publish(topic, [what], {}, { ...ACK, ...options }), h.STEP_MS, `publish ${what}`);
  for (const i of expected) assert.deepEqual((await subs[i].c.next(h.STEP_MS, `${what}: EVENT at subscriber ${i}`)).args, [what]);
  await h.sleep(QUIET_MS);
  const got = subs.map((s, i) => (s.c.events.length > before[i] ? i : -1)).filter((i) => i >= 0);
  assert.deepEqual(got, expected, `${what}: receivers`);
  for (let i = 0; i < subs.length; i++) assert.ok(subs[i].c.events.length - before[i] <= 1, `${what}: subscriber ${i} got duplicates`);
}

for (const s of h.SERIALIZERS) {
  describe(`advanced pubsub over ${s.protocol}`, () => {
    test('WELCOME announces the broker features', T, async () => {
      const a = await h.connect(s.name);
      try {
        const f = a.details.roles.broker.features || {};
        for (const k of ['publisher_exclusion', 'publisher_identification', 'subscriber_blackwhite_listing',
          'pattern_based_subscription', 'event_retention', 'subscription_revocation']) {
          assert.equal(f[k], true, `broker feature ${k}`);
        }
      } finally {
        await h.closeAll(a);
      }
    });

    // --- 1. subscriber black/white listing
    test('black/white listing: exclude, eligible, authid, authrole, combined with AND', T, async () => {
      const topic = h.uniq('bw');
      const subs = [];
      const pub = await h.connect(s.name);
      try {
        for (let i = 0; i < 3; i++) subs.push(await subscriber(s.name, topic));
        const ids = subs.map((x) => x.conn.session.id);
        const authids = subs.map((x) => x.conn.details.authid);
        assert.equal(new Set(authids).size, 3, `distinct authids ${authids}`);
        await expectReceivers(pub, topic, {}, subs, [0, 1, 2], 'no filter');
        await expectReceivers(pub, topic, { exclude: [ids[1]] }, subs, [0, 2], 'exclude');
        await expectReceivers(pub, topic, { eligible: [ids[0], ids[2]] }, subs, [0, 2], 'eligible');
        await expectReceivers(pub, topic, { exclude_authid: [authids[2]] }, subs, [0, 1], 'exclude_authid');
        await expectReceivers(pub, topic, { eligible_authid: [authids[1]] }, subs, [1], 'eligible_authid');
        await expectReceivers(pub, topic, { exclude_authrole: ['anonymous'] }, subs, [], 'exclude_authrole');
        await expectReceivers(pub, topic, { eligible_authrole: ['nobody'] }, subs, [], 'eligible_authrole');
        await expectReceivers(pub, topic, { eligible: ids.slice(0, 2), exclude_authid: [authids[0]], eligible_authrole: ['anonymous'] },
          subs, [1], 'combined');
        h.assertNoInternalErrors(assert, pub, ...subs.map((x) => x.conn));
      } finally {
        await h.closeAll(pub, ...subs.map((x) => x.conn));
      }
    });

    test('malformed black/white lists: ERROR wamp.error.invalid_argument, nothing delivered', T, async () => {
      const topic = h.uniq('badlist');
      const pub = await h.connect(s.name);
      const sub = await subscriber(s.name, topic);
      try {
        for (const [k, v] of [['exclude', 'x'], ['eligible', ['1']], ['exclude_authid', [1]], ['eligible_authrole', 'anonymous']]) {
          await h.expectWampError(pub.session.publish(topic, ['bad'], {}, { ...ACK, [k]: v }), 'wamp.error.invalid_argument',
            `PUBLISH with ${k}=${JSON.stringify(v)}`);
          pub.session.publish(topic, ['bad'], {}, { [k]: v }); // unacknowledged: dropped silently
        }
        await h.withTimeout(pub.session.publish(topic, ['good'], {}, ACK), h.STEP_MS, 'good publish');
        assert.deepEqual((await sub.c.next(h.STEP_MS, 'good event')).args, ['good']);
        await h.sleep(QUIET_MS);
        assert.equal(sub.c.events.length, 1, 'a malformed publication was delivered');
        assert.equal(pub.session.isOpen, true);
        h.assertNoInternalErrors(assert, pub, sub.conn);
      } finally {
        await h.closeAll(pub, sub.conn);
      }
    });

    // --- 2. publisher exclusion and identification
    test('exclude_me=false with a black list still excludes the publisher', T, async () => {
      const topic = h.uniq('exme');
      const a = await subscriber(s.name, topic);
      const b = await subscriber(s.name, topic);
      try {
        await h.withTimeout(a.conn.session.publish(topic, ['1'], {}, { ...ACK, exclude_me: false }), h.STEP_MS, 'publish 1');
        assert.deepEqual((await a.c.next(h.STEP_MS, 'own event')).args, ['1']);
        assert.deepEqual((await b.c.next(h.STEP_MS, 'b event')).args, ['1']);
        await h.withTimeout(a.conn.session.publish(topic, ['2'], {}, { ...ACK, exclude_me: false, exclude: [a.conn.session.id] }),
          h.STEP_MS, 'publish 2');
        assert.deepEqual((await b.c.next(h.STEP_MS, 'b event 2')).args, ['2']);
        await h.sleep(QUIET_MS);
        assert.equal(a.c.events.length, 1, 'publisher got an event it excluded itself from');
        h.assertNoInternalErrors(assert, a.conn, b.conn);
      } finally {
        await h.closeAll(a.conn, b.conn);
      }
    });

    test('disclose_me: EVENT.Details.publisher, publisher_authid, publisher_authrole', T, async () => {
      const topic = h.uniq('disclose');
      const pub = await h.connect(s.name);
      const sub = await subscriber(s.name, topic);
      try {
        pub.session.publish(topic, ['hidden']);
        const hidden = await sub.c.next(h.STEP_MS, 'undisclosed event');
        assert.equal(hidden.details.publisher, undefined, 'publisher disclosed without disclose_me');
        await h.withTimeout(pub.session.publish(topic, ['shown'], {}, { ...ACK, disclose_me: true }), h.STEP_MS, 'publish');
        const ev = await sub.c.next(h.STEP_MS, 'disclosed event');
        assert.deepEqual(ev.args, ['shown']);
        assert.equal(ev.details.publisher, pub.session.id);
        assert.equal(ev.details.publisher_authid, pub.details.authid);
        assert.equal(ev.details.publisher_authrole, pub.details.authrole);
        h.assertNoInternalErrors(assert, pub, sub.conn);
      } finally {
        await h.closeAll(pub, sub.conn);
      }
    });

    // --- 3. pattern-based subscriptions
    test('prefix and wildcard subscriptions: own ids, details.topic, one EVENT per matching subscription', T, async () => {
      const base = h.uniq('pattern');
      const pub = await h.connect(s.name);
      const a = await h.connect(s.name);
      try {
        const ce = h.collector();
        const cp = h.collector();
        const cw = h.collector();
        const exact = await h.withTimeout(a.session.subscribe(`${base}.x.y`, ce.handler), h.STEP_MS, 'exact');
        const prefix = await h.withTimeout(a.session.subscribe(base, cp.handler, { match: 'prefix' }), h.STEP_MS, 'prefix');
        const wild = await h.withTimeout(a.session.subscribe(`${base}..y`, cw.handler, { match: 'wildcard' }), h.STEP_MS, 'wildcard');
        assert.equal(new Set([exact.id, prefix.id, wild.id]).size, 3, 'one subscription id per (topic, match)');
        const p = await h.withTimeout(pub.session.publish(`${base}.x.y`, ['all'], {}, ACK), h.STEP_MS, 'publish to all three');
        for (const [c, name] of [[ce, 'exact'], [cp, 'prefix'], [cw, 'wildcard']]) {
          const ev = await c.next(h.STEP_MS, `${name} EVENT`);
          assert.deepEqual(ev.args, ['all']);
          assert.equal(ev.details.publication, p.id, `${name}: publication id`);
          assert.equal(ev.details.topic, `${base}.x.y`, `${name}: details.topic`);
        }
        await h.withTimeout(pub.session.publish(`${base}.z.y`, ['wild'], {}, ACK), h.STEP_MS, 'publish to prefix+wildcard');
        await h.withTimeout(pub.session.publish(`${base}-other`, ['prefix only'], {}, ACK), h.STEP_MS, 'publish to prefix only');
        assert.equal((await cw.next(h.STEP_MS, 'wildcard EVENT 2')).details.topic, `${base}.z.y`);
        assert.equal((await cp.next(h.STEP_MS, 'prefix EVENT 2')).details.topic, `${base}.z.y`);
        assert.equal((await cp.next(h.STEP_MS, 'prefix EVENT 3')).details.topic, `${base}-other`);
        await h.sleep(QUIET_MS);
        assert.equal(ce.events.length, 1, 'exact subscription got events for other topics');
        assert.equal(cw.events.length, 2, 'wildcard subscription got a non-matching topic');
        assert.equal(cp.events.length, 3);
        h.assertNoInternalErrors(assert, pub, a);
      } finally {
        await h.closeAll(pub, a);
      }
    });

    test('unknown match policy: ERROR wamp.error.invalid_argument', T, async () => {
      const a = await h.connect(s.name);
      try {
        await h.expectWampError(a.session.subscribe(h.uniq('m'), () => {}, { match: 'regex' }), 'wamp.error.invalid_argument',
          'SUBSCRIBE match=regex');
        await h.expectWampError(a.session.subscribe(`${h.uniq('m')}..x`, () => {}, { match: 'prefix' }), 'wamp.error.invalid_uri',
          'SUBSCRIBE prefix with an empty component');
        h.assertNoInternalErrors(assert, a);
      } finally {
        await h.closeAll(a);
      }
    });

    // --- 4. event retention
    test('retain + get_retained: the latest retained event, marked retained, after SUBSCRIBED', T, async () => {
      const base = h.uniq('retain');
      const pub = await h.connect(s.name);
      const subs = [];
      try {
        await h.withTimeout(pub.session.publish(`${base}.a`, ['old'], {}, { ...ACK, retain: true }), h.STEP_MS, 'retain old');
        const latest = await h.withTimeout(pub.session.publish(`${base}.a`, ['latest'], { k: 1 }, { ...ACK, retain: true }),
          h.STEP_MS, 'retain latest');
        await h.withTimeout(pub.session.publish(`${base}.b`, ['b'], {}, { ...ACK, retain: true }), h.STEP_MS, 'retain b');
        await h.withTimeout(pub.session.publish(`${base}.a`, ['not retained'], {}, ACK), h.STEP_MS, 'plain publish');

        const exact = await subscriber(s.name, `${base}.a`, { get_retained: true });
        subs.push(exact);
        const ev = await exact.c.next(h.STEP_MS, 'retained EVENT');
        assert.deepEqual([ev.args, ev.kwargs], [['latest'], { k: 1 }]);
        assert.equal(ev.details.retained, true);
        assert.equal(ev.details.publication, latest.id);

        const plain = await subscriber(s.name, `${base}.a`);
        subs.push(plain);

        const prefix = await subscriber(s.name, base, { match: 'prefix', get_retained: true });
        subs.push(prefix);
        const topics = [];
        for (let i = 0; i < 2; i++) {
          const e = await prefix.c.next(h.STEP_MS, `retained EVENT ${i} for the prefix subscription`);
          assert.equal(e.details.retained, true);
          topics.push(e.details.topic);
        }
        assert.deepEqual(topics.sort(), [`${base}.a`, `${base}.b`]);
        await h.sleep(QUIET_MS);
        assert.equal(exact.c.events.length, 1);
        assert.equal(plain.c.events.length, 0, 'a subscriber without get_retained got a retained event');
        assert.equal(prefix.c.events.length, 2);
        h.assertNoInternalErrors(assert, pub, ...subs.map((x) => x.conn));
      } finally {
        await h.closeAll(pub, ...subs.map((x) => x.conn));
      }
    });

    test('a retained event honours its white list', T, async () => {
      const topic = h.uniq('retainwl');
      const pub = await h.connect(s.name);
      const chosen = await h.connect(s.name);
      const other = await h.connect(s.name);
      try {
        await h.withTimeout(pub.session.publish(topic, ['for you'], {}, { ...ACK, retain: true, eligible: [chosen.session.id] }),
          h.STEP_MS, 'retain for one session');
        const co = h.collector();
        await h.withTimeout(other.session.subscribe(topic, co.handler, { get_retained: true }), h.STEP_MS, 'other subscribes');
        const cc = h.collector();
        await h.withTimeout(chosen.session.subscribe(topic, cc.handler, { get_retained: true }), h.STEP_MS, 'chosen subscribes');
        assert.deepEqual((await cc.next(h.STEP_MS, 'retained EVENT for the eligible session')).args, ['for you']);
        await h.sleep(QUIET_MS);
        assert.equal(co.events.length, 0, 'an ineligible session got the retained event');
        h.assertNoInternalErrors(assert, pub, chosen, other);
      } finally {
        await h.closeAll(pub, chosen, other);
      }
    });
  });
}
