"""Dealer: REGISTER/UNREGISTER/CALL/INVOCATION/YIELD/RESULT and the basic-profile errors.

Every case runs per transport (WebSocket, RawSocket TCP, RawSocket Unix) x serializer."""

import asyncio

from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import CallResult

from harness import (CALL, ERROR, GOODBYE, INVOCATION, REGISTER, REGISTERED, RESULT, T, UNREGISTER, UNREGISTERED,
                     YIELD, WampCases, each_transport_and_serializer, uri)


@each_transport_and_serializer
class RpcTests(WampCases):

    async def test_call_with_args_and_kwargs(self):
        callee = await self.session()
        caller = await self.session()
        proc = uri()
        seen = []

        def handler(*args, **kwargs):
            seen.append((args, kwargs))
            return CallResult(*reversed(args), echoed=kwargs, n=len(args))

        await asyncio.wait_for(callee.register(handler, proc), T)
        args = [1, 'two', [3, 3.5], {'four': 4}, True, None, -7, 'unicodé ✓']
        kwargs = {'a': 'b', 'nested': {'x': [1, 2, {'y': False}]}, 'big': 2 ** 53}
        res = await asyncio.wait_for(caller.call(proc, *args, **kwargs), T)
        self.assertIsInstance(res, CallResult)
        self.assertEqual(list(res.results), list(reversed(args)))
        self.assertEqual(res.kwresults, {'echoed': kwargs, 'n': len(args)})
        self.assertEqual(seen, [(tuple(args), kwargs)])

    async def test_call_without_payload(self):
        callee = await self.session()
        caller = await self.session()
        proc = uri()
        calls = []
        await asyncio.wait_for(callee.register(lambda: calls.append(1), proc), T)
        res = await asyncio.wait_for(caller.call(proc), T)
        self.assertIsNone(res)
        self.assertEqual(calls, [1])

    async def test_call_own_procedure(self):
        s = await self.session()
        proc = uri()
        await asyncio.wait_for(s.register(lambda x: x + 1, proc), T)
        self.assertEqual(await asyncio.wait_for(s.call(proc, 41), T), 42)

    async def test_large_payload(self):
        callee = await self.session()
        caller = await self.session()
        proc = uri()
        await asyncio.wait_for(callee.register(lambda s: s[::-1], proc), T)
        big = ''.join(chr(0x41 + i % 26) for i in range(200000))
        self.assertEqual(await asyncio.wait_for(caller.call(proc, big), T), big[::-1])

    async def test_callee_error_forwarded(self):
        callee = await self.session()
        caller = await self.session()
        proc = uri()

        def failing(x):
            raise ApplicationError('com.conformance.error.custom', 'first', 2, [3], x=x, detail={'k': 'v'})

        await asyncio.wait_for(callee.register(failing, proc), T)
        e = await self.assertAppError(caller.call(proc, 'arg'), 'com.conformance.error.custom')
        self.assertEqual(list(e.args), ['first', 2, [3]])
        self.assertEqual(e.kwargs, {'x': 'arg', 'detail': {'k': 'v'}})
        # the callee is still usable afterwards
        proc2 = uri()
        await asyncio.wait_for(callee.register(lambda: 'ok', proc2), T)
        self.assertEqual(await asyncio.wait_for(caller.call(proc2), T), 'ok')

    async def test_callee_error_raw(self):
        # the callee's ERROR [8, 68, ...] reaches the caller as [8, 48, CALL.Request, Details, Error, Args, Kwargs]
        callee = await self.raw()
        caller = await self.raw()
        proc = uri()
        reg = await callee.register(proc)
        caller.send([CALL, 7, {}, proc, ['a'], {'b': 1}])
        inv = await callee.expect(INVOCATION)
        self.assertEqual(inv[2], reg)
        self.assertEqual(inv[4:], [['a'], {'b': 1}])
        callee.send([ERROR, INVOCATION, inv[1], {}, 'com.conformance.error.raw', ['x', 1], {'y': [2]}])
        err = await caller.expect(ERROR)
        self.assertEqual(err[1], CALL)
        self.assertEqual(err[2], 7)
        self.assertIsInstance(err[3], dict)
        self.assertEqual(err[4], 'com.conformance.error.raw')
        self.assertEqual(err[5:], [['x', 1], {'y': [2]}])

    async def test_result_raw_layout(self):
        callee = await self.raw()
        caller = await self.raw()
        proc = uri()
        reg = await callee.register(proc)
        self.assertIdRange(reg, 'Registration')
        caller.send([CALL, 3, {}, proc, [1, 2], {'k': 'v'}])
        inv = await callee.expect(INVOCATION)
        self.assertIdRange(inv[1], 'INVOCATION.Request')
        self.assertEqual(inv[2], reg)
        self.assertIsInstance(inv[3], dict)
        self.assertEqual(inv[4:], [[1, 2], {'k': 'v'}])
        callee.send([YIELD, inv[1], {}, ['r'], {'rk': True}])
        res = await caller.expect(RESULT)
        self.assertEqual(res[1], 3)
        self.assertIsInstance(res[2], dict)
        self.assertEqual(res[3:], [['r'], {'rk': True}])
        # a call without payload gets an INVOCATION without payload elements
        caller.send([CALL, 4, {}, proc])
        inv = await callee.expect(INVOCATION)
        self.assertEqual(len(inv), 4, 'INVOCATION should omit empty payload: {!r}'.format(inv))
        callee.send([YIELD, inv[1], {}])
        res = await caller.expect(RESULT)
        self.assertEqual(res[1], 4)

    async def test_no_such_procedure(self):
        caller = await self.session()
        await self.assertAppError(caller.call(uri(), 1, 2), 'wamp.error.no_such_procedure')

    async def test_procedure_already_exists(self):
        a = await self.session()
        b = await self.session()
        proc = uri()
        await asyncio.wait_for(a.register(lambda: 'a', proc), T)
        await self.assertAppError(b.register(lambda: 'b', proc), 'wamp.error.procedure_already_exists')
        await self.assertAppError(a.register(lambda: 'a2', proc), 'wamp.error.procedure_already_exists')
        # the original registration is untouched
        self.assertEqual(await asyncio.wait_for(b.call(proc), T), 'a')

    async def test_unregister_then_call(self):
        callee = await self.session()
        caller = await self.session()
        proc = uri()
        reg = await asyncio.wait_for(callee.register(lambda: 'x', proc), T)
        self.assertEqual(await asyncio.wait_for(caller.call(proc), T), 'x')
        await asyncio.wait_for(reg.unregister(), T)
        await self.assertAppError(caller.call(proc), 'wamp.error.no_such_procedure')
        # and the URI is free again, for anyone
        await asyncio.wait_for(caller.register(lambda: 'y', proc), T)
        self.assertEqual(await asyncio.wait_for(callee.call(proc), T), 'y')

    async def test_no_such_registration(self):
        owner = await self.raw()
        other = await self.raw()
        proc = uri()
        reg = await owner.register(proc)
        # another session's registration
        rid = other.next_id()
        err = await other.request([UNREGISTER, rid, reg], UNREGISTERED)
        self.assertEqual(err[:3], [ERROR, UNREGISTER, rid], err)
        self.assertEqual(err[4], 'wamp.error.no_such_registration')
        # an id nobody has
        rid = other.next_id()
        err = await other.request([UNREGISTER, rid, 4242424242], UNREGISTERED)
        self.assertEqual(err[:3], [ERROR, UNREGISTER, rid], err)
        self.assertEqual(err[4], 'wamp.error.no_such_registration')
        # owner's registration still works
        other.send([CALL, other.next_id(), {}, proc])
        inv = await owner.expect(INVOCATION)
        owner.send([YIELD, inv[1], {}, ['still here']])
        res = await other.expect(RESULT)
        self.assertEqual(res[3], ['still here'])
        # unregistering twice: the second time it no longer exists
        rid = owner.next_id()
        self.assertEqual(await owner.request([UNREGISTER, rid, reg], UNREGISTERED), [UNREGISTERED, rid])
        rid = owner.next_id()
        err = await owner.request([UNREGISTER, rid, reg], UNREGISTERED)
        self.assertEqual(err[:3], [ERROR, UNREGISTER, rid], err)
        self.assertEqual(err[4], 'wamp.error.no_such_registration')

    async def test_invalid_uri(self):
        r = await self.raw()
        for bad in ('com..empty', 'com.with space', 'com.hash#tag', '', '.leading', 'trailing.'):
            rid = r.next_id()
            err = await r.request([REGISTER, rid, {}, bad], REGISTERED)
            self.assertEqual(err[:3], [ERROR, REGISTER, rid], 'REGISTER {!r}: {!r}'.format(bad, err))
            self.assertEqual(err[4], 'wamp.error.invalid_uri', 'REGISTER {!r}'.format(bad))
            rid = r.next_id()
            err = await r.request([CALL, rid, {}, bad], RESULT)
            self.assertEqual(err[:3], [ERROR, CALL, rid], 'CALL {!r}: {!r}'.format(bad, err))
            self.assertEqual(err[4], 'wamp.error.invalid_uri', 'CALL {!r}'.format(bad))
        # session survives
        await r.register(uri())

    async def _pending_call_setup(self):
        callee = await self.session()
        callers = [await self.session(), await self.session()]
        proc = uri()
        started = asyncio.Queue()
        never = asyncio.get_running_loop().create_future()

        async def slow(i):
            started.put_nowait(i)
            await never  # a long await: the callee goes away before answering
            return i

        await asyncio.wait_for(callee.register(slow, proc), T)
        calls = [asyncio.ensure_future(callers[0].call(proc, 0)),
                 asyncio.ensure_future(callers[0].call(proc, 1)),
                 asyncio.ensure_future(callers[1].call(proc, 2))]
        got = set()
        for _ in calls:
            got.add(await asyncio.wait_for(started.get(), T))
        self.assertEqual(got, {0, 1, 2})
        return callee, callers, calls, proc

    async def _assert_all_canceled(self, calls):
        results = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), T)
        for i, r in enumerate(results):
            self.assertIsInstance(r, ApplicationError, 'call {} did not fail: {!r}'.format(i, r))
            self.assertEqual(r.error, 'wamp.error.canceled', 'call {}: {}'.format(i, r))

    async def test_callee_disconnects_mid_call(self):
        callee, callers, calls, proc = await self._pending_call_setup()
        callee.drop()  # TCP gone, no GOODBYE, no close frame
        await self._assert_all_canceled(calls)
        await self.assertAppError(callers[1].call(proc), 'wamp.error.no_such_procedure')

    async def test_callee_leaves_mid_call(self):
        callee, callers, calls, proc = await self._pending_call_setup()
        callee.leave()  # GOODBYE while invocations are outstanding
        await self._assert_all_canceled(calls)
        await self.assertAppError(callers[0].call(proc), 'wamp.error.no_such_procedure')

    async def test_registration_removed_on_disconnect(self):
        callee = await self.session()
        caller = await self.session()
        proc = uri()
        await asyncio.wait_for(callee.register(lambda: 1, proc), T)
        callee.drop()
        await asyncio.wait_for(asyncio.shield(callee.disconnected), T)
        # the router notices the TCP loss asynchronously; give it a moment. A call routed to the
        # callee before the router saw its connection end is answered canceled when it does.
        for _ in range(50):
            try:
                await asyncio.wait_for(caller.call(proc), T)
            except ApplicationError as e:
                if e.error != 'wamp.error.canceled':
                    self.assertEqual(e.error, 'wamp.error.no_such_procedure')
                    break
            await asyncio.sleep(0.05)
        else:
            self.fail('registration of a dropped session survived')
        other = await self.session()
        await asyncio.wait_for(other.register(lambda: 2, proc), T)
        self.assertEqual(await asyncio.wait_for(caller.call(proc), T), 2)

    async def test_invocation_order_from_one_caller(self):
        callee = await self.session()
        caller = await self.session()
        proc = uri()
        order = []
        await asyncio.wait_for(callee.register(lambda i: order.append(i) or i, proc), T)
        n = 50
        res = await asyncio.wait_for(asyncio.gather(*[caller.call(proc, i) for i in range(n)]), T)
        self.assertEqual(res, list(range(n)))
        self.assertEqual(order, list(range(n)), 'invocations arrived out of call order')

    async def test_concurrent_calls_many_callers(self):
        callee = await self.session()
        callers = [await self.session() for _ in range(5)]
        proc = uri()

        async def echo(a, b):
            await asyncio.sleep(0.001)
            return [a, b]

        await asyncio.wait_for(callee.register(echo, proc), T)
        futs = [c.call(proc, ci, i) for ci, c in enumerate(callers) for i in range(20)]
        res = await asyncio.wait_for(asyncio.gather(*futs), T)
        self.assertEqual(res, [[ci, i] for ci in range(5) for i in range(20)])

    async def _late_answer(self, how, answer):
        """The caller goes away while its call is being processed; the callee answers afterwards.
        The router must discard the late YIELD/ERROR quietly (WAMP basic profile, "Caller Leaving"),
        not treat it as a protocol violation."""
        callee = await self.raw()
        caller = await self.raw('msgpack' if self.SER == 'json' else 'json')
        proc = uri()
        await callee.register(proc)
        caller.send([CALL, 1, {}, proc, ['x']])
        inv = await callee.expect(INVOCATION)
        if how == 'drop':
            caller.ws.drop()
        else:
            caller.send([GOODBYE, {}, 'wamp.close.close_realm'])
            g = await caller.expect(GOODBYE)
            self.assertEqual(g[2], 'wamp.close.goodbye_and_out')
        await asyncio.sleep(0.2)  # let the router notice
        if answer == 'yield':
            callee.send([YIELD, inv[1], {}, ['late']])
        else:
            callee.send([ERROR, INVOCATION, inv[1], {}, 'com.conformance.error.late'])
        await callee.expect_nothing(0.3)  # no ABORT, nothing
        # the callee is still in business
        other = await self.raw()
        other.send([CALL, 1, {}, proc, ['again']])
        inv2 = await callee.expect(INVOCATION)
        self.assertEqual(inv2[4], ['again'])
        callee.send([YIELD, inv2[1], {}, ['fine']])
        res = await other.expect(RESULT)
        self.assertEqual(res[3], ['fine'])

    async def test_late_yield_after_caller_dropped(self):
        await self._late_answer('drop', 'yield')

    async def test_late_yield_after_caller_left(self):
        await self._late_answer('goodbye', 'yield')

    async def test_late_error_after_caller_dropped(self):
        await self._late_answer('drop', 'error')

    async def test_invocation_request_ids_sequential(self):
        # router-to-callee request ids are session scope: 1, 2, 3, ... (WAMP basic profile, IDs)
        callee = await self.raw()
        callers = [await self.raw(), await self.raw('json'), await self.raw('msgpack')]
        proc = uri()
        await callee.register(proc)
        ids = []
        for i in range(6):
            c = callers[i % 3]
            c.send([CALL, c.next_id(), {}, proc, [i]])
            inv = await callee.expect(INVOCATION)
            self.assertEqual(inv[4], [i])
            ids.append(inv[1])
            callee.send([YIELD, inv[1], {}, [i]])
            res = await c.expect(RESULT)
            self.assertEqual(res[3], [i])
        self.assertEqual(ids, [1, 2, 3, 4, 5, 6], 'INVOCATION request ids must start at 1 and increment by 1')
