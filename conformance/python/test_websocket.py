"""The WebSocket layer itself (RFC 6455), byte by byte from a bare client: the opening handshake's
refusals, every frame-level violation with its close code, fragmentation with control frames in
between, UTF-8 split across fragments, both closing handshakes. Autobahn clients cover the happy
paths everywhere else; this module covers what they never send."""

import asyncio
import base64
import json
import os
import struct

from harness import (REALM, T, WampCases, connect, http_upgrade, read_http_response, single, split_url, uri,
                     ws_frame, ws_open, ws_read)

TEXT, BINARY, CONT, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA
HELLO = [1, REALM, {'roles': {'publisher': {}, 'subscriber': {}, 'caller': {}, 'callee': {}}}]


def port_path():
    from harness import URL
    host, port, path = split_url(URL)
    return port, path


def close_frame(code=None, reason=b''):
    return ws_frame(CLOSE, b'' if code is None else struct.pack('!H', code) + reason)


async def expect_close(test, r, code, what):
    """Reads to the router's close frame: its code must be `code`; then the router ends TCP."""
    while True:
        try:
            opcode, payload = await asyncio.wait_for(ws_read(r), T)
        except asyncio.IncompleteReadError:
            test.fail('{}: the router ended TCP without a close frame (want {})'.format(what, code))
        if opcode == CLOSE:
            break
    got = struct.unpack('!H', payload[:2])[0] if len(payload) >= 2 else None
    test.assertEqual(got, code, '{}: close frame {!r}'.format(what, payload))
    # a failed connection is closed by the router without waiting for our close frame
    rest = await asyncio.wait_for(r.read(), T)
    test.assertEqual(rest, b'', '{}: bytes after the close frame'.format(what))
    return payload[2:]


async def raw_request(head_lines, body=b''):
    """Sends a raw HTTP request; returns (status, headers dict lower-case, body bytes)."""
    port, _ = port_path()
    r, w = await asyncio.open_connection('127.0.0.1', port)
    try:
        w.write(('\r\n'.join(head_lines) + '\r\n\r\n').encode('latin-1') + body)
        return await read_http_response(r)
    finally:
        w.close()


def upgrade_lines(path, **override):
    h = {'Host': 'x', 'Upgrade': 'websocket', 'Connection': 'Upgrade',
         'Sec-WebSocket-Key': base64.b64encode(os.urandom(16)).decode(), 'Sec-WebSocket-Version': '13',
         'Sec-WebSocket-Protocol': 'wamp.2.json'}
    method = override.pop('method', 'GET')
    version = override.pop('version', 'HTTP/1.1')
    for k, v in override.items():
        k = k.replace('_', '-')
        if v is None:
            h.pop(k, None)
        else:
            h[k] = v
    return ['{} {} {}'.format(method, path, version)] + ['{}: {}'.format(k, v) for k, v in h.items()]


@single
class WebSocketTests(WampCases):

    async def open(self):
        port, path = port_path()
        r, w = await ws_open(port, path)
        self._closers.append(_Closer(w))
        return r, w

    async def joined(self):
        r, w = await self.open()
        w.write(ws_frame(TEXT, json.dumps(HELLO).encode()))
        opcode, payload = await asyncio.wait_for(ws_read(r), T)
        self.assertEqual((opcode, json.loads(payload)[0]), (TEXT, 2))  # WELCOME in a text frame
        return r, w

    # -- frame-level violations: close code, then TCP closed; the router keeps serving -------------

    async def test_violations_get_their_close_code(self):
        cases = [
            ('unmasked client frame', ws_frame(TEXT, b'[1]', masked=False), 1002),
            ('RSV1 without an extension', ws_frame(TEXT, b'[1]', rsv=4), 1002),
            ('RSV3', ws_frame(BINARY, b'\x91\x01', rsv=1), 1002),
            ('reserved data opcode 3', ws_frame(3, b'x'), 1002),
            ('reserved control opcode 0xB', ws_frame(0xB, b''), 1002),
            ('ping over 125 bytes', ws_frame(PING, b'p' * 126), 1002),
            ('fragmented ping', ws_frame(PING, b'p', fin=False), 1002),
            ('continuation with nothing to continue', ws_frame(CONT, b'x'), 1002),
            ('a new message inside a fragmented one',
             ws_frame(TEXT, b'[1,', fin=False) + ws_frame(TEXT, b'2]'), 1002),
            ('text that is not UTF-8', ws_frame(TEXT, b'["\xc0\x80"]'), 1007),
            ('a surrogate in text', ws_frame(TEXT, b'["\xed\xa0\x80"]'), 1007),
            ('invalid UTF-8 in a first fragment', ws_frame(TEXT, b'["\xff', fin=False), 1007),
            ('close with a 1-byte body', ws_frame(CLOSE, b'\x03'), 1002),
            ('close code 1005 (never sent)', close_frame(1005), 1002),
            ('close code 999', close_frame(999), 1002),
            ('close code 5000', close_frame(5000), 1002),
            ('close reason not UTF-8', close_frame(1000, b'\xff'), 1007),
            ('64-bit length with the top bit set', ws_frame(BINARY, b'', length=1 << 63), 1002),
        ]
        for what, frame, code in cases:
            with self.subTest(what):
                r, w = await self.joined()
                w.write(frame)
                await expect_close(self, r, code, what)
        s = await connect('json')
        self._closers.append(s)
        self.assertGreaterEqual(await asyncio.wait_for(s.call('wamp.session.count'), T), 1)

    async def test_violation_before_hello(self):
        r, w = await self.open()
        w.write(ws_frame(TEXT, b'x', masked=False))
        await expect_close(self, r, 1002, 'unmasked frame before HELLO')

    # -- fragmentation ---------------------------------------------------------------------------

    async def test_fragmented_hello_with_a_ping_in_between(self):
        r, w = await self.open()
        hello = json.dumps(HELLO).encode()
        a, b, c = hello[:5], hello[5:11], hello[11:]
        w.write(ws_frame(TEXT, a, fin=False) + ws_frame(PING, b'mid') + ws_frame(CONT, b, fin=False))
        w.write(ws_frame(CONT, c))
        opcode, payload = await asyncio.wait_for(ws_read(r), T)
        self.assertEqual((opcode, payload), (PONG, b'mid'), 'the ping is answered before the message ends')
        opcode, payload = await asyncio.wait_for(ws_read(r), T)
        self.assertEqual(json.loads(payload)[0], 2, payload)

    async def test_utf8_split_across_fragments(self):
        r, w = await self.joined()
        topic = uri()
        w.write(ws_frame(TEXT, json.dumps([32, 1, {}, topic]).encode()))  # SUBSCRIBE
        self.assertEqual(json.loads((await ws_read(r))[1])[0], 33)
        text = 'prix: 5 € — ok'
        msg = json.dumps([16, 2, {'exclude_me': False}, topic, [text]], ensure_ascii=False).encode()
        cut = msg.index('€'.encode()) + 1  # inside the three bytes of the euro sign
        w.write(ws_frame(TEXT, msg[:cut], fin=False))
        await asyncio.sleep(0.05)  # a separate read on the router's side
        w.write(ws_frame(CONT, msg[cut:]))
        opcode, payload = await asyncio.wait_for(ws_read(r), T)
        event = json.loads(payload.decode('utf-8'))
        self.assertEqual((opcode, event[0], event[4]), (TEXT, 36, [text]))

    async def test_frames_split_into_single_bytes(self):
        r, w = await self.open()
        data = ws_frame(TEXT, json.dumps(HELLO).encode())
        for i in range(len(data)):
            w.write(data[i:i + 1])
            await w.drain()
            if i % 7 == 0:
                await asyncio.sleep(0.002)
        opcode, payload = await asyncio.wait_for(ws_read(r), T)
        self.assertEqual(json.loads(payload)[0], 2)

    async def test_hello_in_the_same_packet_as_the_request(self):
        port, path = port_path()
        r, w = await asyncio.open_connection('127.0.0.1', port)
        self._closers.append(_Closer(w))
        request = '\r\n'.join(upgrade_lines(path)) + '\r\n\r\n'
        w.write(request.encode() + ws_frame(TEXT, json.dumps(HELLO).encode()))
        head = await asyncio.wait_for(r.readuntil(b'\r\n\r\n'), T)
        self.assertTrue(head.startswith(b'HTTP/1.1 101 '), head)
        opcode, payload = await asyncio.wait_for(ws_read(r), T)
        self.assertEqual(json.loads(payload)[0], 2)

    async def test_large_binary_message_with_64_bit_length(self):
        s = await connect('msgpack')
        self._closers.append(s)
        topic = uri()
        got = asyncio.get_running_loop().create_future()
        await asyncio.wait_for(s.subscribe(lambda x: got.done() or got.set_result(x), topic), T)
        port, path = port_path()
        r, w = await ws_open(port, path, protocol='wamp.2.msgpack')
        self._closers.append(_Closer(w))
        import msgpack
        w.write(ws_frame(BINARY, msgpack.packb(HELLO)))
        self.assertEqual(msgpack.unpackb((await ws_read(r))[1])[0], 2)
        big = 'z' * 70000  # > 65535: the 64-bit length form
        w.write(ws_frame(BINARY, msgpack.packb([16, 1, {}, topic, [big]])))
        self.assertEqual(await asyncio.wait_for(got, T), big)

    # -- closing handshakes ----------------------------------------------------------------------

    async def test_peer_close_is_answered_with_its_code_then_tcp_ends(self):
        for code in (1000, 1001, 3000, 4999):
            with self.subTest(code=code):
                r, w = await self.joined()
                w.write(close_frame(code, b'bye'))
                await expect_close(self, r, code, 'close {}'.format(code))

    async def test_close_without_a_code_is_answered_1000(self):
        r, w = await self.joined()
        w.write(close_frame())
        await expect_close(self, r, 1000, 'empty close frame')

    async def test_router_close_waits_for_ours(self):
        r, w = await self.joined()
        w.write(ws_frame(TEXT, b'[1, "not", "a", "valid", "message"]'))  # a WAMP protocol violation
        opcode, payload = await asyncio.wait_for(ws_read(r), T)
        self.assertEqual(json.loads(payload)[:1] + json.loads(payload)[2:], [3, 'wamp.error.protocol_violation'])
        opcode, payload = await asyncio.wait_for(ws_read(r), T)
        self.assertEqual(opcode, CLOSE)
        self.assertEqual(struct.unpack('!H', payload[:2])[0], 1000)
        # the router waits for our answer (it does not reset the connection under our feet) ...
        with self.assertRaises(asyncio.TimeoutError):
            await asyncio.wait_for(r.read(1), 0.2)
        # ... and ends TCP once it has it
        w.write(close_frame(1000))
        self.assertEqual(await asyncio.wait_for(r.read(), T), b'')

    async def test_garbage_during_the_router_close_ends_tcp_at_once(self):
        r, w = await self.joined()
        w.write(ws_frame(TEXT, b'[1, "again"]'))  # a WAMP protocol violation: ABORT, then close 1000
        await asyncio.wait_for(ws_read(r), T)
        opcode, _ = await asyncio.wait_for(ws_read(r), T)
        self.assertEqual(opcode, CLOSE)
        t0 = asyncio.get_running_loop().time()
        w.write(ws_frame(TEXT, b'x', masked=False))  # instead of our close frame
        self.assertEqual(await asyncio.wait_for(r.read(), T), b'')
        # well before the 1 s the router would wait for a close frame
        self.assertLess(asyncio.get_running_loop().time() - t0, 0.5)

    async def test_frames_after_the_close_are_ignored(self):
        r, w = await self.joined()
        w.write(close_frame(1000) + ws_frame(TEXT, b'garbage', masked=False))
        await expect_close(self, r, 1000, 'close, then garbage')

    # -- the opening handshake -------------------------------------------------------------------

    async def test_http_refusals(self):
        _, path = port_path()
        cases = [
            ('Sec-WebSocket-Version 8', upgrade_lines(path, Sec_WebSocket_Version='8'), 426),
            ('no Sec-WebSocket-Key', upgrade_lines(path, Sec_WebSocket_Key=None), 400),
            ('a key of 15 bytes', upgrade_lines(path, Sec_WebSocket_Key=base64.b64encode(b'k' * 15).decode()), 400),
            ('a key that is not base64', upgrade_lines(path, Sec_WebSocket_Key='!' * 24), 400),
            ('POST', upgrade_lines(path, method='POST'), 405),
            ('HTTP/1.0', upgrade_lines(path, version='HTTP/1.0'), 400),
            ('no WAMP subprotocol', upgrade_lines(path, Sec_WebSocket_Protocol='chat, superchat'), 400),
            ('plain GET of the WAMP path', ['GET {} HTTP/1.1'.format(path), 'Host: x'], 426),
            ('plain GET elsewhere', ['GET /index.html HTTP/1.1', 'Host: x'], 404),
            ('garbage request line', ['HELLO'], 400),
            ('request head over 8 KiB', upgrade_lines(path, X_Filler='f' * 9000), 431),
        ]
        # A request that was read whole and answered leaves the connection open for the next one
        # (HTTP/1.1 keep-alive); a refused upgrade or a request that could not be read closes it.
        kept = ('plain GET of the WAMP path', 'plain GET elsewhere')
        for what, lines, status in cases:
            with self.subTest(what):
                got, headers, body = await raw_request(lines)
                self.assertEqual(got, status, '{}: HTTP {} {!r}'.format(what, got, body))
                self.assertEqual(headers.get('connection', '').lower(), 'keep-alive' if what in kept else 'close', what)
                if status == 426 and 'Version' in what:
                    self.assertEqual(headers.get('sec-websocket-version'), '13')
                if what == 'plain GET of the WAMP path':
                    self.assertEqual(headers.get('upgrade', '').lower(), 'websocket')

    async def test_lenient_header_forms_are_accepted(self):
        _, path = port_path()
        for what, lines in (
                ('Firefox: Connection: keep-alive, Upgrade', upgrade_lines(path, Connection='keep-alive, Upgrade')),
                ('token case', upgrade_lines(path, Upgrade='WebSocket', Connection='upgrade')),
                ('protocols over two headers', upgrade_lines(path, Sec_WebSocket_Protocol='chat') +
                 ['Sec-WebSocket-Protocol: wamp.2.msgpack'])):
            with self.subTest(what):
                status, headers, _ = await raw_request(lines)
                self.assertEqual(status, 101, what)
                if 'two headers' in what:
                    self.assertEqual(headers.get('sec-websocket-protocol'), 'wamp.2.msgpack')

    async def test_accept_key_is_rfc6455(self):
        # RFC 6455 §1.3's example key and accept value
        _, path = port_path()
        status, headers, _ = await raw_request(upgrade_lines(path, Sec_WebSocket_Key='dGhlIHNhbXBsZSBub25jZQ=='))
        self.assertEqual(status, 101)
        self.assertEqual(headers.get('sec-websocket-accept'), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=')
        self.assertEqual(headers.get('upgrade', '').lower(), 'websocket')
        self.assertNotIn('sec-websocket-extensions', headers)

    async def test_permessage_deflate_is_not_negotiated(self):
        _, path = port_path()
        status, headers, _ = await raw_request(
            upgrade_lines(path, Sec_WebSocket_Extensions='permessage-deflate; client_max_window_bits'))
        self.assertEqual(status, 101)
        self.assertNotIn('sec-websocket-extensions', headers)

    async def test_router_serves_after_refusals(self):
        await http_upgrade('/nope', ['wamp.2.json'])
        await raw_request(['BREW /pot HTTP/1.1'])
        s = await connect('json')
        self._closers.append(s)
        self.assertGreaterEqual(await asyncio.wait_for(s.call('wamp.session.count'), T), 1)


class _Closer:
    def __init__(self, writer):
        self.w = writer

    async def close(self):
        self.w.close()
