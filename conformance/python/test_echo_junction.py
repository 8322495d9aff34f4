"""bench-echo-junction (issue 16): Junction's own WebSocket layer alone, echoing — the server the Autobahn
WebSocket test suite (wstest -m fuzzingclient) is run against. These are the suite's groups in small, with
raw frames (no WebSocket library in between): echo of text and binary at the length boundaries (1.x, 9.x),
fragmentation with interleaved control frames (5.x), pings (2.x), reserved bits and opcodes (3.x, 4.x),
UTF-8 validation including across fragments (6.x), the closing handshake and close codes (7.x).
Run against the binary next to the router's (build/bench/bench-echo-junction)."""

import asyncio
import os
import struct

from harness import BIN, REPO_ROOT, T, RouterProcess, WampCases, single, split_url, ws_frame, ws_open, ws_read


def echo_binary():
    """JUNCTION_ECHO_BIN (conformance/run sets it), else the one next to the router's build, else build/'s."""
    if os.environ.get('JUNCTION_ECHO_BIN'):
        return os.environ['JUNCTION_ECHO_BIN']
    beside = os.path.join(os.path.dirname(os.path.dirname(BIN)), 'bench', 'bench-echo-junction')
    return beside if os.path.exists(beside) else os.path.join(REPO_ROOT, 'build', 'bench', 'bench-echo-junction')


ECHO_BIN = echo_binary()
TEXT, BINARY, CLOSE, PING, PONG, CONT = 1, 2, 8, 9, 10, 0


def close_code(payload):
    return struct.unpack('!H', payload[:2])[0] if len(payload) >= 2 else None


@single
class EchoJunction(WampCases):

    async def asyncSetUp(self):
        self.server = RouterProcess(binary=ECHO_BIN, listen=['ws://127.0.0.1:0/'], realms=[]).start()
        self.port = split_url(self.server.url)[1]

    async def asyncTearDown(self):
        self.server.stop()

    async def open(self):
        return await ws_open(self.port, path='/anything', protocol='')

    async def expect_close(self, r, code):
        op, payload = await asyncio.wait_for(ws_read(r), T)
        self.assertEqual(op, CLOSE)
        self.assertEqual(close_code(payload), code, payload)
        self.assertEqual(await asyncio.wait_for(r.read(), T), b'')  # and the TCP connection ends

    async def test_text_and_binary_echo_at_the_length_boundaries(self):
        r, w = await self.open()
        for n in (0, 1, 125, 126, 127, 65535, 65536, 1 << 20):
            for op in (TEXT, BINARY):
                payload = (b'*' if op == TEXT else b'\xfe') * n
                w.write(ws_frame(op, payload))
                got_op, got = await asyncio.wait_for(ws_read(r), T)
                self.assertEqual((got_op, len(got)), (op, n))
                self.assertEqual(got, payload)
        w.write(ws_frame(CLOSE, struct.pack('!H', 1000)))
        await self.expect_close(r, 1000)

    async def test_fragments_with_pings_between_are_one_message(self):
        r, w = await self.open()
        w.write(ws_frame(TEXT, 'frag'.encode(), fin=False) + ws_frame(PING, b'p1') +
                ws_frame(CONT, ' men'.encode(), fin=False) + ws_frame(PING, b'p2') +
                ws_frame(CONT, 'ted \u00e9'.encode(), fin=True))
        self.assertEqual(await asyncio.wait_for(ws_read(r), T), (PONG, b'p1'))
        self.assertEqual(await asyncio.wait_for(ws_read(r), T), (PONG, b'p2'))
        self.assertEqual(await asyncio.wait_for(ws_read(r), T), (TEXT, 'frag mented \u00e9'.encode()))

    async def test_a_utf8_sequence_split_between_fragments_is_valid(self):
        r, w = await self.open()
        snowman = '\u2603'.encode()  # e2 98 83
        w.write(ws_frame(TEXT, snowman[:1], fin=False) + ws_frame(CONT, snowman[1:2], fin=False) +
                ws_frame(CONT, snowman[2:], fin=True))
        self.assertEqual(await asyncio.wait_for(ws_read(r), T), (TEXT, snowman))

    async def test_invalid_utf8_fails_with_1007(self):
        for frames in ([ws_frame(TEXT, b'\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited')],
                       [ws_frame(TEXT, b'ok', fin=False), ws_frame(CONT, b'\xc0\xaf', fin=True)],
                       [ws_frame(TEXT, b'\xf4\x90\x80\x80')]):
            r, w = await self.open()
            w.write(b''.join(frames))
            await self.expect_close(r, 1007)

    async def test_protocol_errors_fail_with_1002(self):
        cases = {
            'RSV bits without an extension': ws_frame(TEXT, b'x', rsv=1),
            'reserved opcode 3': ws_frame(3, b''),
            'reserved control opcode 11': ws_frame(11, b''),
            'continuation without a start': ws_frame(CONT, b'x'),
            'fragmented ping': ws_frame(PING, b'x', fin=False),
            'ping over 125 bytes': ws_frame(PING, b'x' * 126),
            'unmasked client frame': ws_frame(TEXT, b'x', masked=False),
            'new message inside a fragmented one': ws_frame(TEXT, b'a', fin=False) + ws_frame(TEXT, b'b'),
        }
        for name, data in cases.items():
            with self.subTest(name):
                r, w = await self.open()
                w.write(data)
                await self.expect_close(r, 1002)

    async def test_closing_handshake_and_close_codes(self):
        for payload, answer in ((b'', 1000), (struct.pack('!H', 1000) + b'bye', 1000),
                                (struct.pack('!H', 3000), 3000), (struct.pack('!H', 4999), 4999),
                                (struct.pack('!H', 999), 1002), (struct.pack('!H', 1005), 1002),
                                (struct.pack('!H', 1016), 1002), (struct.pack('!H', 5000), 1002),
                                (b'\x03', 1002), (struct.pack('!H', 1000) + b'\xff', 1007)):
            with self.subTest(payload=payload):
                r, w = await self.open()
                w.write(ws_frame(CLOSE, payload))
                await self.expect_close(r, answer)

    async def test_nothing_after_close_is_echoed(self):
        r, w = await self.open()
        w.write(ws_frame(CLOSE, struct.pack('!H', 1000)) + ws_frame(TEXT, b'late') + ws_frame(PING, b'late'))
        await self.expect_close(r, 1000)
