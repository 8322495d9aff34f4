'use strict';
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const T = { timeout: 30000 };
const QUIET_MS = 400; // how long we wait to be sure an event does NOT arrive

for (const s of h.SERIALIZERS) {
  describe(`pubsub over ${s.protocol}`, () => {
    test('subscribers of one topic share the subscription id', T, async () => {
      const a = await h.connect(s.name);
      const b = await h.connect(s.name);
      try {
        const topic = h.uniq('shared');
        const other = h.uniq('other');
        const sa = await h.withTimeout(a.session.subscribe(topic, () => {}), h.STEP_MS, `a subscribes ${topic}`);
        const sb = await h.withTimeout(b.session.subscribe(topic, () => {}), h.STEP_MS, `b subscribes ${topic}`);
        const so = await h.withTimeout(b.session.subscribe(other, () => {}), h.STEP_MS, `b subscribes ${other}`);
        assert.ok(h.isWampId(sa.id), `subscription id ${sa.id}`);
        assert.equal(sb.id, sa.id, 'second subscriber of the same topic got a different subscription id');
        assert.notEqual(so.id, sa.id, 'different topics got the same subscription id');
        h.assertNoInternalErrors(assert, a, b);
      } finally {
        await h.closeAll(a, b);
      }
    });

    test('a session subscribing twice to one topic gets the same subscription id and one EVENT per publish', T, async () => {
      const a = await h.connect(s.name);
      const pub = await h.connect(s.name);
      try {
        const topic = h.uniq('twice');
        const c1 = h.collector();
        const c2 = h.collector();
        const s1 = await h.withTimeout(a.session.subscribe(topic, c1.handler), h.STEP_MS, 'first subscribe');
        const s2 = await h.withTimeout(a.session.subscribe(topic, c2.handler), h.STEP_MS, 'second subscribe');
        assert.equal(s2.id, s1.id, 'second SUBSCRIBE of the same topic by the same session got a new subscription id');
        await h.withTimeout(pub.session.publish(topic, ['once'], {}, { acknowledge: true }), h.STEP_MS, 'publish');
        await c1.next(h.STEP_MS, 'EVENT for handler 1');
        await c2.next(h.STEP_MS, 'EVENT for handler 2');
        await h.sleep(QUIET_MS);
        // autobahn dispatches one EVENT to every local handler of the subscription id
        assert.equal(c1.events.length, 1, `handler 1 saw ${c1.events.length} events for one publish`);
        assert.equal(c2.events.length, 1, `handler 2 saw ${c2.events.length} events for one publish`);
        h.assertNoInternalErrors(assert, a, pub);
      } finally {
        await h.closeAll(a, pub);
      }
    });

    test('malformed topic URIs: SUBSCRIBE and acknowledged PUBLISH get ERROR wamp.error.invalid_uri', T, async () => {
      const a = await h.connect(s.name);
      try {
        for (const bad of ['com.example..empty_component', 'com.example.has space', 'com.example.hash#tag']) {
          await h.expectWampError(a.session.subscribe(bad, () => {}), 'wamp.error.invalid_uri', `SUBSCRIBE ${JSON.stringify(bad)}`);
          await h.expectWampError(a.session.publish(bad, [], {}, { acknowledge: true }), 'wamp.error.invalid_uri',
            `PUBLISH ${JSON.stringify(bad)} with acknowledge`);
        }
        assert.equal(a.session.isOpen, true);
        h.assertNoInternalErrors(assert, a);
      } finally {
        await h.closeAll(a);
      }
    });

    test('publish without acknowledge: every subscriber gets the EVENT with args and kwargs', T, async () => {
      const pub = await h.connect(s.name);
      const s1 = await h.connect(s.name);
      const s2 = await h.connect(s.name);
      try {
        const topic = h.uniq('noack');
        const c1 = h.collector();
        const c2 = h.collector();
        const sub1 = await h.withTimeout(s1.session.subscribe(topic, c1.handler), h.STEP_MS, 'subscribe 1');
        await h.withTimeout(s2.session.subscribe(topic, c2.handler), h.STEP_MS, 'subscribe 2');
        const kw = { text: 'héllo ✓', n: -3, f: 0.25, l: [1, [2], { x: null }] };
        const r = pub.session.publish(topic, ['a', 1], kw);
        assert.equal(r, undefined, 'unacknowledged publish must not create a pending request');
        for (const [c, name] of [[c1, 'subscriber 1'], [c2, 'subscriber 2']]) {
          const ev = await c.next(h.STEP_MS, `EVENT at ${name}`);
          assert.deepEqual(ev.args, ['a', 1]);
          assert.deepEqual(ev.kwargs, kw);
          assert.ok(h.isWampId(ev.details.publication), `publication id ${ev.details.publication}`);
        }
        assert.equal(c1.events[0].details.publication, c2.events[0].details.publication,
          'the two subscribers saw different publication ids for one publish');
        // payload-less publish
        pub.session.publish(topic);
        const bare = await c1.next(h.STEP_MS, 'payload-less EVENT');
        assert.deepEqual(bare.args, []);
        assert.deepEqual(bare.kwargs, {});
        assert.ok(sub1.active);
        h.assertNoInternalErrors(assert, pub, s1, s2);
      } finally {
        await h.closeAll(pub, s1, s2);
      }
    });

    test('publish with acknowledge: PUBLISHED carries the publication id the subscriber sees', T, async () => {
      const pub = await h.connect(s.name);
      const sub = await h.connect(s.name);
      try {
        const topic = h.uniq('ack');
        const c = h.collector();
        await h.withTimeout(sub.session.subscribe(topic, c.handler), h.STEP_MS, 'subscribe');
        const p1 = await h.withTimeout(pub.session.publish(topic, [1], { k: 'v' }, { acknowledge: true }), h.STEP_MS, 'acknowledged publish 1');
        const p2 = await h.withTimeout(pub.session.publish(topic, [2], {}, { acknowledge: true }), h.STEP_MS, 'acknowledged publish 2');
        assert.ok(p1 && h.isWampId(p1.id), `publication id ${p1 && p1.id}`);
        assert.ok(p2 && h.isWampId(p2.id), `publication id ${p2 && p2.id}`);
        assert.notEqual(p1.id, p2.id, 'two publications got the same id');
        const e1 = await c.next(h.STEP_MS, 'EVENT 1');
        const e2 = await c.next(h.STEP_MS, 'EVENT 2');
        assert.deepEqual([e1.args, e1.kwargs], [[1], { k: 'v' }]);
        assert.deepEqual(e2.args, [2]);
        assert.equal(e1.details.publication, p1.id, 'EVENT publication id differs from PUBLISHED');
        assert.equal(e2.details.publication, p2.id, 'EVENT publication id differs from PUBLISHED');
        // acknowledged publish to a topic nobody subscribes to still gets PUBLISHED
        const p3 = await h.withTimeout(pub.session.publish(h.uniq('nobody'), [], {}, { acknowledge: true }), h.STEP_MS,
          'acknowledged publish to a topic without subscribers');
        assert.ok(h.isWampId(p3.id));
        h.assertNoInternalErrors(assert, pub, sub);
      } finally {
        await h.closeAll(pub, sub);
      }
    });

    test('exclude-me by default: a subscribed publisher does not get its own event', T, async () => {
      const a = await h.connect(s.name);
      const b = await h.connect(s.name);
      try {
        const topic = h.uniq('excl');
        const ca = h.collector();
        const cb = h.collector();
        await h.withTimeout(a.session.subscribe(topic, ca.handler), h.STEP_MS, 'a subscribes');
        await h.withTimeout(b.session.subscribe(topic, cb.handler), h.STEP_MS, 'b subscribes');
        await h.withTimeout(a.session.publish(topic, ['from-a'], {}, { acknowledge: true }), h.STEP_MS, 'a publishes (ack)');
        a.session.publish(topic, ['from-a-noack']);
        assert.deepEqual((await cb.next(h.STEP_MS, 'b gets a\'s event')).args, ['from-a']);
        assert.deepEqual((await cb.next(h.STEP_MS, 'b gets a\'s 2nd event')).args, ['from-a-noack']);
        // the publisher's own subscription works for others' events
        b.session.publish(topic, ['from-b']);
        assert.deepEqual((await ca.next(h.STEP_MS, 'a gets b\'s event')).args, ['from-b']);
        await h.sleep(QUIET_MS);
        assert.deepEqual(ca.events.map((e) => e.args), [['from-b']], 'publisher a received its own event(s)');
        assert.deepEqual(cb.events.map((e) => e.args), [['from-a'], ['from-a-noack']], 'publisher b received its own event');
        h.assertNoInternalErrors(assert, a, b);
      } finally {
        await h.closeAll(a, b);
      }
    });

    test('exclude_me=false delivers to the publisher too (if the broker announces publisher_exclusion)', T, async (t) => {
      const a = await h.connect(s.name);
      try {
        const f = a.details.roles.broker && a.details.roles.broker.features;
        if (!(f && f.publisher_exclusion === true)) {
          t.skip('broker does not announce publisher_exclusion');
          return;
        }
        const topic = h.uniq('self');
        const ca = h.collector();
        await h.withTimeout(a.session.subscribe(topic, ca.handler), h.STEP_MS, 'subscribe');
        await h.withTimeout(a.session.publish(topic, ['me'], {}, { acknowledge: true, exclude_me: false }), h.STEP_MS, 'publish exclude_me=false');
        assert.deepEqual((await ca.next(h.STEP_MS, 'own event with exclude_me=false')).args, ['me']);
        h.assertNoInternalErrors(assert, a);
      } finally {
        await h.closeAll(a);
      }
    });

    test('events from one publisher arrive in publish order', T, async () => {
      const pub = await h.connect(s.name);
      const sub = await h.connect(s.name);
      try {
        const t1 = h.uniq('order1');
        const t2 = h.uniq('order2');
        const got = [];
        await h.withTimeout(sub.session.subscribe(t1, (args) => got.push(args[0])), h.STEP_MS, 'subscribe t1');
        await h.withTimeout(sub.session.subscribe(t2, (args) => got.push(args[0])), h.STEP_MS, 'subscribe t2');
        const N = 100;
        for (let i = 0; i < N - 1; i++) pub.session.publish(i % 2 ? t2 : t1, [i]);
        await h.withTimeout(pub.session.publish(t1, [N - 1], {}, { acknowledge: true }), h.STEP_MS, 'last publish');
        const deadline = Date.now() + h.STEP_MS;
        while (got.length < N && Date.now() < deadline) await h.sleep(20);
        assert.deepEqual(got, Array.from({ length: N }, (_, i) => i));
        h.assertNoInternalErrors(assert, pub, sub);
      } finally {
        await h.closeAll(pub, sub);
      }
    });

    test('unsubscribe stops delivery to that session only', T, async () => {
      const pub = await h.connect(s.name);
      const a = await h.connect(s.name);
      const b = await h.connect(s.name);
      try {
        const topic = h.uniq('unsub');
        const ca = h.collector();
        const cb = h.collector();
        const sa = await h.withTimeout(a.session.subscribe(topic, ca.handler), h.STEP_MS, 'a subscribes');
        await h.withTimeout(b.session.subscribe(topic, cb.handler), h.STEP_MS, 'b subscribes');
        await h.withTimeout(a.session.unsubscribe(sa), h.STEP_MS, 'a unsubscribes');
        await h.withTimeout(pub.session.publish(topic, ['after'], {}, { acknowledge: true }), h.STEP_MS, 'publish');
        assert.deepEqual((await cb.next(h.STEP_MS, 'b still gets events')).args, ['after']);
        await h.sleep(QUIET_MS);
        assert.equal(ca.events.length, 0, 'unsubscribed session still received an EVENT');
        h.assertNoInternalErrors(assert, pub, a, b);
      } finally {
        await h.closeAll(pub, a, b);
      }
    });

    test('a subscriber that left gets nothing and does not break delivery to the others', T, async () => {
      const pub = await h.connect(s.name);
      const a = await h.connect(s.name);
      const b = await h.connect(s.name);
      try {
        const topic = h.uniq('gone');
        const cb = h.collector();
        await h.withTimeout(a.session.subscribe(topic, () => {}), h.STEP_MS, 'a subscribes');
        await h.withTimeout(b.session.subscribe(topic, cb.handler), h.STEP_MS, 'b subscribes');
        await h.leave(a);
        await h.withTimeout(pub.session.publish(topic, ['x'], {}, { acknowledge: true }), h.STEP_MS, 'publish after a left');
        assert.deepEqual((await cb.next(h.STEP_MS, 'b gets the event')).args, ['x']);
        h.assertNoInternalErrors(assert, pub, b);
      } finally {
        await h.closeAll(pub, a, b);
      }
    });
  });
}
