"""WebSocket transport: subprotocol negotiation, handshake refusal, path routing, message size limit."""

import asyncio

from autobahn.wamp.serializer import JsonSerializer, MsgPackSerializer

from harness import (PUBLISH, PUBLISHED, REALM, T, RawWamp, RawWebSocket, RouterProcess, TransportClosed,
                     WampCases, connect, encode, http_upgrade, single, split_url, uri)


@single
class TransportTests(WampCases):

    async def test_preference_msgpack_first(self):
        s = await self.session(serializers=[MsgPackSerializer(), JsonSerializer()])
        self.assertEqual(s.ws.websocket_protocol_in_use, 'wamp.2.msgpack')
        self.assertEqual(s.serializer_id, 'msgpack')

    async def test_preference_json_first(self):
        s = await self.session(serializers=[JsonSerializer(), MsgPackSerializer()])
        self.assertEqual(s.ws.websocket_protocol_in_use, 'wamp.2.json')
        self.assertEqual(s.serializer_id, 'json')

    async def test_preference_skips_unsupported(self):
        cases = [
            (['wamp.2.cbor', 'wamp.2.msgpack', 'wamp.2.json'], 'wamp.2.msgpack'),
            (['chat', 'wamp.2.json', 'wamp.2.msgpack'], 'wamp.2.json'),
            (['wamp.2.json.batched', 'wamp.2.msgpack.batched', 'wamp.2.msgpack'], 'wamp.2.msgpack'),
            (['wamp.2.json'], 'wamp.2.json'),
            (['wamp.2.msgpack'], 'wamp.2.msgpack'),
        ]
        for offered, chosen in cases:
            ws = await RawWebSocket.open(protocols=offered)
            self._closers.append(ws)
            self.assertEqual(ws.protocol_in_use, chosen, 'offered {}'.format(offered))
            # and the connection really speaks it
            r = RawWamp(ws, chosen.split('.')[-1])
            await r.hello(REALM)
            await ws.close()

    async def test_selected_protocol_header(self):
        status, headers = await http_upgrade(split_url_path(), ['wamp.2.msgpack', 'wamp.2.json'])
        self.assertEqual(status, 101)
        self.assertEqual(headers.get('sec-websocket-protocol'), 'wamp.2.msgpack')

    async def test_no_wamp_subprotocol_refused(self):
        for offered in (None, ['chat'], ['wamp.2.cbor'], ['wamp.1.json']):
            status, headers = await http_upgrade(split_url_path(), offered)
            self.assertNotEqual(status, 101, 'handshake offering {} was upgraded'.format(offered))
            self.assertTrue(400 <= status < 500, 'offering {} got HTTP {}, want 4xx'.format(offered, status))
        # Autobahn's view: the connection never opens
        with self.assertRaises((TransportClosed, asyncio.TimeoutError, ConnectionError)):
            ws = await RawWebSocket.open(protocols=['chat'])
            self._closers.append(ws)

    async def test_wrong_path_404(self):
        for path in ('/nope', '/ws/extra', '/', '/WS'):
            if path == split_url_path():
                continue
            status, _ = await http_upgrade(path, ['wamp.2.json'])
            self.assertEqual(status, 404, 'WebSocket upgrade on {} got HTTP {}'.format(path, status))
            status, _ = await http_upgrade(path, upgrade=False)
            self.assertEqual(status, 404, 'plain GET {} got HTTP {}'.format(path, status))

    async def test_router_still_serves_after_refusals(self):
        await http_upgrade('/nope', ['wamp.2.json'])
        await http_upgrade(split_url_path(), ['chat'])
        s = await self.session('json')
        proc = uri()
        await asyncio.wait_for(s.register(lambda: 1, proc), T)
        self.assertEqual(await asyncio.wait_for(s.call(proc), T), 1)


def split_url_path():
    from harness import URL
    return split_url(URL)[2]


LIMIT = 4096


@single
class MessageSizeTests(WampCases):
    """A second router with --max-message-size 4096."""

    @classmethod
    def setUpClass(cls):
        cls.router = RouterProcess(realms=[REALM], extra_args=['--max-message-size', str(LIMIT)]).start()

    @classmethod
    def tearDownClass(cls):
        cls.router.stop()

    async def _oversize(self, ser, before_hello=False):
        url = self.router.url
        bystander = await connect('json', url=url)
        self._closers.append(bystander)
        r = await RawWamp.open(ser, url)
        self._closers.append(r)
        if not before_hello:
            await r.hello(REALM)
            # control: just under the limit is accepted
            r.send([PUBLISH, 1, {'acknowledge': True}, 'com.conformance.size', ['x' * (LIMIT - 200)]])
            ack = await r.recv()
            self.assertEqual(ack[0], PUBLISHED, 'message of ~{} bytes under a {} byte limit: {!r}'.format(
                LIMIT - 150, LIMIT, ack))
        payload, binary = encode(ser, [PUBLISH, 2, {'acknowledge': True}, 'com.conformance.size', ['x' * (2 * LIMIT)]])
        self.assertGreater(len(payload), LIMIT)
        r.ws.send(payload, binary)
        try:
            while True:  # nothing but the close may come back
                msg = await r.recv()
                self.fail('router answered an oversized message with {!r}'.format(msg)[:300])
        except TransportClosed:
            pass
        await r.ws.wait_closed()
        self.assertIsNotNone(r.ws.close_frame, 'router dropped TCP without a close frame; want close code 1009')
        self.assertEqual(r.ws.close_frame[0], 1009, 'close frame {!r}'.format(r.ws.close_frame))
        # other sessions on that router are unaffected
        proc = uri()
        await asyncio.wait_for(bystander.register(lambda: 'ok', proc), T)
        self.assertEqual(await asyncio.wait_for(bystander.call(proc), T), 'ok')

    async def test_oversized_json_1009(self):
        await self._oversize('json')

    async def test_oversized_msgpack_1009(self):
        await self._oversize('msgpack')

    async def test_oversized_before_hello_1009(self):
        await self._oversize('json', before_hello=True)

    async def test_large_message_ok_on_default_router(self):
        # the main router (default 16 MiB limit) accepts a 1 MiB message
        s = await self.session('msgpack')
        topic = uri()
        got = asyncio.Queue()
        sub = await self.session('json')
        await asyncio.wait_for(sub.subscribe(lambda x: got.put_nowait(x), topic), T)
        from autobahn.wamp.types import PublishOptions
        big = 'y' * (1 << 20)
        await asyncio.wait_for(s.publish(topic, big, options=PublishOptions(acknowledge=True)), T)
        self.assertEqual(await asyncio.wait_for(got.get(), T), big)
