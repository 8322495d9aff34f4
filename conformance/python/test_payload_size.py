"""Messages larger than the receiving client accepts (issue 15), over JSON, MessagePack and CBOR.

A RawSocket client announces the smallest receive limit there is, 512 bytes (handshake 7F 0S 00 00):
it joins (a WELCOME within 512 bytes: the roles without their feature lists), and the router never
sends it a longer frame nor closes its connection for what others send it — a RESULT too big becomes
ERROR wamp.error.payload_size_exceeded, an INVOCATION too big is answered to its caller with that
ERROR, an EVENT too big is skipped for that subscriber (counted in /metrics). The router's own limit
does the same on a WebSocket listener with ?max-message-size=65536 for Autobahn|Python clients.
"""

import asyncio

from autobahn.exception import PayloadExceededError
from autobahn.wamp.types import PublishOptions

from harness import metric_sum as metric
from harness import (CALL, ERROR, EVENT, HELLO, INVOCATION, PUBLISH, PUBLISHED, REGISTER, REGISTERED, RESULT,
                     SUBSCRIBE, SUBSCRIBED, WELCOME, YIELD, CLIENT_ROLES, Inbox, RawSocket, RawWamp, ModuleRouter,
                     T, WampCases, each_serializer, encode, http_get, split_url, uri)

MIN = 0  # RawSocket length exponent: 2^(9+0) = 512 bytes, the least a client may announce


SizedRouter = ModuleRouter(listen=['ws://127.0.0.1:0/ws', 'rs://127.0.0.1:0',
                                   'ws://127.0.0.1:0/small?max-message-size=65536'])


def tearDownModule():
    SizedRouter.stop()


@each_serializer
class SmallClient(WampCases):
    """A 512-byte RawSocket client (self.SER) next to ordinary Autobahn|Python sessions."""

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.router = SizedRouter.get()
        self.ws_url = self.router.listeners[0]
        self.rs_url = self.router.urls['rs']
        self.small_ws = self.router.listeners[2]
        self.frames = []  # every frame length the small client received

    async def small(self):
        """Joins a RawSocket client announcing 512 bytes; checks every frame it ever receives."""
        s = await RawSocket.open(self.SER, self.rs_url, length_exp=MIN)
        self._closers.append(s)
        original = s.recv

        async def checked_recv(timeout=None):
            payload, binary = await original(timeout)
            self.frames.append(len(payload))
            self.assertLessEqual(len(payload), 512, 'the router sent {} bytes to a client that takes 512'.format(
                len(payload)))
            return payload, binary
        s.recv = checked_recv
        w = RawWamp(s, self.SER)
        w.send([HELLO, 'realm1', {'roles': CLIENT_ROLES}])
        welcome = await w.expect(WELCOME)
        w.session_id = welcome[1]
        return w, welcome

    async def test_joins_with_a_compact_welcome(self):
        w, welcome = await self.small()
        self.assertEqual(welcome[2]['roles'], {'broker': {}, 'dealer': {}})
        self.assertEqual(welcome[2]['authrole'], 'anonymous')
        # A full WELCOME would not have fit: an ordinary client's is larger than 512 bytes.
        full = await self.raw(self.SER, url=self.rs_url)
        self.assertGreater(len(encode(self.SER, full.welcome)[0]), 512)
        self.assertIn('features', full.welcome[2]['roles']['dealer'])
        # The session works: the meta API sees it.
        w.send([CALL, 1, {}, 'wamp.session.get', [w.session_id]])
        self.assertEqual((await w.expect(RESULT))[3][0]['session'], w.session_id)

    async def test_a_result_too_big_becomes_an_error_and_the_session_goes_on(self):
        w, _ = await self.small()
        callee = await self.session('json', url=self.ws_url)
        proc = uri('com.size.big')
        await callee.register(lambda n: 'x' * n, proc)
        w.send([CALL, 1, {}, proc, [2000]])
        err = await w.expect(ERROR)
        self.assertEqual(err[1:3], [CALL, 1])
        self.assertEqual(err[4], 'wamp.error.payload_size_exceeded')
        w.send([CALL, 2, {}, proc, [10]])
        self.assertEqual((await w.expect(RESULT))[1:4], [2, {}, ['x' * 10]])

    async def test_an_invocation_too_big_is_answered_to_its_caller(self):
        w, _ = await self.small()
        proc = uri('com.size.callee')
        w.send([REGISTER, 1, {}, proc])
        await w.expect(REGISTERED)
        caller = await self.session(self.SER, url=self.ws_url)
        # Autobahn|Python raises its PayloadExceededError for ERROR wamp.error.payload_size_exceeded.
        with self.assertRaises(PayloadExceededError) as e:
            await asyncio.wait_for(caller.call(proc, 'y' * 2000), T)
        self.assertIn('larger than the callee accepts', str(e.exception))
        await w.expect_nothing(0.2)  # the callee never saw it
        # A call that fits reaches it.
        pending = asyncio.ensure_future(caller.call(proc, 'fits'))
        inv = await w.expect(INVOCATION)
        self.assertEqual(inv[4], ['fits'])
        w.send([YIELD, inv[1], {}, ['done']])
        self.assertEqual(await asyncio.wait_for(pending, T), 'done')

    async def test_an_event_too_big_is_skipped_for_that_subscriber(self):
        w, _ = await self.small()
        topic = uri('com.size.topic')
        w.send([SUBSCRIBE, 1, {}, topic])
        await w.expect(SUBSCRIBED)
        other = await self.session('json', url=self.ws_url)
        inbox = Inbox()
        await other.subscribe(inbox.handler, topic)
        host, port, _ = split_url(self.ws_url)
        before = (await http_get(host, port, '/metrics'))[2].decode()
        pub = await self.session(self.SER, url=self.ws_url)
        await pub.publish(topic, 'z' * 2000, options=PublishOptions(acknowledge=True))
        self.assertEqual((await inbox.get())[0], ('z' * 2000,))  # the others get it
        await pub.publish(topic, 'small', options=PublishOptions(acknowledge=True))
        ev = await w.expect(EVENT)  # the big one was skipped, the next one arrives
        self.assertEqual(ev[4], ['small'])
        after = (await http_get(host, port, '/metrics'))[2].decode()
        self.assertEqual(metric(after, 'junction_events_too_big_total') - metric(before, 'junction_events_too_big_total'), 1)
        self.assertGreaterEqual(metric(after, 'junction_messages_too_big_total') -
                                metric(before, 'junction_messages_too_big_total'), 1)

    async def test_a_raw_publish_with_acknowledge_still_works(self):
        w, _ = await self.small()
        w.send([PUBLISH, 1, {'acknowledge': True}, uri('com.size.ack'), ['hi']])
        self.assertEqual((await w.expect(PUBLISHED))[1], 1)


@each_serializer
class RouterLimitOnWebSocket(WampCases):
    """The listener's own max_message_size bounds what it sends, too: an Autobahn|Python caller on the
    65536-byte listener gets payload_size_exceeded for a 100 KB result, and goes on."""

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.router = SizedRouter.get()

    async def test_result_over_the_listeners_limit(self):
        callee = await self.session('json', url=self.router.listeners[0])
        proc = uri('com.size.ws')
        await callee.register(lambda n: 'r' * n, proc)
        caller = await self.session(self.SER, url=self.router.listeners[2])
        with self.assertRaises(PayloadExceededError) as e:  # Autobahn's class for that ERROR URI
            await asyncio.wait_for(caller.call(proc, 100000), T)
        self.assertIn('larger than this connection accepts', str(e.exception))
        self.assertEqual(await asyncio.wait_for(caller.call(proc, 1000), T), 'r' * 1000)
