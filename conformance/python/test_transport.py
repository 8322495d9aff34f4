"""WebSocket transport: subprotocol negotiation, handshake refusal, path routing, message size limit."""

import asyncio
import base64
import os
import socket
import struct
import time

from autobahn.wamp.serializer import JsonSerializer, MsgPackSerializer

from autobahn.wamp.types import PublishOptions

from harness import (ABORT, CALL, GOODBYE, PUBLISH, PUBLISHED, REALM, REGISTER, REGISTERED, SUBSCRIBE, SUBSCRIBED, T,
                     RawWamp, RawWebSocket, RouterProcess, TransportClosed,
                     WampCases, connect, each_serializer, encode, http_upgrade, single, split_url, uri)


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
            (['wamp.2.ubjson', 'wamp.2.msgpack', 'wamp.2.json'], 'wamp.2.msgpack'),
            (['chat', 'wamp.2.json', 'wamp.2.msgpack'], 'wamp.2.json'),
            (['wamp.2.flatbuffers', 'wamp.2.ubjson', 'wamp.2.msgpack'], 'wamp.2.msgpack'),
            (['wamp.2.ubjson', 'wamp.2.cbor', 'wamp.2.json'], 'wamp.2.cbor'),
            (['wamp.2.json'], 'wamp.2.json'),
            (['wamp.2.msgpack'], 'wamp.2.msgpack'),
            (['wamp.2.cbor'], 'wamp.2.cbor'),
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
        for offered in (None, ['chat'], ['wamp.2.ubjson'], ['wamp.1.json'], ['wamp.2.cbor.unbatched']):
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

    async def test_ping_pong(self):
        ws = await RawWebSocket.open(protocols=['wamp.2.json'])
        self._closers.append(ws)
        pong = asyncio.get_running_loop().create_future()
        ws.proto.onPong = lambda payload: pong.done() or pong.set_result(payload)
        ws.proto.sendPing(b'junction-ping')
        self.assertEqual(await asyncio.wait_for(pong, T), b'junction-ping')

    async def test_router_still_serves_after_refusals(self):
        await http_upgrade('/nope', ['wamp.2.json'])
        await http_upgrade(split_url_path(), ['chat'])
        s = await self.session('json')
        proc = uri()
        await asyncio.wait_for(s.register(lambda: 1, proc), T)
        self.assertEqual(await asyncio.wait_for(s.call(proc), T), 1)


def _client_frame(opcode, payload, fin=True):
    mask = os.urandom(4)
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        head = struct.pack('!BB', b0, 0x80 | n)
    elif n < 65536:
        head = struct.pack('!BBH', b0, 0x80 | 126, n)
    else:
        head = struct.pack('!BBQ', b0, 0x80 | 127, n)
    return head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))


def _fragmented_close_code(host, port, path, total, frag):
    """Blocking socket: send one text message of `total` bytes in `frag`-byte frames, a little apart;
    return the code of the close frame the router sends (None if none arrives)."""
    s = socket.create_connection((host, port), timeout=T)
    try:
        s.sendall(('GET {} HTTP/1.1\r\nHost: {}:{}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                   'Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n'
                   'Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n').format(
            path, host, port, base64.b64encode(os.urandom(16)).decode()).encode())
        buf = b''
        while b'\r\n\r\n' not in buf:
            d = s.recv(4096)
            if not d:
                return None
            buf += d
        if b' 101 ' not in buf.split(b'\r\n')[0]:
            return None
        buf = buf.split(b'\r\n\r\n', 1)[1]
        data = b'x' * total
        chunks = [data[i:i + frag] for i in range(0, total, frag)]
        try:
            for i, chunk in enumerate(chunks):
                s.sendall(_client_frame(1 if i == 0 else 0, chunk, fin=i == len(chunks) - 1))
                time.sleep(0.002)
        except OSError:
            pass  # the router gave up on us; its close frame is already in our receive buffer
        while True:
            while len(buf) < 2 or len(buf) < _frame_len(buf):
                try:
                    d = s.recv(65536)
                except OSError:
                    d = b''
                if not d:
                    return None
                buf += d
            n = _frame_len(buf)
            frame, buf = buf[:n], buf[n:]
            if frame[0] & 0x0f == 0x8:
                body = _payload(frame)
                return struct.unpack('!H', body[:2])[0] if len(body) >= 2 else None
    finally:
        s.close()


def _frame_len(buf):
    """Total length of the (unmasked, server) frame at the start of buf, or a large number if unknown yet."""
    if len(buf) < 2:
        return 1 << 62
    n = buf[1] & 0x7f
    if n == 126:
        return 4 + struct.unpack('!H', buf[2:4])[0] if len(buf) >= 4 else 1 << 62
    if n == 127:
        return 10 + struct.unpack('!Q', buf[2:10])[0] if len(buf) >= 10 else 1 << 62
    return 2 + n


def _payload(frame):
    n = frame[1] & 0x7f
    return frame[2:] if n < 126 else frame[4:] if n == 126 else frame[10:]


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

    async def test_exact_limit(self):
        # LIMIT bytes is "not over the limit"; LIMIT + 1 is
        r = await RawWamp.joined('json', url=self.router.url)
        self._closers.append(r)
        empty = len(encode('json', [PUBLISH, 1, {'acknowledge': True}, 'com.conformance.size', ['']])[0])
        payload, binary = encode('json', [PUBLISH, 1, {'acknowledge': True}, 'com.conformance.size',
                                          ['x' * (LIMIT - empty)]])
        self.assertEqual(len(payload), LIMIT)
        r.ws.send(payload, binary)
        ack = await r.recv()
        self.assertEqual(ack[0], PUBLISHED, 'a message of exactly --max-message-size bytes: {!r}'.format(ack))
        payload, binary = encode('json', [PUBLISH, 2, {'acknowledge': True}, 'com.conformance.size',
                                          ['x' * (LIMIT - empty + 1)]])
        self.assertEqual(len(payload), LIMIT + 1)
        r.ws.send(payload, binary)
        with self.assertRaises(TransportClosed):
            msg = await r.recv()
            self.fail('router answered a {} byte message with {!r}'.format(LIMIT + 1, msg))
        self.assertEqual((r.ws.close_frame or (None,))[0], 1009, 'close frame {!r}'.format(r.ws.close_frame))

    async def test_fragmented_oversized_1009(self):
        # every frame is under the limit, the message is not: the limit applies to the whole message.
        # Plain sockets here: the router closes TCP right after its close frame, and a client that is still
        # writing (Autobahn sending frame after frame) may get EPIPE before it reads that close frame.
        host, port, path = split_url(self.router.url)
        loop = asyncio.get_running_loop()
        for frag, total in ((1000, 10000), (4000, 100000)):
            code = await asyncio.wait_for(
                loop.run_in_executor(None, _fragmented_close_code, host, port, path, total, frag), 2 * T)
            self.assertEqual(code, 1009, '{} bytes in {}-byte frames: close code {}'.format(total, frag, code))

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


@each_serializer
class StrictRequestIdTests(WampCases):
    """A second router with --strict-request-ids: client request ids must be 1, 2, 3, ... per session."""

    router = None

    @classmethod
    def setUpClass(cls):
        cls.router = RouterProcess(realms=[REALM], extra_args=['--strict-request-ids']).start()

    @classmethod
    def tearDownClass(cls):
        cls.router.stop()

    async def test_autobahn_works_in_strict_mode(self):
        url = self.router.url
        a = await self.session(url=url)
        b = await self.session(url=url)
        proc, topic = uri(), uri()
        got = asyncio.Queue()
        await asyncio.wait_for(a.register(lambda x: x * 2, proc), T)
        await asyncio.wait_for(a.subscribe(lambda x: got.put_nowait(x), topic), T)
        for i in range(5):
            self.assertEqual(await asyncio.wait_for(b.call(proc, i), T), 2 * i)
            b.publish(topic, i)
            await asyncio.wait_for(b.publish(topic, -i, options=PublishOptions(acknowledge=True)), T)
        events = [await asyncio.wait_for(got.get(), T) for _ in range(10)]
        self.assertEqual(events, [x for i in range(5) for x in (i, -i)])
        await self.assertAppError(b.call(uri()), 'wamp.error.no_such_procedure')
        self.assertFalse(a.left.done() or b.left.done())

    async def test_non_sequential_id_aborts(self):
        url = self.router.url
        cases = [
            ([CALL, 3, {}, 'com.conformance.p'], 'skips 2'),
            ([CALL, 1, {}, 'com.conformance.p'], 'repeats 1'),
            ([SUBSCRIBE, 7, {}, 'com.conformance.t'], 'jumps'),
        ]
        for msg, what in cases:
            bystander = await self.session(url=url)
            r = await RawWamp.joined(self.SER, url=url)
            self._closers.append(r)
            r.send([REGISTER, 1, {}, uri()])
            await r.expect(REGISTERED)
            r.send(msg)
            a = await r.recv()
            self.assertEqual(a[0], ABORT, '{} ({}): {!r}'.format(msg, what, a))
            self.assertEqual(a[2], 'wamp.error.protocol_violation')
            self.assertIn('request id', a[1].get('message', '').lower(), a)
            with self.assertRaises(TransportClosed):
                await r.recv()
            proc = uri()
            await asyncio.wait_for(bystander.register(lambda: 1, proc), T)
            self.assertEqual(await asyncio.wait_for(bystander.call(proc), T), 1)

    async def test_ids_restart_for_each_session(self):
        r = await RawWamp.joined(self.SER, url=self.router.url)
        self._closers.append(r)
        r.send([SUBSCRIBE, 1, {}, uri()])
        await r.expect(SUBSCRIBED)
        r.send([PUBLISH, 2, {}, uri()])  # unacknowledged PUBLISH uses an id too
        r.send([SUBSCRIBE, 3, {}, uri()])
        await r.expect(SUBSCRIBED)
        r.send([GOODBYE, {}, 'wamp.close.close_realm'])
        await r.expect(GOODBYE)
        await r.hello(REALM)
        r.send([SUBSCRIBE, 1, {}, uri()])
        m = await r.recv()
        self.assertEqual(m[0], SUBSCRIBED, 'a new session starts again at request id 1: {!r}'.format(m))
