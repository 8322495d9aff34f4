'use strict';
// Dealer, Advanced Profile RPC with Autobahn|JS 22.11.1: progressive call results, call timeout, call
// canceling, caller identification, pattern-based and shared registrations, a shared callee leaving
// mid-call. (Progressive call invocations and INTERRUPT handling are not in Autobahn|JS: the Python suite
// covers them with a raw client.)
//
// Autobahn|JS announces call_canceling and progressive_call_results as caller, but not call_canceling as
// callee: the router must never send it an INTERRUPT (Autobahn|JS would treat it as a protocol violation
// and close), and a cancel or timeout toward it behaves as "skip".
//
// Two client quirks shape these tests:
//  - progressive results reach the caller through the deferred's notify(); the ES6 deferred that
//    helpers.connect selects (use_es6_promises) has none, and a progressive RESULT then throws
//    "d.notify is not a function" out of the WebSocket message handler. withProgress() gives the caller
//    Autobahn's default when.js deferred, whose promise takes a progress handler: then(ok, err, progress).
//  - cancel() without mode "kill" rejects the call locally and forgets it; the router's ERROR
//    wamp.error.canceled, which the spec requires, then arrives for a "non-pending request" and Autobahn|JS
//    closes its own connection (protocol violation). So those tests look at what the router sent.
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');
const { autobahn } = h;

const T = { timeout: 30000 };
const RESULT = 50;
const ERROR = 8;
const CALL = 48;
const INTERRUPT = 69;

// Every WAMP message the session receives from now on, in order (raw arrays).
function record(handle) {
  const seen = [];
  const transport = handle.session._socket;
  const orig = transport.onmessage;
  transport.onmessage = (msg) => {
    seen.push(msg);
    return orig(msg);
  };
  return seen;
}

// The caller's calls return when.js promises: then(onResult, onError, onProgress).
function withProgress(handle) {
  handle.session._defer = autobahn.when.defer;
  return handle;
}

// A promise and its resolve function.
function gate() {
  let open;
  const p = new Promise((r) => { open = r; });
  return { p, open };
}

// Registers an endpoint answering [tag, details.procedure] and logging the same.
function tagged(log, tag) {
  return (args, kwargs, details) => {
    log.push([tag, details.procedure]);
    return [tag, details.procedure];
  };
}

async function reg(handle, proc, fn, options) {
  return h.withTimeout(handle.session.register(proc, fn, options), h.STEP_MS, `register ${proc} ${JSON.stringify(options)}`);
}

// Registers `proc` on `callee`: a call with argument 'slow' opens `invoked` and answers `late`
// only once `release` is opened; any other call answers 'quick' at once.
async function slowCallee(callee, proc, late) {
  const invoked = gate();
  const release = gate();
  await reg(callee, proc, (args) => {
    if (args[0] !== 'slow') return 'quick';
    invoked.open();
    return release.p.then(() => late);
  });
  return { invoked, release };
}

async function call(handle, proc, args, kwargs, options) {
  return h.withTimeout(handle.session.call(proc, args, kwargs, options), h.STEP_MS, `call ${proc}`);
}

// Runs `body(callee, caller)` with two fresh sessions, checks neither saw an internal error, and
// closes both whatever happens.
async function withCalleeAndCaller(s, body) {
  const callee = await h.connect(s.name);
  const caller = await h.connect(s.name);
  try {
    await body(callee, caller);
    h.assertNoInternalErrors(assert, callee, caller);
  } finally {
    await h.closeAll(callee, caller);
  }
}

async function servedBy(handle, proc, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push((await call(handle, proc))[0]);
  return out;
}

for (const s of h.SERIALIZERS) {
  describe(`rpc advanced over ${s.protocol}`, () => {
    // -- progressive call results ----------------------------------------------------------------------

    test('progressive results: all before the single final result, in order; none unless asked', T, async () => {
      const callee = await h.connect(s.name);
      const caller = withProgress(await h.connect(s.name));
      try {
        const proc = h.uniq('longop');
        const offered = [];
        await reg(callee, proc, (args, kwargs, details) => {
          offered.push(typeof details.progress === 'function');
          if (details.progress) {
            for (let i = 0; i < args[0]; i++) details.progress([i], { step: `s${i}` });
          }
          return new autobahn.Result(['done'], { n: args[0] });
        });
        const seen = record(caller);
        const progress = [];
        let atFinal = -1;
        const res = await h.withTimeout(
          caller.session.call(proc, [3], {}, { receive_progress: true }).then(
            (r) => { atFinal = progress.length; return r; }, null, (p) => progress.push(p)),
          h.STEP_MS, 'progressive call');
        assert.deepEqual(res.args, ['done']);
        assert.deepEqual(res.kwargs, { n: 3 });
        assert.deepEqual(progress.map((p) => [p.args, p.kwargs]),
          [[[0], { step: 's0' }], [[1], { step: 's1' }], [[2], { step: 's2' }]]);
        assert.equal(atFinal, 3, 'every progressive result arrives before the final one');
        await h.sleep(200);
        const results = seen.filter((m) => m[0] === RESULT);
        assert.deepEqual(results.map((m) => m[2].progress === true), [true, true, true, false],
          `three progressive RESULTs, then exactly one final: ${JSON.stringify(results)}`);

        // a caller that does not ask: the callee is not offered progress, one final RESULT
        const seen2 = record(caller);
        const res2 = await call(caller, proc, [2]);
        assert.deepEqual(res2.args, ['done']);
        await h.sleep(100);
        assert.deepEqual(offered, [true, false], 'INVOCATION.Details.receive_progress only when the caller asked');
        assert.deepEqual(seen2.map((m) => [m[0], m[2].progress === true]), [[RESULT, false]]);
        h.assertNoInternalErrors(assert, callee, caller);
      } finally {
        await h.closeAll(callee, caller);
      }
    });

    // -- call timeout ----------------------------------------------------------------------------------

    test('timeout: slow callee -> wamp.error.timeout, no INTERRUPT to a callee without call_canceling, late YIELD dropped', T, async () => {
      await withCalleeAndCaller(s, async (callee, caller) => {
        const proc = h.uniq('slow');
        const { invoked, release } = await slowCallee(callee, proc, 'too late');
        const calleeSeen = record(callee);
        const callerSeen = record(caller);
        const t0 = Date.now();
        await h.expectWampError(caller.session.call(proc, ['slow'], {}, { timeout: 300 }), 'wamp.error.timeout', 'call with timeout 300');
        const elapsed = Date.now() - t0;
        assert.ok(elapsed >= 280, `timeout fired after ${elapsed} ms, before 300 ms`);
        await h.withTimeout(invoked.p, h.STEP_MS, 'INVOCATION reaching the callee');
        release.open(); // the callee YIELDs for a call that has ended
        await h.sleep(200);
        assert.deepEqual(calleeSeen.filter((m) => m[0] === INTERRUPT), [], 'INTERRUPT sent to a callee that did not announce call_canceling');
        assert.equal(callee.session.isOpen, true);
        assert.equal(callerSeen.length, 1, `caller got more than the timeout ERROR: ${JSON.stringify(callerSeen)}`);
        assert.equal(await call(caller, proc, ['fast'], {}, { timeout: 300 }), 'quick');
      });
    });

    test('timeout: a fast call with a timeout succeeds, and nothing follows', T, async () => {
      await withCalleeAndCaller(s, async (callee, caller) => {
        const proc = h.uniq('fast');
        await reg(callee, proc, (args) => args[0] * 2);
        const calleeSeen = record(callee);
        const callerSeen = record(caller);
        assert.equal(await call(caller, proc, [21], {}, { timeout: 200 }), 42);
        await h.sleep(350); // past the timeout
        assert.deepEqual(callerSeen.map((m) => m[0]), [RESULT]);
        assert.equal(calleeSeen.length, 1, `callee got more than the INVOCATION: ${JSON.stringify(calleeSeen)}`);
      });
    });

    // -- call canceling --------------------------------------------------------------------------------

    test('cancel mode kill toward a callee without call_canceling: skip, ERROR wamp.error.canceled at once', T, async () => {
      await withCalleeAndCaller(s, async (callee, caller) => {
        const proc = h.uniq('cancel_me');
        const { invoked, release } = await slowCallee(callee, proc, 'late');
        const calleeSeen = record(callee);
        const callerSeen = record(caller);
        const pending = caller.session.call(proc, ['slow']);
        await h.withTimeout(invoked.p, h.STEP_MS, 'INVOCATION reaching the callee');
        pending.cancel({ mode: 'kill' });
        await h.expectWampError(pending, 'wamp.error.canceled', 'canceled call');
        release.open();
        await h.sleep(200);
        assert.deepEqual(calleeSeen.filter((m) => m[0] === INTERRUPT), [], 'INTERRUPT sent to a callee that did not announce call_canceling');
        assert.deepEqual(callerSeen.map((m) => [m[0], m[1], m[4]]), [[ERROR, CALL, 'wamp.error.canceled']],
          'one ERROR, and the late YIELD was not forwarded');
        assert.equal(await call(caller, proc, ['again']), 'quick');
      });
    });

    for (const mode of [undefined, 'skip', 'killnowait']) {
      test(`cancel ${mode ? `mode ${mode}` : 'without mode'}: the router answers ERROR wamp.error.canceled at once`, T, async () => {
        const callee = await h.connect(s.name);
        const caller = await h.connect(s.name);
        const other = await h.connect(s.name);
        try {
          const proc = h.uniq('cancel_me');
          const { invoked, release } = await slowCallee(callee, proc, 'late');
          const calleeSeen = record(callee);
          const callerSeen = record(caller);
          const pending = caller.session.call(proc, ['slow']);
          pending.catch(() => {});
          await h.withTimeout(invoked.p, h.STEP_MS, 'INVOCATION reaching the callee');
          const request = Math.max(...Object.keys(caller.session._call_reqs).map(Number));
          pending.cancel(mode ? { mode } : undefined);
          for (let i = 0; i < 50 && callerSeen.length === 0; i++) await h.sleep(20);
          // (Autobahn|JS has already forgotten the call and may now close its connection: see the top)
          assert.deepEqual(callerSeen.map((m) => [m[0], m[1], m[2], m[4]]), [[ERROR, CALL, request, 'wamp.error.canceled']]);
          release.open();
          await h.sleep(150);
          assert.deepEqual(calleeSeen.filter((m) => m[0] === INTERRUPT), [], 'INTERRUPT sent to a callee without call_canceling');
          assert.equal(callerSeen.length, 1, `late YIELD forwarded: ${JSON.stringify(callerSeen)}`);
          assert.equal(callee.session.isOpen, true);
          assert.equal(await call(other, proc, ['again']), 'quick');
          h.assertNoInternalErrors(assert, callee, other);
        } finally {
          await h.closeAll(callee, caller, other);
        }
      });
    }

    // -- caller identification -------------------------------------------------------------------------

    test('caller identification: disclose_me and REGISTER disclose_caller', T, async () => {
      await withCalleeAndCaller(s, async (callee, caller) => {
        const proc = h.uniq('who');
        const proc2 = h.uniq('who_always');
        const seen = [];
        const who = (args, kwargs, d) => { seen.push([d.caller, d.caller_authid, d.caller_authrole]); return null; };
        await reg(callee, proc, who);
        await reg(callee, proc2, who, { disclose_caller: true });
        await call(caller, proc, [], {}, { disclose_me: true });
        await call(caller, proc);
        await call(caller, proc, [], {}, { disclose_me: false });
        await call(caller, proc2);
        const me = [caller.session.id, caller.details.authid, caller.details.authrole];
        assert.ok(h.isWampId(me[0]));
        assert.equal(typeof me[1], 'string');
        assert.equal(typeof me[2], 'string');
        const none = [undefined, undefined, undefined];
        assert.deepEqual(seen, [me, none, none, me]);
      });
    });

    // -- pattern-based registrations -------------------------------------------------------------------

    test('pattern registrations: exact > longest prefix > wildcard, details.procedure is the called URI', T, async () => {
      await withCalleeAndCaller(s, async (callee, caller) => {
        const b = h.uniq('pat');
        const log = [];
        const exact = await reg(callee, `${b}.x.y.z`, tagged(log, 'exact'));
        await reg(callee, `${b}.x.y.`, tagged(log, 'wild'), { match: 'wildcard' });
        await reg(callee, `${b}.x`, tagged(log, 'short'), { match: 'prefix' });
        await reg(callee, `${b}.x.y`, tagged(log, 'long'), { match: 'prefix' });
        await reg(callee, `${b}..y.z`, tagged(log, 'wild2'), { match: 'wildcard' });
        assert.deepEqual(await call(caller, `${b}.x.y.z`), ['exact', `${b}.x.y.z`]);
        await h.withTimeout(callee.session.unregister(exact), h.STEP_MS, 'unregister the exact one');
        assert.deepEqual(await call(caller, `${b}.x.y.z`), ['long', `${b}.x.y.z`]);
        assert.deepEqual(await call(caller, `${b}.x.yy`), ['long', `${b}.x.yy`], 'prefixes match by characters');
        assert.deepEqual(await call(caller, `${b}.x.q`), ['short', `${b}.x.q`]);
        assert.deepEqual(await call(caller, `${b}.x`), ['short', `${b}.x`]);
        assert.deepEqual(await call(caller, `${b}.q.y.z`), ['wild2', `${b}.q.y.z`]);
        await h.expectWampError(caller.session.call(`${b}.q.y`), 'wamp.error.no_such_procedure', 'too few components');
        await h.expectWampError(caller.session.call(`${b}.q.y.z.w`), 'wamp.error.no_such_procedure', 'too many components');
      });
    });

    test('wildcard registrations: the most selective one wins (the spec examples)', T, async () => {
      const caller = await h.connect(s.name);
      const callees = [];
      try {
        const cases = [
          [['.a1.b2.c33..e5', '.a1.b2..d4.e5'], '.a1.b2.c33.d4.e5'],
          [['.a1.b2..d4.e5..g7', '.a1.b2..d4..f6.g7'], '.a1.b2.c88.d4.e5.f6.g7'],
        ];
        for (const [[winner, loser], called] of cases) {
          for (const order of [[winner, loser], [loser, winner]]) {
            const b = h.uniq('wc');
            const callee = await h.connect(s.name);
            callees.push(callee);
            const log = [];
            for (const p of order) await reg(callee, b + p, tagged(log, p), { match: 'wildcard' });
            assert.deepEqual(await call(caller, b + called), [winner, b + called], `registered in order ${order}`);
          }
        }
        h.assertNoInternalErrors(assert, caller, ...callees);
      } finally {
        await h.closeAll(caller, ...callees);
      }
    });

    // -- shared registrations --------------------------------------------------------------------------

    async function shared(invoke, n) {
      const callees = [];
      const proc = h.uniq(`shared_${invoke}`);
      const regs = [];
      for (let i = 0; i < n; i++) {
        const c = await h.connect(s.name);
        callees.push(c);
        regs.push(await reg(c, proc, tagged([], i), { invoke }));
      }
      assert.equal(new Set(regs.map((r) => r.id)).size, 1, 'callees of a shared registration share its id');
      return { callees, proc, regs };
    }

    test('shared registration roundrobin: in turn; a callee leaving, the others go on', T, async () => {
      const caller = await h.connect(s.name);
      const { callees, proc } = await shared('roundrobin', 3);
      try {
        assert.deepEqual(await servedBy(caller, proc, 7), [0, 1, 2, 0, 1, 2, 0]);
        await h.leave(callees[1]);
        const got = await servedBy(caller, proc, 4);
        assert.deepEqual([...got.slice(0, 2)].sort(), [0, 2], `after callee 1 left: ${got}`);
        assert.deepEqual(got.slice(2), got.slice(0, 2), `after callee 1 left: ${got}`);
        h.assertNoInternalErrors(assert, caller, callees[0], callees[2]);
      } finally {
        await h.closeAll(caller, ...callees);
      }
    });

    for (const [invoke, served, standby] of [['first', 0, 1], ['last', 1, 0]]) {
      test(`shared registration ${invoke}: one callee serves, the hot standby takes over when it leaves`, T, async () => {
        const caller = await h.connect(s.name);
        const { callees, proc } = await shared(invoke, 2);
        try {
          assert.deepEqual(await servedBy(caller, proc, 3), [served, served, served]);
          await h.leave(callees[served]);
          assert.deepEqual(await servedBy(caller, proc, 2), [standby, standby]);
          h.assertNoInternalErrors(assert, caller, callees[standby]);
        } finally {
          await h.closeAll(caller, ...callees);
        }
      });
    }

    test('shared registration: another invoke policy gets ERROR wamp.error.procedure_already_exists', T, async () => {
      const a = await h.connect(s.name);
      const b = await h.connect(s.name);
      try {
        const proc = h.uniq('rr');
        await reg(a, proc, () => 'a', { invoke: 'roundrobin' });
        for (const invoke of ['first', 'last', 'random', 'single', undefined]) {
          await h.expectWampError(b.session.register(proc, () => 'b', invoke ? { invoke } : undefined),
            'wamp.error.procedure_already_exists', `REGISTER invoke ${invoke} on a roundrobin registration`);
        }
        const single = h.uniq('single');
        await reg(a, single, () => 'a');
        await h.expectWampError(b.session.register(single, () => 'b', { invoke: 'roundrobin' }),
          'wamp.error.procedure_already_exists', 'REGISTER roundrobin on a single registration');
        await reg(b, proc, () => 'b', { invoke: 'roundrobin' }); // the same policy is accepted
        h.assertNoInternalErrors(assert, a, b);
      } finally {
        await h.closeAll(a, b);
      }
    });

    test('shared registration: a callee leaving mid-call -> its caller gets wamp.error.canceled, the other callee serves on', T, async () => {
      const a = await h.connect(s.name, { abrupt: true });
      const b = await h.connect(s.name);
      const caller = await h.connect(s.name);
      try {
        const proc = h.uniq('shared_leave');
        const atA = gate();
        const atB = gate();
        const releaseB = gate();
        await reg(a, proc, () => { atA.open(); return new Promise(() => {}); }, { invoke: 'roundrobin' });
        let bCalls = 0;
        await reg(b, proc, () => {
          bCalls++;
          if (bCalls === 1) { atB.open(); return releaseB.p.then(() => 'b first'); }
          return 'b';
        }, { invoke: 'roundrobin' });
        const p1 = caller.session.call(proc);
        await h.withTimeout(atA.p, h.STEP_MS, 'first call reaching a');
        const p2 = caller.session.call(proc);
        await h.withTimeout(atB.p, h.STEP_MS, 'second call reaching b');
        a.agent.destroyAll();
        await h.expectWampError(p1, 'wamp.error.canceled', 'call pending at the callee that left');
        releaseB.open();
        assert.equal(await h.withTimeout(p2, h.STEP_MS, 'call pending at b'), 'b first');
        assert.deepEqual([await call(caller, proc), await call(caller, proc)], ['b', 'b']);
        h.assertNoInternalErrors(assert, b, caller);
      } finally {
        a.agent.destroyAll();
        await h.closeAll(a, b, caller);
      }
    });
  });
}
