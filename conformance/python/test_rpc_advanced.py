"""Dealer, Advanced Profile RPC (reference §2.1-2.12): progressive call results and invocations, call timeout,
call canceling, caller leaving, caller identification, pattern-based and shared registrations.

Autobahn|Python where it can express the feature; the raw client where it cannot: CANCEL with an explicit
mode, INTERRUPT on the wire, callees that do / do not announce call_canceling, progressive call invocations
(no Autobahn supports them), CALL.Options.disclose_me and REGISTER.Options.disclose_caller (Autobahn|Python
22.7.1's CallOptions / RegisterOptions have neither). Autobahn|Python announces call_canceling and
progressive_call_results as caller and callee; its call future's .cancel() sends CANCEL without a mode (the
router's default: killnowait); an INTERRUPT cancels the endpoint's coroutine.

Every case runs over WebSocket x {json, msgpack}."""

import asyncio
import time

from autobahn.wamp import message
from autobahn.wamp.types import CallOptions, RegisterOptions

from harness import (ABORT, CALL, ERROR, GOODBYE, INVOCATION, REGISTER, REGISTERED, RESULT, T, YIELD, WampCases,
                     each_serializer, uri)

CANCEL, INTERRUPT = 49, 69

# HELLO.Details.roles of the raw clients
CALLER = {'caller': {'features': {'progressive_call_results': True, 'call_canceling': True}}}
CALLEE_CANCELING = {'callee': {'features': {'progressive_call_results': True, 'call_canceling': True}}}
CALLEE_PLAIN = {'callee': {}}
PCI_CALLER = {'caller': {'features': {'progressive_call_invocations': True, 'progressive_call_results': True,
                                      'call_canceling': True}}}
PCI_CALLEE = {'callee': {'features': {'progressive_call_invocations': True, 'progressive_call_results': True,
                                      'call_canceling': True}}}

DETAILS = RegisterOptions(details_arg='details')


def record(session):
    """Every WAMP message (Autobahn message objects) the session receives from now on, in order."""
    seen = []
    orig = session.onMessage

    def on_message(msg):
        seen.append(msg)
        return orig(msg)

    session.onMessage = on_message
    return seen


def of_type(seen, cls):
    return [m for m in seen if isinstance(m, cls)]


def cancellable_callee():
    """An Autobahn procedure that runs until cancelled, and futures that tell when it started and
    when the router's INTERRUPT cancelled it."""
    loop = asyncio.get_running_loop()
    started, cancelled = loop.create_future(), loop.create_future()

    async def slow():
        started.set_result(True)
        try:
            await asyncio.sleep(3 * T)
        except asyncio.CancelledError:
            cancelled.set_result(True)
            raise
        return 'too late'
    return slow, started, cancelled


class Calls:
    """Records which callee served which call: handler(tag) returns an endpoint answering [tag, procedure]."""

    def __init__(self):
        self.log = []

    def handler(self, tag):
        def endpoint(*args, details=None):
            self.log.append((tag, details.procedure))
            return [tag, details.procedure]
        return endpoint


@each_serializer
class RpcAdvancedTests(WampCases):

    # -- helpers ----------------------------------------------------------------------------------------

    async def register_error(self, r, proc, **options):
        rid = r.next_id()
        reply = await r.request([REGISTER, rid, options, proc], REGISTERED)
        self.assertEqual(reply[:3], [ERROR, REGISTER, rid], 'REGISTER {} {}: {!r}'.format(proc, options, reply))
        return reply[4]

    def assertCallError(self, msg, request, error_uri):
        self.assertEqual(msg[:3], [ERROR, CALL, request], msg)
        self.assertIsInstance(msg[3], dict)
        self.assertEqual(msg[4], error_uri, msg)

    async def roundtrip(self, caller, callee, request, proc, arg):
        """One more call served: proves both sessions are alive and in sync."""
        caller.send([CALL, request, {}, proc, [arg]])
        inv = await callee.expect(INVOCATION)
        self.assertEqual(inv[4], [arg])
        callee.send([YIELD, inv[1], {}, [arg]])
        self.assertEqual(await caller.expect(RESULT), [RESULT, request, {}, [arg]])

    async def call(self, session, proc, *args, **kw):
        return await asyncio.wait_for(session.call(proc, *args, **kw), T)

    # -- 1. progressive call results --------------------------------------------------------------------

    async def test_progressive_results_autobahn(self):
        callee = await self.session()
        caller = await self.session()
        proc = uri()
        seen_progress = []

        def longop(n, details=None):
            seen_progress.append(details.progress is not None)
            if details.progress:
                for i in range(n):
                    details.progress(i, step='s{}'.format(i))
            return 'done'

        await asyncio.wait_for(callee.register(longop, proc, options=DETAILS), T)
        got = []
        inbox = record(caller)
        fut = asyncio.ensure_future(caller.call(proc, 3, options=CallOptions(
            on_progress=lambda *a, **kw: got.append((a, kw)))))
        at_final = []
        fut.add_done_callback(lambda f: at_final.append(len(got)))
        self.assertEqual(await asyncio.wait_for(fut, T), 'done')
        self.assertEqual(got, [((0,), {'step': 's0'}), ((1,), {'step': 's1'}), ((2,), {'step': 's2'})])
        self.assertEqual(at_final, [3], 'every progressive result must arrive before the final one')
        await asyncio.sleep(0.2)
        results = of_type(inbox, message.Result)
        self.assertEqual([bool(m.progress) for m in results], [True, True, True, False],
                         'three progressive RESULTs, then exactly one final RESULT')

        # a caller that does not ask for progress: the callee is not offered it, one final result
        inbox = record(caller)
        self.assertEqual(await self.call(caller, proc, 3), 'done')
        await asyncio.sleep(0.1)
        self.assertEqual(seen_progress, [True, False], 'INVOCATION.Details.receive_progress only when asked')
        self.assertEqual([bool(m.progress) for m in of_type(inbox, message.Result)], [False])

    async def test_progressive_results_raw(self):
        callee = await self.raw_as(CALLEE_CANCELING)
        caller = await self.raw_as(CALLER)
        proc = uri()
        await self.raw_register(callee, proc)
        caller.send([CALL, 1, {'receive_progress': True}, proc, ['x']])
        inv = await callee.expect(INVOCATION)
        self.assertIs(inv[3].get('receive_progress'), True, inv)
        self.assertEqual(inv[4:], [['x']])
        callee.send([YIELD, inv[1], {'progress': True}, [1]])
        r = await caller.expect(RESULT)
        self.assertEqual(r[1], 1)
        self.assertIs(r[2].get('progress'), True, r)
        self.assertEqual(r[3:], [[1]])
        callee.send([YIELD, inv[1], {'progress': True}, [2], {'k': 'v'}])
        callee.send([YIELD, inv[1], {'progress': True}])
        r = await caller.expect(RESULT)
        self.assertIs(r[2].get('progress'), True, r)
        self.assertEqual(r[3:], [[2], {'k': 'v'}])
        r = await caller.expect(RESULT)
        self.assertIs(r[2].get('progress'), True, r)
        self.assertIn(r[3:], ([], [[]]), 'progressive RESULT without payload: {!r}'.format(r))
        callee.send([YIELD, inv[1], {}, ['end'], {'total': 3}])
        r = await caller.expect(RESULT)
        self.assertEqual(r[1], 1)
        self.assertFalse(r[2].get('progress', False), 'final RESULT must not be progressive: {!r}'.format(r))
        self.assertEqual(r[3:], [['end'], {'total': 3}])
        # the call is over: a late progressive YIELD and a second final YIELD are dropped quietly
        callee.send([YIELD, inv[1], {'progress': True}, ['late']])
        callee.send([YIELD, inv[1], {}, ['late']])
        await caller.expect_nothing(0.3)
        await callee.expect_nothing(0.05)
        await self.roundtrip(caller, callee, 2, proc, 'after')

    async def test_progressive_results_dropped_when_not_asked(self):
        # the callee sends progressive YIELDs although the caller did not ask: only the final RESULT arrives
        callee = await self.raw_as(CALLEE_CANCELING)
        caller = await self.raw_as(CALLER)
        proc = uri()
        await self.raw_register(callee, proc)
        caller.send([CALL, 1, {}, proc])
        inv = await callee.expect(INVOCATION)
        self.assertNotIn('receive_progress', inv[3])
        callee.send([YIELD, inv[1], {'progress': True}, ['p1']])
        callee.send([YIELD, inv[1], {'progress': True}, ['p2']])
        callee.send([YIELD, inv[1], {}, ['final']])
        self.assertEqual(await caller.expect(RESULT), [RESULT, 1, {}, ['final']])
        await caller.expect_nothing(0.2)

    async def test_receive_progress_not_offered_to_callee_without_feature(self):
        callee = await self.raw_as(CALLEE_PLAIN)
        caller = await self.raw_as(CALLER)
        proc = uri()
        await self.raw_register(callee, proc)
        caller.send([CALL, 1, {'receive_progress': True}, proc])
        inv = await callee.expect(INVOCATION)
        self.assertNotIn('receive_progress', inv[3], 'callee did not announce progressive_call_results')
        callee.send([YIELD, inv[1], {}, ['only']])
        self.assertEqual(await caller.expect(RESULT), [RESULT, 1, {}, ['only']])
        await caller.expect_nothing(0.1)

    # -- 2. progressive call invocations ----------------------------------------------------------------

    async def test_progressive_invocations(self):
        callee = await self.raw_as(PCI_CALLEE)
        other = await self.raw_as(PCI_CALLEE)
        caller = await self.raw_as(PCI_CALLER)
        proc = uri()
        # shared (roundrobin): every chunk still goes to the callee that got the first one
        reg = await self.raw_register(callee, proc, invoke='roundrobin')
        self.assertEqual(await self.raw_register(other, proc, invoke='roundrobin'), reg)
        caller.send([CALL, 1, {'progress': True}, proc, ['a'], {'n': 1}])
        inv = await callee.expect(INVOCATION)
        self.assertEqual(inv[2], reg)
        self.assertIs(inv[3].get('progress'), True, inv)
        self.assertEqual(inv[4:], [['a'], {'n': 1}])
        # options are frozen at the first CALL: disclose_me on a continuation is not propagated
        caller.send([CALL, 1, {'progress': True, 'disclose_me': True}, proc, ['b']])
        inv2 = await callee.expect(INVOCATION)
        self.assertEqual(inv2[1:3], inv[1:3], 'a continuation reuses the INVOCATION request id: {!r}'.format(inv2))
        self.assertIs(inv2[3].get('progress'), True, inv2)
        self.assertNotIn('caller', inv2[3])
        self.assertEqual(inv2[4:], [['b']])
        caller.send([CALL, 1, {}, proc, ['c']])
        inv3 = await callee.expect(INVOCATION)
        self.assertEqual(inv3[1:3], inv[1:3])
        self.assertFalse(inv3[3].get('progress', False), 'the final CALL closes the invocation: {!r}'.format(inv3))
        self.assertEqual(inv3[4:], [['c']])
        await other.expect_nothing(0.05)
        await caller.expect_nothing(0.05)
        callee.send([YIELD, inv[1], {}, ['abc']])
        self.assertEqual(await caller.expect(RESULT), [RESULT, 1, {}, ['abc']])
        # a continuation after the call ended is discarded without a reply
        caller.send([CALL, 1, {'progress': True}, proc, ['late']])
        await caller.expect_nothing(0.2)
        await callee.expect_nothing(0.05)
        await other.expect_nothing(0.05)
        # the next call goes to the other shared callee (round robin went on)
        caller.send([CALL, 2, {}, proc, ['next']])
        inv = await other.expect(INVOCATION)
        self.assertNotIn('progress', inv[3])
        other.send([YIELD, inv[1], {}, ['fine']])
        self.assertEqual(await caller.expect(RESULT), [RESULT, 2, {}, ['fine']])

    async def test_progressive_invocations_with_progressive_results(self):
        # full duplex over one request id: chunks in, progressive results out
        callee = await self.raw_as(PCI_CALLEE)
        caller = await self.raw_as(PCI_CALLER)
        proc = uri()
        await self.raw_register(callee, proc)
        caller.send([CALL, 1, {'progress': True, 'receive_progress': True}, proc, [1]])
        inv = await callee.expect(INVOCATION)
        self.assertIs(inv[3].get('receive_progress'), True)
        callee.send([YIELD, inv[1], {'progress': True}, [10]])
        self.assertEqual((await caller.expect(RESULT))[3], [10])
        caller.send([CALL, 1, {'progress': True}, proc, [2]])
        self.assertEqual((await callee.expect(INVOCATION))[1:5], [inv[1], inv[2], {'progress': True}, [2]])
        callee.send([YIELD, inv[1], {'progress': True}, [20]])
        r = await caller.expect(RESULT)
        self.assertEqual((r[2].get('progress'), r[3]), (True, [20]))
        caller.send([CALL, 1, {'progress': False}, proc, [3]])
        inv3 = await callee.expect(INVOCATION)
        self.assertFalse(inv3[3].get('progress', False))
        callee.send([YIELD, inv[1], {}, [30]])
        r = await caller.expect(RESULT)
        self.assertFalse(r[2].get('progress', False))
        self.assertEqual(r[3], [30])
        await caller.expect_nothing(0.1)

    async def test_progressive_invocation_caller_not_announcing(self):
        callee = await self.raw_as(PCI_CALLEE)
        caller = await self.raw_as(CALLER)
        proc = uri()
        await self.raw_register(callee, proc)
        caller.send([CALL, 1, {'progress': True}, proc, ['a']])
        ab = await caller.expect(ABORT)
        self.assertEqual(ab[2], 'wamp.error.protocol_violation', ab)
        await caller.ws.wait_closed()
        await callee.expect_nothing(0.1)

    async def test_progressive_invocation_callee_not_announcing(self):
        caller = await self.raw_as(PCI_CALLER)
        proc = uri()
        request = 0
        for roles in (CALLEE_CANCELING,  # no progressive_call_invocations
                      {'callee': {'features': {'progressive_call_invocations': True}}}):  # no call_canceling
            callee = await self.raw_as(roles)
            p = '{}.r{}'.format(proc, request)
            await self.raw_register(callee, p)
            request += 1
            caller.send([CALL, request, {'progress': True}, p, ['a']])
            self.assertCallError(await caller.expect(ERROR), request, 'wamp.error.feature_not_supported')
            await callee.expect_nothing(0.1)
            # a plain call to the same callee still works
            request += 1
            await self.roundtrip(caller, callee, request, p, 'plain')

    async def test_rejected_progressive_call_continuations_are_dropped(self):
        # A streaming caller sends its chunks without waiting. When the first CALL is rejected, the rest of the
        # stream continues a call that has ended: dropped quietly (spec: continuations after completion are
        # discarded), never started as new calls. One request, one final answer.
        caller = await self.raw_as(PCI_CALLER)
        callee = await self.raw_as(CALLEE_CANCELING)  # no progressive_call_invocations
        proc = uri()
        await self.raw_register(callee, proc)
        for request, p, error_uri in ((1, proc, 'wamp.error.feature_not_supported'),
                                      (2, uri(), 'wamp.error.no_such_procedure')):
            caller.send([CALL, request, {'progress': True}, p, ['c1']])
            caller.send([CALL, request, {'progress': True}, p, ['c2']])
            caller.send([CALL, request, {}, p, ['c3']])
            self.assertCallError(await caller.expect(ERROR), request, error_uri)
            await caller.expect_nothing(0.2)
            await callee.expect_nothing(0.05)

    async def test_progressive_continuation_of_plain_call_is_violation(self):
        callee = await self.raw_as(PCI_CALLEE)
        caller = await self.raw_as(PCI_CALLER)
        proc = uri()
        await self.raw_register(callee, proc)
        caller.send([CALL, 1, {}, proc, ['a']])
        await callee.expect(INVOCATION)
        caller.send([CALL, 1, {'progress': True}, proc, ['b']])
        ab = await caller.expect(ABORT)
        self.assertEqual(ab[2], 'wamp.error.protocol_violation', ab)

    # -- 3. call timeout --------------------------------------------------------------------------------

    async def test_timeout_interrupts_autobahn_callee(self):
        callee = await self.session()
        caller = await self.session()
        proc = uri()
        slow, started, cancelled = cancellable_callee()

        await asyncio.wait_for(callee.register(slow, proc), T)
        callee_inbox = record(callee)
        t0 = time.monotonic()
        await self.assertAppError(caller.call(proc, options=CallOptions(timeout=300)), 'wamp.error.timeout')
        elapsed = time.monotonic() - t0
        self.assertGreaterEqual(elapsed, 0.28, 'timeout fired early')
        self.assertTrue(started.done())
        await asyncio.wait_for(cancelled, T)  # the INTERRUPT cancelled the endpoint's coroutine
        interrupts = of_type(callee_inbox, message.Interrupt)
        self.assertEqual([(m.mode, m.reason) for m in interrupts], [('killnowait', 'wamp.error.timeout')])
        # the callee still serves
        await asyncio.wait_for(callee.register(lambda: 'ok', proc + '.b'), T)
        self.assertEqual(await self.call(caller, proc + '.b'), 'ok')

    async def test_timeout_raw(self):
        callee = await self.raw_as(CALLEE_CANCELING)
        caller = await self.raw_as(CALLER)
        proc = uri()
        await self.raw_register(callee, proc)
        t0 = time.monotonic()
        caller.send([CALL, 1, {'timeout': 250}, proc, ['x']])
        inv = await callee.expect(INVOCATION)
        self.assertCallError(await caller.expect(ERROR), 1, 'wamp.error.timeout')
        self.assertGreaterEqual(time.monotonic() - t0, 0.23, 'timeout fired early')
        self.assertEqual(await callee.expect(INTERRUPT),
                         [INTERRUPT, inv[1], {'mode': 'killnowait', 'reason': 'wamp.error.timeout'}])
        # the callee's late answer is dropped quietly
        callee.send([YIELD, inv[1], {}, ['late']])
        await caller.expect_nothing(0.2)
        await callee.expect_nothing(0.05)
        await self.roundtrip(caller, callee, 2, proc, 'again')

    async def test_timeout_callee_without_canceling(self):
        # a callee that did not announce call_canceling gets no INTERRUPT; the caller still times out
        callee = await self.raw_as(CALLEE_PLAIN)
        caller = await self.raw_as(CALLER)
        proc = uri()
        await self.raw_register(callee, proc)
        caller.send([CALL, 1, {'timeout': 150}, proc])
        inv = await callee.expect(INVOCATION)
        self.assertCallError(await caller.expect(ERROR), 1, 'wamp.error.timeout')
        await callee.expect_nothing(0.2)
        callee.send([ERROR, INVOCATION, inv[1], {}, 'com.example.late'])
        await caller.expect_nothing(0.2)
        await self.roundtrip(caller, callee, 2, proc, 'again')

    async def test_fast_call_with_timeout(self):
        callee = await self.raw_as(CALLEE_CANCELING)
        caller = await self.session()
        proc = uri()
        await self.raw_register(callee, proc)
        fut = asyncio.ensure_future(caller.call(proc, 20, options=CallOptions(timeout=200)))
        inv = await callee.expect(INVOCATION)
        callee.send([YIELD, inv[1], {}, [inv[4][0] + 1]])
        self.assertEqual(await asyncio.wait_for(fut, T), 21)
        # the timer is gone with the call: no INTERRUPT when it would have fired
        inbox = record(caller)
        await callee.expect_nothing(0.35)
        self.assertEqual(inbox, [])

    async def test_timeout_measured_between_progressive_results(self):
        callee = await self.raw_as(CALLEE_CANCELING)
        caller = await self.raw_as(CALLER)
        proc = uri()
        await self.raw_register(callee, proc)
        caller.send([CALL, 1, {'timeout': 600, 'receive_progress': True}, proc])
        inv = await callee.expect(INVOCATION)
        for i in range(4):  # 4 x 200 ms: longer in total than the timeout, never longer between results
            await asyncio.sleep(0.2)
            callee.send([YIELD, inv[1], {'progress': True}, [i]])
            r = await caller.expect(RESULT)
            self.assertEqual((r[2].get('progress'), r[3]), (True, [i]))
        await asyncio.sleep(0.2)
        callee.send([YIELD, inv[1], {}, ['done']])
        self.assertEqual(await caller.expect(RESULT), [RESULT, 1, {}, ['done']])
        await callee.expect_nothing(0.05)

    # -- 4. call canceling ------------------------------------------------------------------------------

    async def _pending(self, callee_roles=CALLEE_CANCELING):
        callee = await self.raw_as(callee_roles)
        caller = await self.raw_as(CALLER)
        proc = uri()
        await self.raw_register(callee, proc)
        caller.send([CALL, 1, {}, proc, ['x']])
        inv = await callee.expect(INVOCATION)
        return caller, callee, proc, inv

    async def test_cancel_skip(self):
        caller, callee, proc, inv = await self._pending()
        caller.send([CANCEL, 1, {'mode': 'skip'}])
        self.assertCallError(await caller.expect(ERROR), 1, 'wamp.error.canceled')
        await callee.expect_nothing(0.2)  # skip: no INTERRUPT
        callee.send([YIELD, inv[1], {}, ['late']])
        await caller.expect_nothing(0.2)
        await self.roundtrip(caller, callee, 2, proc, 'again')

    async def test_cancel_killnowait(self):
        caller, callee, proc, inv = await self._pending()
        caller.send([CANCEL, 1, {'mode': 'killnowait'}])
        self.assertCallError(await caller.expect(ERROR), 1, 'wamp.error.canceled')
        self.assertEqual(await callee.expect(INTERRUPT),
                         [INTERRUPT, inv[1], {'mode': 'killnowait', 'reason': 'wamp.error.canceled'}])
        callee.send([ERROR, INVOCATION, inv[1], {}, 'wamp.error.canceled'])
        await caller.expect_nothing(0.2)
        await callee.expect_nothing(0.05)
        await self.roundtrip(caller, callee, 2, proc, 'again')

    async def test_cancel_without_mode_is_killnowait(self):
        caller, callee, proc, inv = await self._pending()
        caller.send([CANCEL, 1, {}])
        self.assertCallError(await caller.expect(ERROR), 1, 'wamp.error.canceled')
        intr = await callee.expect(INTERRUPT)
        self.assertEqual(intr[1], inv[1])
        self.assertEqual(intr[2].get('mode'), 'killnowait', intr)
        callee.send([YIELD, inv[1], {}, ['late']])
        await caller.expect_nothing(0.2)
        await self.roundtrip(caller, callee, 2, proc, 'again')

    async def test_cancel_kill_callee_answers_error(self):
        caller, callee, proc, inv = await self._pending()
        caller.send([CANCEL, 1, {'mode': 'kill'}])
        self.assertEqual(await callee.expect(INTERRUPT),
                         [INTERRUPT, inv[1], {'mode': 'kill', 'reason': 'wamp.error.canceled'}])
        caller.send([CANCEL, 1, {'mode': 'kill'}])  # repeated: ignored
        await caller.expect_nothing(0.2)  # kill: the caller waits for the callee's answer
        await callee.expect_nothing(0.05)
        callee.send([ERROR, INVOCATION, inv[1], {}, 'wamp.error.canceled', ['stopped at 40%']])
        err = await caller.expect(ERROR)
        self.assertCallError(err, 1, 'wamp.error.canceled')
        self.assertEqual(err[5:], [['stopped at 40%']])
        await caller.expect_nothing(0.1)
        await self.roundtrip(caller, callee, 2, proc, 'again')

    async def test_cancel_kill_callee_answers_result(self):
        caller, callee, proc, inv = await self._pending()
        caller.send([CANCEL, 1, {'mode': 'kill'}])
        self.assertEqual((await callee.expect(INTERRUPT))[2].get('mode'), 'kill')
        callee.send([YIELD, inv[1], {}, ['finished anyway']])  # the callee's answer decides
        self.assertEqual(await caller.expect(RESULT), [RESULT, 1, {}, ['finished anyway']])
        await caller.expect_nothing(0.2)

    async def test_cancel_callee_without_canceling_is_skip(self):
        for mode in ('kill', 'killnowait'):
            with self.subTest(mode=mode):
                caller, callee, proc, inv = await self._pending(CALLEE_PLAIN)
                caller.send([CANCEL, 1, {'mode': mode}])
                self.assertCallError(await caller.expect(ERROR), 1, 'wamp.error.canceled')
                await callee.expect_nothing(0.2)  # no INTERRUPT to a callee that cannot take it
                callee.send([YIELD, inv[1], {}, ['late']])
                await caller.expect_nothing(0.15)
                await self.roundtrip(caller, callee, 2, proc, 'again')

    async def test_cancel_after_result_is_ignored(self):
        caller, callee, proc, inv = await self._pending()
        callee.send([YIELD, inv[1], {}, ['r']])
        self.assertEqual(await caller.expect(RESULT), [RESULT, 1, {}, ['r']])
        caller.send([CANCEL, 1, {'mode': 'killnowait'}])
        await caller.expect_nothing(0.2)
        await callee.expect_nothing(0.05)
        await self.roundtrip(caller, callee, 2, proc, 'again')

    async def test_cancel_autobahn(self):
        # Autobahn's own cancel (future.cancel() -> CANCEL without mode) against an Autobahn callee
        callee = await self.session()
        caller = await self.session()
        proc = uri()
        slow, started, cancelled = cancellable_callee()

        await asyncio.wait_for(callee.register(slow, proc), T)
        caller_inbox = record(caller)
        callee_inbox = record(callee)
        fut = caller.call(proc)
        await asyncio.wait_for(started, T)
        fut.cancel()
        await asyncio.wait_for(cancelled, T)
        for _ in range(50):
            if of_type(caller_inbox, message.Error):
                break
            await asyncio.sleep(0.02)
        errors = of_type(caller_inbox, message.Error)
        self.assertEqual([(e.request_type, e.error) for e in errors], [(CALL, 'wamp.error.canceled')])
        self.assertEqual([m.mode for m in of_type(callee_inbox, message.Interrupt)], ['killnowait'])
        await asyncio.sleep(0.1)
        self.assertEqual([type(m).__name__ for m in caller_inbox], ['Error'])
        await asyncio.wait_for(callee.register(lambda: 'ok', proc + '.b'), T)
        self.assertEqual(await self.call(caller, proc + '.b'), 'ok')

    # -- 5. caller leaving mid-call ---------------------------------------------------------------------

    async def test_caller_leaving_interrupts_callee(self):
        for how in ('goodbye', 'drop'):
            with self.subTest(how=how):
                caller, callee, proc, inv = await self._pending()
                if how == 'goodbye':
                    caller.send([GOODBYE, {}, 'wamp.close.close_realm'])
                    await caller.expect(GOODBYE)
                else:
                    caller.ws.drop()
                intr = await callee.expect(INTERRUPT)
                self.assertEqual(intr[1], inv[1])
                self.assertEqual(intr[2].get('mode'), 'killnowait', intr)
                callee.send([ERROR, INVOCATION, inv[1], {}, 'wamp.error.canceled'])
                await callee.expect_nothing(0.1)
                other = await self.raw_as(CALLER)
                await self.roundtrip(other, callee, 1, proc, 'again')

    async def test_caller_leaving_cancels_autobahn_callee(self):
        callee = await self.session()
        caller = await self.session()
        proc = uri()
        slow, started, cancelled = cancellable_callee()

        await asyncio.wait_for(callee.register(slow, proc), T)
        asyncio.ensure_future(caller.call(proc)).add_done_callback(lambda f: f.cancelled() or f.exception())
        await asyncio.wait_for(started, T)
        await caller.leave_wait()
        await asyncio.wait_for(cancelled, T)

    async def test_caller_leaving_callee_without_canceling(self):
        caller, callee, proc, inv = await self._pending(CALLEE_PLAIN)
        caller.ws.drop()
        await callee.expect_nothing(0.3)  # no INTERRUPT
        callee.send([YIELD, inv[1], {}, ['late']])
        await callee.expect_nothing(0.1)
        other = await self.raw_as(CALLER)
        await self.roundtrip(other, callee, 1, proc, 'again')

    # -- 6. caller identification -----------------------------------------------------------------------

    async def test_disclose_me(self):
        callee = await self.session()
        caller = await self.raw_as(CALLER)
        proc = uri()
        seen = []
        await asyncio.wait_for(callee.register(
            lambda details=None: seen.append((details.caller, details.caller_authid, details.caller_authrole)),
            proc, options=DETAILS), T)
        caller.send([CALL, 1, {'disclose_me': True}, proc])
        await caller.expect(RESULT)
        caller.send([CALL, 2, {}, proc])
        await caller.expect(RESULT)
        caller.send([CALL, 3, {'disclose_me': False}, proc])
        await caller.expect(RESULT)
        w = caller.welcome[2]
        self.assertEqual(seen, [(caller.session_id, w['authid'], w['authrole']),
                                (None, None, None), (None, None, None)])

    async def test_disclose_me_raw(self):
        callee = await self.raw_as(CALLEE_CANCELING)
        caller = await self.session()
        joined = await caller.joined
        proc = uri()
        await self.raw_register(callee, proc)
        # Autobahn|Python 22.7.1 cannot ask for disclose_me: the caller stays anonymous ...
        fut = asyncio.ensure_future(caller.call(proc))
        inv = await callee.expect(INVOCATION)
        for key in ('caller', 'caller_authid', 'caller_authrole'):
            self.assertNotIn(key, inv[3])
        callee.send([YIELD, inv[1], {}])
        await asyncio.wait_for(fut, T)
        # ... a raw caller can
        raw = await self.raw_as(CALLER)
        raw.send([CALL, 1, {'disclose_me': True}, proc])
        inv = await callee.expect(INVOCATION)
        self.assertEqual(inv[3].get('caller'), raw.session_id)
        self.assertEqual(inv[3].get('caller_authid'), raw.welcome[2]['authid'])
        self.assertEqual(inv[3].get('caller_authrole'), raw.welcome[2]['authrole'])
        self.assertNotEqual(raw.session_id, joined.session)

    async def test_register_disclose_caller(self):
        callee = await self.raw_as(CALLEE_CANCELING)
        caller = await self.session()
        joined = await caller.joined
        proc = uri()
        await self.raw_register(callee, proc, disclose_caller=True)
        fut = asyncio.ensure_future(caller.call(proc))
        inv = await callee.expect(INVOCATION)
        self.assertEqual(inv[3].get('caller'), joined.session)
        self.assertEqual(inv[3].get('caller_authid'), joined.authid)
        self.assertEqual(inv[3].get('caller_authrole'), joined.authrole)
        callee.send([YIELD, inv[1], {}, ['ok']])
        self.assertEqual(await asyncio.wait_for(fut, T), 'ok')

    async def test_disclose_caller_is_per_callee(self):
        # shared registration: only the callee that asked sees its callers
        a = await self.raw_as(CALLEE_CANCELING)
        b = await self.raw_as(CALLEE_CANCELING)
        caller = await self.raw_as(CALLER)
        proc = uri()
        await self.raw_register(a, proc, invoke='roundrobin', disclose_caller=True)
        await self.raw_register(b, proc, invoke='roundrobin')
        for request, callee, disclosed in ((1, a, True), (2, b, False)):
            caller.send([CALL, request, {}, proc])
            inv = await callee.expect(INVOCATION)
            if disclosed:
                self.assertEqual(inv[3].get('caller'), caller.session_id)
            else:
                self.assertNotIn('caller', inv[3])
            callee.send([YIELD, inv[1], {}])
            self.assertEqual((await caller.expect(RESULT))[1], request)

    # -- 7. pattern-based registrations -----------------------------------------------------------------

    async def test_prefix_and_wildcard_basics(self):
        callee = await self.session()
        caller = await self.session()
        base = uri()
        calls = Calls()
        await asyncio.wait_for(callee.register(calls.handler('prefix'), base + '.obj1',
                                               options=RegisterOptions(match='prefix', details_arg='details')), T)
        await asyncio.wait_for(callee.register(calls.handler('wild'), base + '.w..end',
                                               options=RegisterOptions(match='wildcard', details_arg='details')), T)
        # a prefix matches by characters (spec: com.myapp.myobject1 matches com.myapp.myobject1-mysubobject1)
        for called in (base + '.obj1', base + '.obj1.get', base + '.obj1-sub.x', base + '.obj1.a.b.c'):
            self.assertEqual(await self.call(caller, called), ['prefix', called])
        # a wildcard matches one component per empty component, and the same number of components
        self.assertEqual(await self.call(caller, base + '.w.x.end'), ['wild', base + '.w.x.end'])
        for called in (base + '.w.end', base + '.w.x.y.end', base + '.w.x.end.z', base + '.obj'):
            await self.assertAppError(caller.call(called), 'wamp.error.no_such_procedure')

    async def test_pattern_precedence(self):
        callee = await self.session()
        caller = await self.session()
        b = uri()
        calls = Calls()

        async def reg(tag, pattern, match):
            opts = RegisterOptions(match=match, details_arg='details')
            return await asyncio.wait_for(callee.register(calls.handler(tag), b + pattern, options=opts), T)

        exact = await reg('exact', '.x.y.z', 'exact')
        await reg('wild', '.x.y.', 'wildcard')
        await reg('short', '.x', 'prefix')
        await reg('long', '.x.y', 'prefix')
        await reg('wild2', '..y.z', 'wildcard')
        self.assertEqual(await self.call(caller, b + '.x.y.z'), ['exact', b + '.x.y.z'])
        await asyncio.wait_for(exact.unregister(), T)
        # longest prefix beats a shorter prefix and any wildcard
        self.assertEqual(await self.call(caller, b + '.x.y.z'), ['long', b + '.x.y.z'])
        self.assertEqual(await self.call(caller, b + '.x.yy'), ['long', b + '.x.yy'])
        self.assertEqual(await self.call(caller, b + '.x.q'), ['short', b + '.x.q'])
        self.assertEqual(await self.call(caller, b + '.x'), ['short', b + '.x'])
        # no prefix matches: the wildcard
        self.assertEqual(await self.call(caller, b + '.q.y.z'), ['wild2', b + '.q.y.z'])

    async def test_wildcard_most_selective(self):
        # the spec's examples (advanced/rpc_pattern_based_registration), each pair registered loser first and
        # winner first
        caller = await self.session()
        cases = [
            (('.a1.b2.c33..e5', '.a1.b2..d4.e5'), '.a1.b2.c33.d4.e5'),
            (('.a1.b2..d4.e5..g7', '.a1.b2..d4..f6.g7'), '.a1.b2.c88.d4.e5.f6.g7'),
        ]
        for (winner, loser), called in cases:
            for order in ((winner, loser), (loser, winner)):
                b = uri()
                callee = await self.session()
                calls = Calls()
                for pattern in order:
                    await asyncio.wait_for(callee.register(
                        calls.handler(pattern), b + pattern,
                        options=RegisterOptions(match='wildcard', details_arg='details')), T)
                self.assertEqual(await self.call(caller, b + called), [winner, b + called],
                                 'registered in order {}'.format(order))
                await callee.close()

    async def test_same_uri_different_match_policies(self):
        a = await self.session()
        p = await self.session()
        w = await self.session()
        caller = await self.session()
        proc = uri()
        calls = Calls()
        await asyncio.wait_for(a.register(calls.handler('exact'), proc, options=DETAILS), T)
        await asyncio.wait_for(p.register(calls.handler('prefix'), proc,
                                          options=RegisterOptions(match='prefix', details_arg='details')), T)
        await asyncio.wait_for(w.register(calls.handler('wild'), proc + '.',
                                          options=RegisterOptions(match='wildcard', details_arg='details')), T)
        self.assertEqual(await self.call(caller, proc), ['exact', proc])
        self.assertEqual(await self.call(caller, proc + '.t'), ['prefix', proc + '.t'])
        await p.close()
        for _ in range(50):  # the router notices the close asynchronously
            try:
                res = await self.call(caller, proc + '.t')
            except Exception:
                res = None
            if res == ['wild', proc + '.t']:
                break
            await asyncio.sleep(0.02)
        self.assertEqual(res, ['wild', proc + '.t'])

    async def test_pattern_procedure_in_raw_invocation(self):
        callee = await self.raw_as(CALLEE_CANCELING)
        caller = await self.raw_as(CALLER)
        b = uri()
        reg_p = await self.raw_register(callee, b + '.p', match='prefix')
        reg_w = await self.raw_register(callee, b + '..w', match='wildcard')
        for request, called, reg in ((1, b + '.p.q', reg_p), (2, b + '.z.w', reg_w)):
            caller.send([CALL, request, {}, called, [request]])
            inv = await callee.expect(INVOCATION)
            self.assertEqual(inv[2], reg)
            self.assertEqual(inv[3].get('procedure'), called, inv)
            self.assertEqual(inv[4], [request])
            callee.send([YIELD, inv[1], {}])
            self.assertEqual(await caller.expect(RESULT), [RESULT, request, {}])

    # -- 8. shared registrations ------------------------------------------------------------------------

    async def _shared(self, invoke, n=2):
        callees = [await self.session() for _ in range(n)]
        proc = uri()
        calls = Calls()
        regs = []
        for i, c in enumerate(callees):
            regs.append(await asyncio.wait_for(c.register(
                calls.handler(i), proc, options=RegisterOptions(invoke=invoke, details_arg='details')), T))
        self.assertEqual(len({r.id for r in regs}), 1, 'callees of a shared registration share its id')
        return callees, proc, regs

    async def served_by(self, caller, proc, n):
        return [(await self.call(caller, proc))[0] for _ in range(n)]

    async def test_shared_roundrobin(self):
        callees, proc, _ = await self._shared('roundrobin', 3)
        caller = await self.session()
        self.assertEqual(await self.served_by(caller, proc, 7), [0, 1, 2, 0, 1, 2, 0])
        # a shared callee leaving: the others keep serving, in turn
        await callees[1].leave_wait()
        got = await self.served_by(caller, proc, 4)
        self.assertEqual(sorted(got[:2]), [0, 2], got)
        self.assertEqual(got[2:], got[:2], got)

    async def test_shared_first(self):
        callees, proc, _ = await self._shared('first')
        caller = await self.session()
        self.assertEqual(await self.served_by(caller, proc, 3), [0, 0, 0])
        await callees[0].leave_wait()  # hot standby takes over
        self.assertEqual(await self.served_by(caller, proc, 2), [1, 1])

    async def test_shared_last(self):
        callees, proc, _ = await self._shared('last')
        caller = await self.session()
        self.assertEqual(await self.served_by(caller, proc, 3), [1, 1, 1])
        await callees[1].leave_wait()
        self.assertEqual(await self.served_by(caller, proc, 2), [0, 0])

    async def test_shared_random(self):
        _, proc, _ = await self._shared('random')
        caller = await self.session()
        got = await self.served_by(caller, proc, 40)
        self.assertEqual(set(got), {0, 1}, 'random over two callees used only one in 40 calls: {}'.format(got))

    async def test_shared_policy_mismatch(self):
        a = await self.raw_as(CALLEE_PLAIN)
        b = await self.raw_as(CALLEE_PLAIN)
        proc = uri()
        await self.raw_register(a, proc, invoke='roundrobin')
        for invoke in ('first', 'last', 'random', 'single', None):
            opts = {'invoke': invoke} if invoke else {}
            self.assertEqual(await self.register_error(b, proc, **opts), 'wamp.error.procedure_already_exists',
                             'invoke {}'.format(invoke))
        proc2 = uri()
        await self.raw_register(a, proc2)  # single (default)
        for invoke in ('single', 'roundrobin', 'first'):
            self.assertEqual(await self.register_error(b, proc2, invoke=invoke),
                             'wamp.error.procedure_already_exists', 'invoke {} on a single one'.format(invoke))
        # the matching policy is accepted
        await self.raw_register(b, proc, invoke='roundrobin')

    async def test_shared_unregister_keeps_others(self):
        callees, proc, regs = await self._shared('roundrobin')
        caller = await self.session()
        await asyncio.wait_for(regs[0].unregister(), T)
        self.assertEqual(await self.served_by(caller, proc, 3), [1, 1, 1])
        await callees[1].leave_wait()
        await self.assertAppError(caller.call(proc), 'wamp.error.no_such_procedure')

    # -- 9. callee leaving mid-call, shared registration ------------------------------------------------

    async def test_shared_callee_leaving_mid_call(self):
        a = await self.raw_as(CALLEE_CANCELING)
        b = await self.raw_as(CALLEE_CANCELING)
        caller = await self.raw_as(CALLER)
        proc = uri()
        await self.raw_register(a, proc, invoke='roundrobin')
        await self.raw_register(b, proc, invoke='roundrobin')
        caller.send([CALL, 1, {}, proc, ['to a']])
        inv_a = await a.expect(INVOCATION)
        caller.send([CALL, 2, {}, proc, ['to b']])
        inv_b = await b.expect(INVOCATION)
        a.ws.drop()
        self.assertCallError(await caller.expect(ERROR), 1, 'wamp.error.canceled')
        await caller.expect_nothing(0.1)
        b.send([YIELD, inv_b[1], {}, ['b done']])
        self.assertEqual(await caller.expect(RESULT), [RESULT, 2, {}, ['b done']])
        for request in (3, 4):  # only b is left
            await self.roundtrip(caller, b, request, proc, request)
        self.assertEqual(inv_a[4], ['to a'])
