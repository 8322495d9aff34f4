"""WAMP RawSocket at the octet level (plain asyncio streams, no Autobahn): handshake, errors, framing.

WP advanced/transport_rawsocket.md; /work/shared/reference/wamp-protocol.md section 3.2.
  client handshake  7F  LLLL SSSS  00 00    (receive limit 2^(9+L); serializer 1 JSON, 2 MessagePack)
  router reply      7F  LLLL SSSS  00 00    (its own limit, serializer echoed)
  router error      7F  EEEE 0000  00 00    (E: 1 serializer unsupported, 2 length unacceptable,
                                             3 reserved bits used, 4 connection count reached)
  frame             RRRR XTTT  +  24-bit length (T: 0 message, 1 PING, 2 PONG; X: 25th length bit)

RawSocketTests_rs / RawSocketTests_unix use the main router (JUNCTION_RS / JUNCTION_UNIX, default limit
16 MiB -> L = 15). RawSocketLimitTests_* start a router with ?max-message-size=65536 (L = 7);
RawSocketLimitVariantsTests one with --max-message-size 4096 and a listener of its own at 1000.

Bad input must close that connection only: every bad case checks two bystander sessions (a JSON callee
on the same transport, a MessagePack caller over WebSocket) still talk to each other.
"""

import asyncio
import json
import os
import re

from autobahn.wamp.types import PublishOptions

from harness import (ABORT, CLIENT_ROLES, GOODBYE, HELLO, PUBLISH, PUBLISHED, REALM, REGISTER, REGISTERED, SUBSCRIBE,
                     SUBSCRIBED, T, WELCOME, RouterProcess, WampCases, address, decode, each_transport, encode,
                     make_case, open_stream, rs_frame, rs_handshake, rs_header, uri)

RS_TRANSPORTS = ('rs', 'unix')
MESSAGE, PING, PONG = 0, 1, 2
ERR_SERIALIZER = bytes([0x7F, 0x10, 0, 0])
ERR_RESERVED = bytes([0x7F, 0x30, 0, 0])
QUIET = 0.3  # how long "nothing more arrives" is watched


def hx(b):
    return bytes(b).hex(' ') if b else '(nothing)'


class Stream:
    """One plain connection to a RawSocket listener: exact octets out, frames or octets in."""

    def __init__(self, reader, writer, url):
        self.reader = reader
        self.writer = writer
        self.url = url
        self.sent = bytearray()

    @classmethod
    async def open(cls, url):
        reader, writer = await open_stream(url)
        return cls(reader, writer, url)

    def write(self, data):
        self.sent += data
        self.writer.write(data)

    async def read_exactly(self, n, what, timeout=None):
        try:
            return await asyncio.wait_for(self.reader.readexactly(n), timeout or T)
        except asyncio.IncompleteReadError as e:
            raise AssertionError('{}: router closed the connection after {} ({} of {} octets); sent {}'.format(
                what, hx(e.partial), len(e.partial), n, hx(self.sent[:64]))) from None
        except asyncio.TimeoutError:
            raise AssertionError('{}: nothing within {}s; sent {}'.format(what, timeout or T,
                                                                          hx(self.sent[:64]))) from None

    async def handshake(self, ser='json', length_exp=15):
        self.write(rs_handshake(ser, length_exp))
        return await self.read_exactly(4, 'handshake reply')

    async def read_frame(self, what='frame', timeout=None):
        """(type, payload) of the next frame; fails on reserved header bits."""
        head = await self.read_exactly(4, what + ' header', timeout)
        if head[0] & 0xF0 or head[0] & 0x07 > PONG:
            raise AssertionError('{}: router sent a frame header with reserved bits: {}'.format(what, hx(head)))
        n = int.from_bytes(head[1:], 'big') | ((head[0] & 0x08) << 21)
        return head[0] & 0x07, await self.read_exactly(n, what + ' payload', timeout)

    async def read_message(self, ser, what='message', timeout=None):
        ftype, payload = await self.read_frame(what, timeout)
        if ftype != MESSAGE:
            raise AssertionError('{}: expected a message frame (type 0), got type {} with {}'.format(
                what, ftype, hx(payload[:64])))
        return decode(ser, payload)

    def send_msg(self, ser, msg):
        self.write(rs_frame(MESSAGE, encode(ser, msg)[0]))

    async def hello(self, ser):
        self.send_msg(ser, [HELLO, REALM, {'roles': CLIENT_ROLES}])
        w = await self.read_message(ser, 'reply to HELLO')
        if w[0] != WELCOME:
            raise AssertionError('expected WELCOME, got {!r}'.format(w))
        return w

    async def read_until_closed(self, what, timeout=None):
        """Every octet the router sends until it closes; fails if it keeps the connection open."""
        got = bytearray()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout or T)
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError('{}: the router did not close the connection within {}s (sent {}, received '
                                     '{})'.format(what, timeout or T, hx(self.sent[:64]), hx(got[:64])))
            try:
                data = await asyncio.wait_for(self.reader.read(65536), left)
            except asyncio.TimeoutError:
                continue
            except (ConnectionResetError, BrokenPipeError):
                return bytes(got)
            if not data:
                return bytes(got)
            got += data

    async def expect_nothing(self, seconds=QUIET):
        try:
            data = await asyncio.wait_for(self.reader.read(65536), seconds)
        except asyncio.TimeoutError:
            return
        raise AssertionError('expected no data and an open connection, got {}'.format(
            hx(data[:64]) if data else 'the connection closed'))

    async def close(self):
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 1)
        except Exception:
            pass


def split_frames(data):
    """Frames (type, payload) in data; raises on a truncated or reserved-bit frame."""
    frames = []
    i = 0
    while i < len(data):
        head = data[i:i + 4]
        if len(head) < 4 or head[0] & 0xF0 or head[0] & 0x07 > PONG:
            raise AssertionError('not a well-formed RawSocket frame at offset {}: {}'.format(i, hx(data[i:i + 16])))
        n = int.from_bytes(head[1:], 'big') | ((head[0] & 0x08) << 21)
        if len(data) < i + 4 + n:
            raise AssertionError('truncated frame at offset {}: {}'.format(i, hx(data[i:i + 16])))
        frames.append((head[0] & 0x07, data[i + 4:i + 4 + n]))
        i += 4 + n
    return frames


def publish_of_size(ser, size, request=1, topic='com.conformance.size'):
    """A PUBLISH (acknowledge) whose serialized form is exactly `size` octets."""
    def make(k):
        return encode(ser, [PUBLISH, request, {'acknowledge': True}, topic, ['x' * k]])[0]
    k = max(0, size - len(make(0)))
    for _ in range(8):  # msgpack string headers grow with k
        n = len(make(k))
        if n == size:
            return make(k)
        k += size - n
    raise ValueError('cannot build a PUBLISH of exactly {} octets'.format(size))


class RawSocketBase(WampCases):
    """Shared plumbing; TRANSPORT is 'rs' or 'unix'. url() is the listener under test."""

    TRANSPORT = 'rs'

    def url(self):
        return address(self.TRANSPORT)

    def ws_url(self):
        return address('ws')

    async def stream(self, url=None):
        s = await Stream.open(url or self.url())
        self._closers.append(s)
        return s

    async def bystanders(self):
        """A JSON callee on this transport and a MessagePack caller over WebSocket, with a procedure."""
        callee = await self.session('json', url=self.url())
        caller = await self.session('msgpack', url=self.ws_url())
        proc = uri('com.conformance.bystander')
        await asyncio.wait_for(callee.register(lambda x: ['echo', x], proc), T)
        return callee, caller, proc

    async def check_bystanders(self, b, what=''):
        callee, caller, proc = b
        for s in (callee, caller):
            self.assertFalse(s.left.done(), '{}: a bystander session was ended'.format(what))
        self.assertEqual(await asyncio.wait_for(caller.call(proc, what), T), ['echo', what], what)
        # and a fresh RawSocket connection still gets through the handshake and joins
        fresh = await self.stream()
        self.assertEqual((await fresh.handshake('msgpack'))[0], 0x7F, what)
        await fresh.hello('msgpack')
        await fresh.close()

    async def closed_with_optional_abort(self, s, ser, what):
        """After a fatal frame: the router may send one ABORT (protocol_violation) as a message frame, then
        must close; nothing else."""
        data = await s.read_until_closed(what)
        frames = split_frames(data)
        if not frames:
            return None
        self.assertEqual(len(frames), 1, '{}: more than an ABORT before the close: {}'.format(what, hx(data[:200])))
        ftype, payload = frames[0]
        self.assertEqual(ftype, MESSAGE, '{}: {}'.format(what, hx(data[:64])))
        msg = decode(ser, payload)
        self.assertEqual(msg[0], ABORT, '{}: router sent {!r} before closing'.format(what, msg))
        self.assertEqual(msg[2], 'wamp.error.protocol_violation', '{}: {!r}'.format(what, msg))
        return msg


class RawSocketTests(RawSocketBase):

    # --- handshake -------------------------------------------------------------------------------

    async def test_handshake_reply_json(self):
        s = await self.stream()
        reply = await s.handshake('json')
        self.assertEqual(hx(reply), hx(b'\x7f\xf1\x00\x00'), 'default limit 16 MiB (L=15), serializer 1 echoed')
        await s.expect_nothing(0.1)

    async def test_handshake_reply_msgpack(self):
        s = await self.stream()
        reply = await s.handshake('msgpack')
        self.assertEqual(hx(reply), hx(b'\x7f\xf2\x00\x00'), 'default limit 16 MiB (L=15), serializer 2 echoed')
        await s.expect_nothing(0.1)

    async def test_reply_independent_of_client_limit(self):
        # the client's L is what the client can receive; the router answers with its own limit
        for exp in (0, 7, 15):
            s = await self.stream()
            reply = await s.handshake('json', exp)
            self.assertEqual(hx(reply), hx(b'\x7f\xf1\x00\x00'), 'client L={}'.format(exp))
            await s.close()

    async def test_hello_welcome_json(self):
        await self._hello_welcome('json')

    async def test_hello_welcome_msgpack(self):
        await self._hello_welcome('msgpack')

    async def _hello_welcome(self, ser):
        s = await self.stream()
        await s.handshake(ser)
        w = await s.hello(ser)
        self.assertEqual(len(w), 3, w)
        self.assertIdRange(w[1], 'WELCOME.Session')
        self.assertIn('broker', w[2].get('roles', {}))
        s.send_msg(ser, [SUBSCRIBE, 1, {}, uri()])
        m = await s.read_message(ser, 'reply to SUBSCRIBE')
        self.assertEqual(m[:2], [SUBSCRIBED, 1], m)
        s.send_msg(ser, [GOODBYE, {}, 'wamp.close.close_realm'])
        g = await s.read_message(ser, 'reply to GOODBYE')
        self.assertEqual(g[0], GOODBYE, g)
        self.assertEqual(g[2], 'wamp.close.goodbye_and_out')
        # the connection outlives the session: a new HELLO on it works
        w2 = await s.hello(ser)
        self.assertNotEqual(w2[1], w[1])

    async def test_handshake_and_hello_in_one_write(self):
        s = await self.stream()
        s.write(rs_handshake('json') + rs_frame(MESSAGE, encode('json', [HELLO, REALM, {'roles': CLIENT_ROLES}])[0]))
        self.assertEqual(hx(await s.read_exactly(4, 'handshake reply')), hx(b'\x7f\xf1\x00\x00'))
        w = await s.read_message('json', 'reply to HELLO')
        self.assertEqual(w[0], WELCOME, w)

    async def test_handshake_and_frames_split_into_single_octets(self):
        s = await self.stream()
        for b in rs_handshake('msgpack'):
            s.write(bytes([b]))
            await asyncio.sleep(0.01)
        self.assertEqual(hx(await s.read_exactly(4, 'handshake reply')), hx(b'\x7f\xf2\x00\x00'))
        for b in rs_frame(MESSAGE, encode('msgpack', [HELLO, REALM, {'roles': CLIENT_ROLES}])[0]):
            s.write(bytes([b]))
            await asyncio.sleep(0.002)
        w = await s.read_message('msgpack', 'reply to HELLO')
        self.assertEqual(w[0], WELCOME, w)

    # --- PING / PONG -----------------------------------------------------------------------------

    async def test_ping_before_hello(self):
        s = await self.stream()
        await s.handshake('json')
        s.write(rs_frame(PING, b'junction-ping'))
        self.assertEqual(await s.read_frame('reply to PING'), (PONG, b'junction-ping'))
        await s.expect_nothing(0.1)
        await s.hello('json')  # the PING did not disturb the session start

    async def test_ping_in_session(self):
        s = await self.stream()
        await s.handshake('msgpack')
        await s.hello('msgpack')
        blob = os.urandom(4000)
        for payload in (b'', b'\x00', blob, b'\x7f\xf1\x00\x00'):
            s.write(rs_frame(PING, payload))
            self.assertEqual(await s.read_frame('reply to PING of {} octets'.format(len(payload))), (PONG, payload))
        # pipelined: three PINGs in one write -> three PONGs, in order, exactly one each
        s.write(b''.join(rs_frame(PING, b'p%d' % i) for i in range(3)))
        for i in range(3):
            self.assertEqual(await s.read_frame('PONG {}'.format(i)), (PONG, b'p%d' % i))
        await s.expect_nothing(0.1)

    async def test_ping_between_messages(self):
        s = await self.stream()
        await s.handshake('json')
        await s.hello('json')
        s.write(rs_frame(PING, b'a') + rs_frame(MESSAGE, encode('json', [SUBSCRIBE, 1, {}, uri()])[0])
                + rs_frame(PING, b'b'))
        frames = [await s.read_frame('frame {}'.format(i)) for i in range(3)]
        pongs = [p for t, p in frames if t == PONG]
        msgs = [json.loads(p) for t, p in frames if t == MESSAGE]
        self.assertEqual(pongs, [b'a', b'b'], frames)
        self.assertEqual(len(msgs), 1, frames)
        self.assertEqual(msgs[0][:2], [SUBSCRIBED, 1])

    async def test_unsolicited_pong_ignored(self):
        s = await self.stream()
        await s.handshake('json')
        await s.hello('json')
        s.write(rs_frame(PONG, b'nobody asked'))
        s.send_msg('json', [SUBSCRIBE, 1, {}, uri()])
        m = await s.read_message('json', 'reply to SUBSCRIBE after an unsolicited PONG')
        self.assertEqual(m[:2], [SUBSCRIBED, 1], m)

    # --- bad handshakes --------------------------------------------------------------------------

    async def test_wrong_magic_closed_without_reply(self):
        b = await self.bystanders()
        for hs in (b'\x7e\xf1\x00\x00', b'\x00\xf1\x00\x00', b'\xff\xf2\x00\x00', b'\x17\x01\x00\x00'):
            s = await self.stream()
            s.write(hs)
            got = await s.read_until_closed('handshake {}'.format(hx(hs)))
            self.assertEqual(hx(got), hx(b''), 'handshake {}: the router must close without a reply'.format(hx(hs)))
        await self.check_bystanders(b, 'after wrong magic')

    async def test_garbage_closed_without_reply(self):
        b = await self.bystanders()
        cases = [b'GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\r\n',
                 b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' + os.urandom(32),  # a TLS ClientHello start
                 b'\x00' * 64,
                 bytes([0x80]) + os.urandom(200)]
        for data in cases:
            s = await self.stream()
            s.write(data)
            got = await s.read_until_closed('garbage {}'.format(hx(data[:16])))
            self.assertEqual(hx(got), hx(b''), 'garbage {}: close without a reply'.format(hx(data[:16])))
        await self.check_bystanders(b, 'after garbage handshakes')

    async def test_unsupported_serializer(self):
        b = await self.bystanders()
        for ser_id in (0, 4, 5, 15):
            for exp in (15, 0):
                hs = bytes([0x7F, (exp << 4) | ser_id, 0, 0])
                s = await self.stream()
                s.write(hs)
                got = await s.read_until_closed('handshake {}'.format(hx(hs)))
                self.assertEqual(hx(got), hx(ERR_SERIALIZER),
                                 'handshake {} (serializer {}): want error 1 "serializer unsupported", then close'
                                 .format(hx(hs), ser_id))
        await self.check_bystanders(b, 'after unsupported serializers')

    async def test_reserved_bytes(self):
        b = await self.bystanders()
        for hs in (b'\x7f\xf1\x01\x00', b'\x7f\xf1\x00\x01', b'\x7f\xf2\xff\xff', b'\x7f\x72\x80\x00'):
            s = await self.stream()
            s.write(hs)
            got = await s.read_until_closed('handshake {}'.format(hx(hs)))
            self.assertEqual(hx(got), hx(ERR_RESERVED),
                             'handshake {}: want error 3 "use of reserved bits", then close'.format(hx(hs)))
        await self.check_bystanders(b, 'after reserved handshake bytes')

    async def test_close_mid_handshake_and_mid_frame(self):
        b = await self.bystanders()
        s = await self.stream()
        s.write(b'\x7f\xf1')
        await asyncio.sleep(0.05)
        await s.close()
        s = await self.stream()
        await s.handshake('json')
        s.write(rs_header(MESSAGE, 100) + b'[1, "realm1", {')
        await asyncio.sleep(0.05)
        await s.close()
        s = await self.stream()
        await s.handshake('json')
        await s.hello('json')
        s.write(rs_header(MESSAGE, 1000) + b'[48, 1, {}')
        await asyncio.sleep(0.05)
        await s.close()
        await self.check_bystanders(b, 'after connections closed half-way')

    # --- bad frames ------------------------------------------------------------------------------

    async def test_reserved_frame_type_closes(self):
        b = await self.bystanders()
        for head in (b'\x03\x00\x00\x00', b'\x07\x00\x00\x00', b'\x10\x00\x00\x02', b'\x80\x00\x00\x02',
                     b'\x40\x00\x00\x00'):
            for joined in (False, True):
                what = 'frame header {} {} HELLO'.format(hx(head), 'after' if joined else 'before')
                s = await self.stream()
                await s.handshake('json')
                if joined:
                    await s.hello('json')
                s.write(head + b'[]')
                await self.closed_with_optional_abort(s, 'json', what)
        await self.check_bystanders(b, 'after reserved frame types')

    async def test_registration_disposed_after_bad_frame(self):
        b = await self.bystanders()
        s = await self.stream()
        await s.handshake('msgpack')
        await s.hello('msgpack')
        proc = uri()
        s.send_msg('msgpack', [REGISTER, 1, {}, proc])
        m = await s.read_message('msgpack', 'reply to REGISTER')
        self.assertEqual(m[:2], [REGISTERED, 1], m)
        s.write(b'\x05\x00\x00\x00')
        await self.closed_with_optional_abort(s, 'msgpack', 'frame type 5 in a session')
        callee, caller, _ = b
        for _ in range(40):
            try:
                await asyncio.wait_for(caller.call(proc), T)
            except Exception as e:
                self.assertEqual(getattr(e, 'error', None), 'wamp.error.no_such_procedure', repr(e))
                break
            await asyncio.sleep(0.05)
        else:
            self.fail('the registration of a connection closed for a bad frame survived')
        await self.check_bystanders(b, 'after a bad frame in a session')

    async def test_length_over_16mib_closes(self):
        # X bit with a non-zero 24-bit length announces 2^24 + 1 octets: more than the 16 MiB default
        b = await self.bystanders()
        for joined in (False, True):
            s = await self.stream()
            await s.handshake('json')
            if joined:
                await s.hello('json')
            s.write(b'\x08\x00\x00\x01')
            await self.closed_with_optional_abort(s, 'json', 'header 08 00 00 01 {} HELLO'.format(
                'after' if joined else 'before'))
        await self.check_bystanders(b, 'after a 2^24+1 header')

    async def test_exactly_16mib_message_accepted(self):
        # a payload of exactly 2^24 octets is written with the X bit and 24 zero length bits
        s = await self.stream()
        await s.handshake('json')
        await s.hello('json')
        payload = publish_of_size('json', 1 << 24, request=7)
        s.write(rs_header(MESSAGE, 1 << 24))
        s.write(payload)
        m = await s.read_message('json', 'reply to a 16 MiB PUBLISH (header 08 00 00 00)', timeout=max(T, 10))
        self.assertEqual(m[:2], [PUBLISHED, 7], m)

    async def test_malformed_message_aborts(self):
        b = await self.bystanders()
        for ser, payload, joined in (('json', b'[]', False), ('json', b'[]', True), ('msgpack', b'\x90', False),
                                     ('json', b'{not json', True), ('msgpack', b'\xc1', True)):
            what = '{} message {} {} HELLO'.format(ser, hx(payload), 'after' if joined else 'before')
            s = await self.stream()
            await s.handshake(ser)
            if joined:
                await s.hello(ser)
            s.write(rs_frame(MESSAGE, payload))
            data = await s.read_until_closed(what)
            frames = split_frames(data)
            self.assertEqual(len(frames), 1, '{}: want exactly one ABORT frame, then close; got {}'.format(
                what, hx(data[:200])))
            ftype, body = frames[0]
            self.assertEqual(ftype, MESSAGE, '{}: ABORT must be a message frame (type 0): {}'.format(what, hx(data)))
            msg = decode(ser, body)
            self.assertEqual(msg[0], ABORT, '{}: {!r}'.format(what, msg))
            self.assertIsInstance(msg[1], dict, msg)
            self.assertIsInstance(msg[1].get('message'), str, msg)
            self.assertEqual(msg[2], 'wamp.error.protocol_violation', '{}: {!r}'.format(what, msg))
        await self.check_bystanders(b, 'after malformed messages')

    async def test_router_respects_client_limit(self):
        # the client announces L=1: it takes messages of at most 1024 octets. The router must never send it a
        # longer one (dropping the event or ending the connection are both allowed; sending it is not).
        # (Not L=0: WELCOME, with the broker's and dealer's feature announcements, is over 512 octets.)
        b = await self.bystanders()
        s = await self.stream()
        self.assertEqual(hx(await s.handshake('json', 1)), hx(b'\x7f\xf1\x00\x00'))
        await s.hello('json')
        topic = uri()
        s.send_msg('json', [SUBSCRIBE, 1, {}, topic])
        self.assertEqual((await s.read_message('json', 'reply to SUBSCRIBE'))[:2], [SUBSCRIBED, 1])
        pub = await self.session('msgpack', url=self.ws_url())
        await asyncio.wait_for(pub.publish(topic, 'small', options=PublishOptions(acknowledge=True)), T)
        ev = await s.read_message('json', 'a small EVENT')
        self.assertEqual(ev[4], ['small'])
        await asyncio.wait_for(pub.publish(topic, 'y' * 2000, options=PublishOptions(acknowledge=True)), T)
        try:
            head = await asyncio.wait_for(s.reader.readexactly(4), QUIET * 2)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionResetError):
            head = None  # dropped, or the connection ended: both fine
        if head is not None:
            n = int.from_bytes(head[1:], 'big') | ((head[0] & 0x08) << 21)
            self.assertLessEqual(n, 1024, 'router sent a frame of {} octets (header {}) to a client that announced '
                                          '1024 (handshake 7f 11 00 00)'.format(n, hx(head)))
        await self.check_bystanders(b, 'after an event over a client limit')

    async def test_autobahn_rawsocket_session(self):
        # Autobahn's own RawSocket client on this listener, both serializers, one call between them
        a = await self.session('json', url=self.url())
        m = await self.session('msgpack', url=self.url())
        self.assertEqual((a.serializer_id, m.serializer_id), ('json', 'msgpack'))
        proc = uri()
        await asyncio.wait_for(a.register(lambda x: x * 3, proc), T)
        self.assertEqual(await asyncio.wait_for(m.call(proc, 14), T), 42)


RawSocketTests = each_transport(RawSocketTests, transports=RS_TRANSPORTS)


# ---------------------------------------------------------------------------------------------
# routers with a limit below the default
# ---------------------------------------------------------------------------------------------

LIMIT = 65536  # 2^16 -> L = 7


class RawSocketLimitTests(RawSocketBase):
    """A router with --listen rs://127.0.0.1:0?max-message-size=65536 (and the same on a Unix socket)."""

    router = None

    @classmethod
    def setUpClass(cls):
        cls.router = RouterProcess(realms=[REALM], listen=[
            'ws://127.0.0.1:0/ws',
            'rs://127.0.0.1:0?max-message-size={}'.format(LIMIT),
            'unix:{{tmp}}/limit.sock?max-message-size={}'.format(LIMIT)]).start()

    @classmethod
    def tearDownClass(cls):
        cls.router.stop()

    def url(self):
        return self.router.urls[self.TRANSPORT]

    def ws_url(self):
        return self.router.urls['ws']

    async def test_handshake_advertises_limit(self):
        for ser, want in (('json', b'\x7f\x71\x00\x00'), ('msgpack', b'\x7f\x72\x00\x00')):
            s = await self.stream()
            self.assertEqual(hx(await s.handshake(ser)), hx(want),
                             '{}: max-message-size=65536 -> L=7 (2^16)'.format(ser))
            await s.close()

    async def test_message_at_limit_accepted(self):
        for ser in ('json', 'msgpack'):
            s = await self.stream()
            await s.handshake(ser)
            await s.hello(ser)
            payload = publish_of_size(ser, LIMIT, request=3)
            self.assertEqual(len(payload), LIMIT)
            s.write(rs_frame(MESSAGE, payload))
            m = await s.read_message(ser, '{}: reply to a PUBLISH of exactly {} octets'.format(ser, LIMIT))
            self.assertEqual(m[:2], [PUBLISHED, 3], m)

    async def test_header_over_limit_closes_before_payload(self):
        b = await self.bystanders()
        for ser in ('json', 'msgpack'):
            for joined in (False, True):
                what = '{}: header announcing {} octets {} HELLO (payload never sent)'.format(
                    ser, LIMIT + 1, 'after' if joined else 'before')
                s = await self.stream()
                await s.handshake(ser)
                if joined:
                    await s.hello(ser)
                s.write(rs_header(MESSAGE, LIMIT + 1))
                await self.closed_with_optional_abort(s, ser, what)
        await self.check_bystanders(b, 'after over-limit headers')

    async def test_over_limit_disposes_session(self):
        b = await self.bystanders()
        s = await self.stream()
        await s.handshake('json')
        await s.hello('json')
        proc = uri()
        s.send_msg('json', [REGISTER, 1, {}, proc])
        self.assertEqual((await s.read_message('json'))[:2], [REGISTERED, 1])
        s.write(rs_header(MESSAGE, 10 * LIMIT) + b'[16, 1, {}, "x"')
        await self.closed_with_optional_abort(s, 'json', 'header of {} octets in a session'.format(10 * LIMIT))
        other = await self.session('msgpack', url=self.ws_url())
        for _ in range(40):
            try:
                await asyncio.wait_for(other.call(proc), T)
            except Exception as e:
                self.assertEqual(getattr(e, 'error', None), 'wamp.error.no_such_procedure', repr(e))
                break
            await asyncio.sleep(0.05)
        else:
            self.fail('the registration of a connection closed for an oversized frame survived')
        await self.check_bystanders(b, 'after an oversized frame in a session')

    async def test_over_limit_is_logged(self):
        before = len(self.router.output().splitlines())
        s = await self.stream()
        await s.handshake('json')
        s.write(rs_header(MESSAGE, LIMIT + 1))
        await self.closed_with_optional_abort(s, 'json', 'header announcing {} octets'.format(LIMIT + 1))
        pattern = re.compile(r'{}|{}|limit|too (large|big|long)|max'.format(LIMIT + 1, LIMIT), re.I)
        for _ in range(20):
            new = self.router.output().splitlines()[before:]
            if any(pattern.search(line) for line in new):
                return
            await asyncio.sleep(0.05)
        self.fail('no log line about the oversized frame; new log lines: {!r}'.format(new[-10:]))


for _t in RS_TRANSPORTS:
    globals()['RawSocketLimitTests_' + _t] = make_case(RawSocketLimitTests, 'RawSocketLimitTests_' + _t,
                                                        {'TRANSPORT': _t})


class RawSocketLimitVariantsBase(RawSocketBase):
    """--max-message-size 4096 for every listener, and a Unix listener with ?max-message-size=1000 of its own:
    the router advertises the largest 2^(9+L) <= N (4096 -> L=3, 1000 -> L=0 i.e. 512) but enforces N."""

    router = None

    @classmethod
    def setUpClass(cls):
        cls.router = RouterProcess(realms=[REALM], extra_args=['--max-message-size', '4096'], listen=[
            'ws://127.0.0.1:0/ws', 'rs://127.0.0.1:0', 'unix:{tmp}/small.sock?max-message-size=1000']).start()

    @classmethod
    def tearDownClass(cls):
        cls.router.stop()

    def ws_url(self):
        return self.router.urls['ws']

    async def _check(self, url, limit, reply):
        b = await self.stream(url)
        self.assertEqual(hx(await b.handshake('json')), hx(reply), '{} with a limit of {}'.format(url, limit))
        await b.hello('json')
        b.write(rs_frame(MESSAGE, publish_of_size('json', limit, request=1)))
        m = await b.read_message('json', 'reply to a PUBLISH of exactly {} octets on {}'.format(limit, url))
        self.assertEqual(m[:2], [PUBLISHED, 1], m)
        b.write(rs_header(MESSAGE, limit + 1))
        await self.closed_with_optional_abort(b, 'json', 'header announcing {} octets on {}'.format(limit + 1, url))
        # the other listeners are unaffected
        s = await self.session('msgpack', url=self.ws_url())
        await asyncio.wait_for(s.publish(uri(), options=PublishOptions(acknowledge=True)), T)

    async def test_global_limit_on_rawsocket(self):
        await self._check(self.router.urls['rs'], 4096, b'\x7f\x31\x00\x00')

    async def test_listener_limit_not_a_power_of_two(self):
        await self._check(self.router.urls['unix'], 1000, b'\x7f\x01\x00\x00')


RawSocketLimitVariantsTests = make_case(RawSocketLimitVariantsBase, 'RawSocketLimitVariantsTests', {})
