"""Sends the client cannot take (issues 11 and 15): each of the four use-after-free bugs found by
fuzzing, replayed as a regression test against a router of the test's own.

A RawSocket client announces a receive limit of 1 KiB; the router then has to send it something
larger (a progressive RESULT, its own INVOCATION, a timeout ERROR that quotes a long URI). When the
bugs were found, the transport closed that connection inside the send, under the dealer's feet.
Since issue 15 the connection stays open and the client hears a small ERROR instead (RESULT →
wamp.error.payload_size_exceeded; an ERROR keeps its URI and loses its payload); the call around it
must still end cleanly: the callee is interrupted, nothing else is disturbed, and the router keeps
serving. The fourth test races a universal port's first byte against its first-byte timeout.

Run against an AddressSanitizer build (script/test's asan level, with halt_on_error), any read of
freed memory kills the router and fails the test that caused it.
"""

import asyncio
import time

from harness import (CALL, ERROR, INVOCATION, REGISTER, REGISTERED, RESULT, T, YIELD, HELLO, WELCOME,
                     RawSocket, RawWamp, RouterProcess, WampCases, single, split_url, uri, ws_frame, ws_open)

INTERRUPT = 69
SMALL = 1  # RawSocket length exponent: the client takes messages of at most 2^(9+1) = 1024 bytes

CALLER_ROLES = {'caller': {'features': {'progressive_call_results': True, 'call_canceling': True,
                                        'progressive_call_invocations': True, 'call_timeout': True}}}
CALLEE_ROLES = {'callee': {'features': {'progressive_call_results': True, 'call_canceling': True,
                                        'progressive_call_invocations': True}}}
BOTH_ROLES = {**CALLER_ROLES, **CALLEE_ROLES}


async def joined(url, roles, ser='json', length_exp=15, realm='realm1'):
    """A raw session announcing `roles`; RawSocket URLs announce 2^(9+length_exp) as their limit."""
    if url.startswith('rs://'):
        r = RawWamp(await RawSocket.open(ser, url, length_exp=length_exp), ser)
    else:
        r = await RawWamp.open(ser, url)
    r.send([HELLO, realm, {'roles': roles}])
    w = await r.expect(WELCOME)
    r.session_id = w[1]
    return r


async def register(r, procedure):
    rid = r.next_id()
    r.send([REGISTER, rid, {}, procedure])
    reply = await r.expect(REGISTERED)
    assert reply[1] == rid, reply
    return reply[2]


@single
class OversizedSends(WampCases):

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.router = RouterProcess(listen=['ws://127.0.0.1:0/ws', 'rs://127.0.0.1:0',
                                            'universal://127.0.0.1:0/ws?handshake-timeout=300']).start()
        self.ws = self.router.urls['ws']
        self.rs = self.router.urls['rs']
        self.universal = self.router.urls['universal']
        self.clients = []

    async def asyncTearDown(self):
        for c in self.clients:
            try:
                await c.close()
            except Exception:
                pass
        self.router.stop()
        await super().asyncTearDown()

    async def client(self, url, roles, length_exp=15):
        c = await joined(url, roles, length_exp=length_exp)
        self.clients.append(c)
        return c

    async def assert_router_serves(self):
        """A fresh caller and callee still complete a call, over both transports."""
        callee = await self.client(self.ws, CALLEE_ROLES)
        proc = uri('com.reentrancy.after')
        await register(callee, proc)
        caller = await self.client(self.rs, CALLER_ROLES)
        caller.send([CALL, 1, {}, proc, [41]])
        inv = await callee.expect(INVOCATION)
        callee.send([YIELD, inv[1], {}, [inv[4][0] + 1]])
        self.assertEqual((await caller.expect(RESULT))[3], [42])
        self.assertIsNone(self.router.proc.poll(), 'the router exited: ' + self.router.output()[-3000:])

    def assert_logged(self, text):
        deadline = time.monotonic() + T
        while text not in self.router.output():
            if time.monotonic() > deadline:
                self.fail('the router did not log {!r}: {}'.format(text, self.router.output()[-2000:]))
            time.sleep(0.05)

    async def assert_still_calls(self, caller, request):
        """The caller's connection carries on: a small call completes."""
        callee = await self.client(self.ws, CALLEE_ROLES)
        proc = uri('com.reentrancy.small')
        await register(callee, proc)
        caller.send([CALL, request, {}, proc, [1]])
        inv = await callee.expect(INVOCATION)
        callee.send([YIELD, inv[1], {}, ['fits']])
        self.assertEqual((await caller.expect(RESULT))[1:4], [request, {}, ['fits']])

    async def test_progressive_result_over_the_callers_limit(self):
        """Repro 1: the progressive RESULT does not fit the caller: ERROR payload_size_exceeded ends its
        call, the callee is interrupted, and the caller's connection goes on."""
        callee = await self.client(self.ws, CALLEE_ROLES)
        proc = uri('com.reentrancy.stream')
        await register(callee, proc)
        caller = await self.client(self.rs, CALLER_ROLES, length_exp=SMALL)
        caller.send([CALL, 1, {'receive_progress': True, 'timeout': 5000}, proc, []])
        inv = await callee.expect(INVOCATION)
        callee.send([YIELD, inv[1], {'progress': True}, ['x' * 2000]])
        err = await caller.expect(ERROR)
        self.assertEqual(err[1:3], [CALL, 1])
        self.assertEqual(err[4], 'wamp.error.payload_size_exceeded')
        interrupt = await callee.expect(INTERRUPT)
        self.assertEqual(interrupt[1], inv[1])
        self.assertEqual(interrupt[2].get('mode'), 'killnowait')
        self.assertEqual(interrupt[2].get('reason'), 'wamp.error.payload_size_exceeded')
        # The call is over: later answers from the callee are dropped quietly, not violations.
        callee.send([YIELD, inv[1], {'progress': True}, ['late']])
        callee.send([YIELD, inv[1], {}, ['late']])
        await callee.expect_nothing(0.3)
        await caller.expect_nothing(0.1)
        self.assert_logged("exceeds the client's limit")
        await self.assert_still_calls(caller, 2)
        await self.assert_router_serves()

    async def test_progressive_self_call_over_the_sessions_limit(self):
        """Repro 2: a session calls itself progressively with more than it can take: the INVOCATION is
        not sent, the session (as caller) gets ERROR payload_size_exceeded, and keeps its registration."""
        watcher = await self.client(self.ws, {'caller': {}})
        me = await self.client(self.rs, BOTH_ROLES, length_exp=SMALL)
        proc = uri('com.reentrancy.self')
        registration = await register(me, proc)
        me.send([CALL, 7, {'progress': True}, proc, ['y' * 2000]])
        err = await me.expect(ERROR)
        self.assertEqual(err[1:3], [CALL, 7])
        self.assertEqual(err[4], 'wamp.error.payload_size_exceeded')
        # Its continuations, already on the wire, are dropped quietly.
        me.send([CALL, 7, {}, proc, ['last']])
        await me.expect_nothing(0.3)
        watcher.send([CALL, 1, {}, 'wamp.registration.lookup', [proc]])
        self.assertEqual((await watcher.expect(RESULT))[3], [registration])
        watcher.send([CALL, 2, {}, 'wamp.session.get', [me.session_id]])
        self.assertEqual((await watcher.expect(RESULT))[3][0]['session'], me.session_id)
        await self.assert_router_serves()

    async def test_timeout_error_over_the_callers_limit(self):
        """Repro 3: the timeout ERROR quotes a ~1,100-byte URI, more than the caller takes: it gets
        ERROR wamp.error.timeout with a short note instead; the callee gets its INTERRUPT, once."""
        callee = await self.client(self.ws, CALLEE_ROLES)
        proc = 'com.reentrancy.' + 'z' * 1100
        await register(callee, proc)
        caller = await self.client(self.rs, CALLER_ROLES, length_exp=SMALL)
        caller.send([CALL, 1, {'timeout': 200}, proc, []])
        inv = await callee.expect(INVOCATION)
        err = await caller.expect(ERROR)
        self.assertEqual(err[1:3], [CALL, 1])
        self.assertEqual(err[4], 'wamp.error.timeout')
        self.assertIn('payload_size_exceeded', err[5][0])
        interrupt = await callee.expect(INTERRUPT)
        self.assertEqual(interrupt[1], inv[1])
        self.assertEqual(interrupt[2].get('reason'), 'wamp.error.timeout')
        await callee.expect_nothing(0.3)
        await self.assert_still_calls(caller, 2)
        await self.assert_router_serves()

    async def test_universal_first_byte_races_its_timeout(self):
        """Repro 4: first bytes that arrive in the same loop turn as their first-byte timeout. A big
        message keeps the router busy across the deadlines (300 ms here) so both complete together."""
        port = split_url(self.ws)[1]
        uhost, uport, _ = split_url(self.universal)
        big = ws_frame(0x1, ('[48,7,{},"com.reentrancy.busy",[' + ','.join(['0'] * (1 << 19)) + ']]').encode())
        for _cycle in range(3):
            try:
                await self.race_once(port, uhost, uport, big)
            except OSError as e:
                self.fail('{} (the router died?): {}'.format(e, self.router.output()[-3000:]))
            self.assertIsNone(self.router.proc.poll(), 'the router died: ' + self.router.output()[-3000:])
        await self.assert_router_serves()

    async def race_once(self, port, uhost, uport, big):
        r, w = await ws_open(port)
        w.write(ws_frame(0x1, b'[1,"realm1",{"roles":{"caller":{}}}]'))
        await asyncio.wait_for(r.read(2), T)  # WELCOME's frame header: joined
        conns = []
        for _ in range(40):
            conns.append((await asyncio.open_connection(uhost, uport), time.monotonic()))
        t0 = conns[0][1]
        await asyncio.sleep(max(0.0, t0 + 0.3 - 0.05 - time.monotonic()))
        w.write(big[:-1])
        await w.drain()
        while time.monotonic() < t0 + 0.3 - 0.005:
            await asyncio.sleep(0)
        w.write(big[-1:])  # the router decodes now, across the deadlines
        for i, ((_, cw), opened) in enumerate(conns):
            while time.monotonic() < opened + 0.3 + 0.001 * (i % 20):
                await asyncio.sleep(0)
            cw.write(b'G')
        await asyncio.sleep(0.4)
        for (_, cw), _ in conns:
            cw.close()
        w.close()

    async def test_handshake_timeouts(self):
        """A connection that stays silent, or stops halfway through its handshake, is closed after
        the listener's handshake-timeout (300 ms here), on each kind of port."""
        uhost, uport, _ = split_url(self.universal)
        rhost, rport, _ = split_url(self.rs)
        t0 = time.monotonic()
        silent = await asyncio.open_connection(uhost, uport)
        half_ws = await asyncio.open_connection(uhost, uport)
        half_ws[1].write(b'GET /ws HTTP/1.1\r\nHost: x\r\n')
        half_rs = await asyncio.open_connection(rhost, rport)
        half_rs[1].write(bytes([0x7F, 0xF1]))
        for reader, _ in (silent, half_ws):
            self.assertEqual(await asyncio.wait_for(reader.read(), T), b'')
        self.assertLess(time.monotonic() - t0, 3.0)
        self.assert_logged('nothing received within 300 ms')
        self.assert_logged('handshake not completed within 300 ms')
        # The plain RawSocket listener keeps the default (10 s): still open.
        half_rs[1].write(bytes([0, 0]))
        self.assertEqual(len(await asyncio.wait_for(half_rs[0].readexactly(4), T)), 4)
        for _, w in (silent, half_ws, half_rs):
            w.close()
