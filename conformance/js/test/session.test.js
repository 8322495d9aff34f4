'use strict';
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const T = { timeout: 30000 };

for (const s of h.SERIALIZERS) {
  describe(`session over ${s.protocol}`, () => {
    test('join: WELCOME carries an id in [1, 2^53], anonymous authrole/authmethod, an authid and broker+dealer roles', T, async () => {
      const a = await h.connect(s.name);
      const b = await h.connect(s.name);
      try {
        for (const x of [a, b]) {
          assert.equal(x.details.transport.protocol, s.protocol, 'negotiated WebSocket subprotocol');
          assert.ok(h.isWampId(x.session.id), `session id ${x.session.id} not an integer in [1, 2^53]`);
          assert.equal(x.session.realm, h.REALM);
          assert.equal(x.session.isOpen, true);
          assert.equal(x.details.authrole, 'anonymous', `WELCOME.Details.authrole = ${JSON.stringify(x.details.authrole)}`);
          assert.equal(x.details.authmethod, 'anonymous', `WELCOME.Details.authmethod = ${JSON.stringify(x.details.authmethod)}`);
          assert.equal(typeof x.details.authid, 'string', `WELCOME.Details.authid = ${JSON.stringify(x.details.authid)}`);
          assert.ok(x.details.authid.length > 0, 'WELCOME.Details.authid is empty');
          assert.ok(x.details.roles && typeof x.details.roles === 'object', 'WELCOME.Details.roles missing');
          assert.equal(typeof x.details.roles.broker, 'object', 'WELCOME.Details.roles.broker missing');
          assert.equal(typeof x.details.roles.dealer, 'object', 'WELCOME.Details.roles.dealer missing');
        }
        assert.notEqual(a.session.id, b.session.id, 'two sessions got the same session id');
        assert.notEqual(a.details.authid, b.details.authid, 'two anonymous sessions got the same (non-random) authid');
        h.assertNoInternalErrors(assert, a, b);
      } finally {
        await h.closeAll(a, b);
      }
    });

    test('leave: GOODBYE is answered with GOODBYE wamp.close.goodbye_and_out', T, async () => {
      const a = await h.connect(s.name);
      const info = await h.leave(a);
      assert.equal(info.details.reason, 'wamp.close.goodbye_and_out', `router's GOODBYE reason: ${JSON.stringify(info.details)}`);
      h.assertNoInternalErrors(assert, a);
    });

    test('unknown realm: HELLO is answered with ABORT wamp.error.no_such_realm', T, async () => {
      const realm = h.uniq('no_such_realm');
      let joined = null;
      try {
        joined = await h.connect(s.name, { realm });
      } catch (e) {
        assert.ok(e.closeDetails, `no close details: ${h.describeErr(e)}`);
        assert.equal(e.closeDetails.reason, 'wamp.error.no_such_realm', `close details ${JSON.stringify(e.closeDetails)}`);
        return;
      }
      await h.closeAll(joined);
      assert.fail(`joined non-existent realm ${realm} (session ${joined.session.id}) instead of getting ABORT`);
    });

    test('200 sessions joining at once get distinct ids and all leave cleanly', { timeout: 60000 }, async () => {
      const N = 200;
      const settled = await Promise.allSettled(
        Array.from({ length: N }, () => h.connect(s.name, { timeoutMs: 30000 })));
      const ok = settled.filter((r) => r.status === 'fulfilled').map((r) => r.value);
      const failed = settled.filter((r) => r.status === 'rejected');
      try {
        assert.equal(failed.length, 0, `${failed.length}/${N} joins failed; first: ${failed[0] && h.describeErr(failed[0].reason)}`);
        const ids = ok.map((x) => x.session.id);
        assert.ok(ids.every(h.isWampId), 'a session id is outside [1, 2^53]');
        assert.equal(new Set(ids).size, N, 'session ids are not distinct');
      } finally {
        const infos = await Promise.allSettled(ok.map((x) => h.leave(x, 30000)));
        const bad = infos.filter((r) => r.status === 'rejected' || r.value.details.reason !== 'wamp.close.goodbye_and_out');
        assert.equal(bad.length, 0, `${bad.length}/${ok.length} sessions did not get GOODBYE wamp.close.goodbye_and_out; first: ${bad[0] && (bad[0].status === 'rejected' ? h.describeErr(bad[0].reason) : JSON.stringify(bad[0].value))}`);
      }
      h.assertNoInternalErrors(assert, ...ok);
    });

    test('realms are isolated: registrations, calls and events stay in their realm', T, async () => {
      const a1 = await h.connect(s.name, { realm: h.REALM });
      const a2 = await h.connect(s.name, { realm: h.REALM });
      const b1 = await h.connect(s.name, { realm: h.REALM2 });
      const b2 = await h.connect(s.name, { realm: h.REALM2 });
      try {
        assert.equal(b1.session.realm, h.REALM2);
        const proc = h.uniq('isolated.proc');
        const topic = h.uniq('isolated.topic');
        await h.withTimeout(a1.session.register(proc, () => 'from-' + h.REALM), h.STEP_MS, 'register in realm 1');
        await h.expectWampError(b2.session.call(proc), 'wamp.error.no_such_procedure',
          `call ${proc} in ${h.REALM2} while only registered in ${h.REALM}`);
        await h.withTimeout(b1.session.register(proc, () => 'from-' + h.REALM2), h.STEP_MS,
          `register the same URI in ${h.REALM2} (must not be procedure_already_exists)`);
        assert.equal(await h.withTimeout(a2.session.call(proc), h.STEP_MS, 'call in realm 1'), 'from-' + h.REALM);
        assert.equal(await h.withTimeout(b2.session.call(proc), h.STEP_MS, 'call in realm 2'), 'from-' + h.REALM2);

        const ca = h.collector();
        const cb = h.collector();
        await h.withTimeout(a1.session.subscribe(topic, ca.handler), h.STEP_MS, 'subscribe realm 1');
        await h.withTimeout(b1.session.subscribe(topic, cb.handler), h.STEP_MS, 'subscribe realm 2');
        await h.withTimeout(a2.session.publish(topic, ['r1'], {}, { acknowledge: true }), h.STEP_MS, 'publish realm 1');
        await h.withTimeout(b2.session.publish(topic, ['r2'], {}, { acknowledge: true }), h.STEP_MS, 'publish realm 2');
        assert.deepEqual((await ca.next(h.STEP_MS, 'event in realm 1')).args, ['r1']);
        assert.deepEqual((await cb.next(h.STEP_MS, 'event in realm 2')).args, ['r2']);
        await h.sleep(300);
        assert.equal(ca.events.length, 1, `realm 1 subscriber got ${JSON.stringify(ca.events.map((e) => e.args))}`);
        assert.equal(cb.events.length, 1, `realm 2 subscriber got ${JSON.stringify(cb.events.map((e) => e.args))}`);
        h.assertNoInternalErrors(assert, a1, a2, b1, b2);
      } finally {
        await h.closeAll(a1, a2, b1, b2);
      }
    });
  });
}
