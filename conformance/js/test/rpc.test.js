'use strict';
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');
const { autobahn } = h;

const T = { timeout: 30000 };

for (const s of h.SERIALIZERS) {
  describe(`rpc over ${s.protocol}`, () => {
    test('register/call: args and kwargs reach the callee, Result args and kwargs reach the caller', T, async () => {
      const callee = await h.connect(s.name);
      const caller = await h.connect(s.name);
      try {
        const proc = h.uniq('add');
        const seen = [];
        const reg = await h.withTimeout(callee.session.register(proc, (args, kwargs) => {
          seen.push({ args, kwargs });
          return new autobahn.Result([args[0] + args[1], 'sum'], { echo: kwargs, n: 42 });
        }), h.STEP_MS, `register ${proc}`);
        assert.ok(h.isWampId(reg.id), `registration id ${reg.id}`);

        const kw = {
          text: 'ünïcødé ✓ "quoted" \\ back',
          neg: -17,
          big: 9007199254740991,
          float: 1.5,
          flag: false,
          nil: null,
          list: [1, 'two', { three: [3] }],
        };
        const res = await h.withTimeout(caller.session.call(proc, [2, 3], kw), h.STEP_MS, `call ${proc}`);
        assert.ok(res instanceof autobahn.Result, `expected autobahn.Result, got ${JSON.stringify(res)}`);
        assert.deepEqual(res.args, [5, 'sum']);
        assert.deepEqual(res.kwargs, { echo: kw, n: 42 });
        assert.equal(seen.length, 1, 'callee invoked exactly once');
        assert.deepEqual(seen[0].args, [2, 3]);
        assert.deepEqual(seen[0].kwargs, kw);

        // single positional result, and a call without any payload
        const proc2 = h.uniq('hello');
        const seen2 = [];
        await h.withTimeout(callee.session.register(proc2, (args, kwargs) => { seen2.push({ args, kwargs }); return 'hello'; }),
          h.STEP_MS, `register ${proc2}`);
        assert.equal(await h.withTimeout(caller.session.call(proc2), h.STEP_MS, `call ${proc2}`), 'hello');
        assert.deepEqual(seen2, [{ args: [], kwargs: {} }]);
        h.assertNoInternalErrors(assert, callee, caller);
      } finally {
        await h.closeAll(callee, caller);
      }
    });

    test('concurrent calls: each RESULT goes back to the CALL it answers', T, async () => {
      const callee = await h.connect(s.name);
      const caller = await h.connect(s.name);
      try {
        const proc = h.uniq('slow_square');
        const N = 25;
        await h.withTimeout(callee.session.register(proc, (args) =>
          // later calls finish first
          new Promise((r) => setTimeout(() => r(args[0] * args[0]), (N - args[0]) * 8))),
        h.STEP_MS, `register ${proc}`);
        const results = await h.withTimeout(
          Promise.all(Array.from({ length: N }, (_, i) => caller.session.call(proc, [i]))), 10000, `${N} concurrent calls`);
        assert.deepEqual(results, Array.from({ length: N }, (_, i) => i * i));
        h.assertNoInternalErrors(assert, callee, caller);
      } finally {
        await h.closeAll(callee, caller);
      }
    });

    test('callee error: URI, args and kwargs arrive intact at the caller', T, async () => {
      const callee = await h.connect(s.name);
      const caller = await h.connect(s.name);
      try {
        const proc = h.uniq('fails');
        const proc2 = h.uniq('fails_bare');
        await h.withTimeout(callee.session.register(proc, () => {
          throw new autobahn.Error('com.example.error.x', [1, 'two', { three: 3 }], { reason: 'because', code: 7 });
        }), h.STEP_MS, `register ${proc}`);
        await h.withTimeout(callee.session.register(proc2, () => {
          throw new autobahn.Error('com.example.error.bare');
        }), h.STEP_MS, `register ${proc2}`);
        const e = await h.expectWampError(caller.session.call(proc, [1]), 'com.example.error.x', `call ${proc}`);
        assert.deepEqual(e.args, [1, 'two', { three: 3 }]);
        assert.deepEqual(e.kwargs, { reason: 'because', code: 7 });
        const e2 = await h.expectWampError(caller.session.call(proc2), 'com.example.error.bare', `call ${proc2}`);
        assert.deepEqual(e2.args, []);
        assert.deepEqual(e2.kwargs, {});
        // the callee still serves after having failed
        const ok = h.uniq('ok');
        await h.withTimeout(callee.session.register(ok, () => 'fine'), h.STEP_MS, `register ${ok}`);
        assert.equal(await h.withTimeout(caller.session.call(ok), h.STEP_MS, `call ${ok}`), 'fine');
        h.assertNoInternalErrors(assert, callee, caller);
      } finally {
        await h.closeAll(callee, caller);
      }
    });

    test('call to an unregistered procedure: ERROR wamp.error.no_such_procedure', T, async () => {
      const caller = await h.connect(s.name);
      try {
        await h.expectWampError(caller.session.call(h.uniq('nobody_home'), [1], { a: 1 }),
          'wamp.error.no_such_procedure', 'call unregistered procedure');
        // the session is still usable afterwards
        await h.expectWampError(caller.session.call(h.uniq('nobody_home_either')),
          'wamp.error.no_such_procedure', 'second call unregistered procedure');
        h.assertNoInternalErrors(assert, caller);
      } finally {
        await h.closeAll(caller);
      }
    });

    test('second REGISTER of the same URI: ERROR wamp.error.procedure_already_exists', T, async () => {
      const a = await h.connect(s.name);
      const b = await h.connect(s.name);
      const c = await h.connect(s.name);
      try {
        const proc = h.uniq('taken');
        await h.withTimeout(a.session.register(proc, () => 'a'), h.STEP_MS, `register ${proc} by a`);
        await h.expectWampError(b.session.register(proc, () => 'b'), 'wamp.error.procedure_already_exists',
          `register ${proc} by another session`);
        await h.expectWampError(a.session.register(proc, () => 'a2'), 'wamp.error.procedure_already_exists',
          `register ${proc} again by the same session`);
        assert.equal(await h.withTimeout(c.session.call(proc), h.STEP_MS, `call ${proc}`), 'a',
          'the original registration must still be the one invoked');
        h.assertNoInternalErrors(assert, a, b, c);
      } finally {
        await h.closeAll(a, b, c);
      }
    });

    test('unregister: the procedure is gone afterwards', T, async () => {
      const callee = await h.connect(s.name);
      const caller = await h.connect(s.name);
      try {
        const proc = h.uniq('temp');
        const reg = await h.withTimeout(callee.session.register(proc, () => 1), h.STEP_MS, `register ${proc}`);
        assert.equal(await h.withTimeout(caller.session.call(proc), h.STEP_MS, `call ${proc}`), 1);
        await h.withTimeout(callee.session.unregister(reg), h.STEP_MS, `unregister ${proc}`);
        await h.expectWampError(caller.session.call(proc), 'wamp.error.no_such_procedure', `call ${proc} after unregister`);
        h.assertNoInternalErrors(assert, callee, caller);
      } finally {
        await h.closeAll(callee, caller);
      }
    });

    test('caller leaving mid-call: the late YIELD is discarded and the callee keeps serving', T, async () => {
      const callee = await h.connect(s.name);
      const caller = await h.connect(s.name);
      const caller2 = await h.connect(s.name);
      try {
        const proc = h.uniq('slow');
        let invoked;
        const invokedP = new Promise((r) => { invoked = r; });
        let release;
        const gate = new Promise((r) => { release = r; });
        await h.withTimeout(callee.session.register(proc, (args) => {
          if (args[0] === 'first') { invoked(); return gate.then(() => 'late'); }
          return 'second';
        }), h.STEP_MS, `register ${proc}`);
        caller.session.call(proc, ['first']).catch(() => {});
        await h.withTimeout(invokedP, h.STEP_MS, 'INVOCATION reaching the callee');
        await h.leave(caller);
        release(); // callee now YIELDs for a caller that is gone
        await h.sleep(200);
        assert.equal(callee.session.isOpen, true, 'callee session was closed after yielding to a departed caller');
        assert.equal(await h.withTimeout(caller2.session.call(proc, ['again']), h.STEP_MS, 'call after caller left'), 'second');
        h.assertNoInternalErrors(assert, callee, caller2);
      } finally {
        await h.closeAll(callee, caller, caller2);
      }
    });

    test('large payload: a 2 MiB argument and result round-trip', T, async () => {
      const callee = await h.connect(s.name);
      const caller = await h.connect(s.name);
      try {
        const proc = h.uniq('big');
        const big = 'x'.repeat(1 << 20) + 'é'.repeat(1 << 19); // 2 MiB of UTF-8
        await h.withTimeout(callee.session.register(proc, (args) => args[0].length), h.STEP_MS, `register ${proc}`);
        assert.equal(await h.withTimeout(caller.session.call(proc, [big]), 10000, 'call with 2 MiB argument'), big.length);
        const proc2 = h.uniq('big_result');
        await h.withTimeout(callee.session.register(proc2, () => big), h.STEP_MS, `register ${proc2}`);
        const r = await h.withTimeout(caller.session.call(proc2), 10000, 'call with 2 MiB result');
        assert.ok(r === big, `2 MiB result came back altered (length ${r && r.length})`);
        h.assertNoInternalErrors(assert, callee, caller);
      } finally {
        await h.closeAll(callee, caller);
      }
    });

    test('malformed procedure URIs: REGISTER and CALL get ERROR wamp.error.invalid_uri', T, async () => {
      const a = await h.connect(s.name);
      try {
        for (const bad of ['com.example..empty_component', 'com.example.has space', 'com.example.hash#tag', '.leading.dot']) {
          await h.expectWampError(a.session.register(bad, () => 1), 'wamp.error.invalid_uri', `REGISTER ${JSON.stringify(bad)}`);
          await h.expectWampError(a.session.call(bad), 'wamp.error.invalid_uri', `CALL ${JSON.stringify(bad)}`);
        }
        assert.equal(a.session.isOpen, true);
        h.assertNoInternalErrors(assert, a);
      } finally {
        await h.closeAll(a);
      }
    });

    for (const mode of ['GOODBYE', 'dropped TCP connection']) {
      test(`callee leaving mid-call (${mode}): caller gets ERROR wamp.error.canceled, registration is removed`, T, async () => {
        const abrupt = mode !== 'GOODBYE';
        const callee = await h.connect(s.name, { abrupt });
        const caller = await h.connect(s.name);
        const other = await h.connect(s.name);
        try {
          const proc = h.uniq('never_returns');
          let invoked;
          const invokedP = new Promise((r) => { invoked = r; });
          await h.withTimeout(callee.session.register(proc, (args) => {
            invoked(args);
            return new Promise(() => {}); // never resolves
          }), h.STEP_MS, `register ${proc}`);
          const pending = caller.session.call(proc, ['x']);
          let settled = false;
          pending.then(() => { settled = true; }, () => { settled = true; });
          assert.deepEqual(await h.withTimeout(invokedP, h.STEP_MS, 'INVOCATION reaching the callee'), ['x']);
          await h.sleep(100);
          assert.equal(settled, false, 'call settled although the callee never yielded');
          if (abrupt) {
            callee.agent.destroyAll();
          } else {
            await h.leave(callee);
          }
          await h.expectWampError(pending, 'wamp.error.canceled', `pending call after callee ${mode}`);
          await h.expectWampError(caller.session.call(proc), 'wamp.error.no_such_procedure',
            `call ${proc} after its callee left`);
          await h.withTimeout(other.session.register(proc, () => 'new'), h.STEP_MS,
            `re-register ${proc} by another session after the callee left`);
          assert.equal(await h.withTimeout(caller.session.call(proc), h.STEP_MS, 'call the new registration'), 'new');
          h.assertNoInternalErrors(assert, caller, other);
        } finally {
          if (abrupt) callee.agent.destroyAll();
          await h.closeAll(callee, caller, other);
        }
      });
    }
  });
}
