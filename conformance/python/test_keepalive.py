"""Keepalive: the router pings idle connections (WebSocket ping, RawSocket PING) and ends those
that stop answering, so a dead client's registrations do not linger; a live client that answers
(Autobahn answers pings by itself) stays connected."""

import asyncio
import base64
import json
import os
import struct

from harness import T, RouterProcess, WampCases, connect, single, uri

HELLO = [1, 'realm1', {'roles': {'callee': {}, 'caller': {}}}]
ARGS = ['--keepalive-interval', '200', '--keepalive-timeout', '300']


async def ws_open(port):
    """A bare WebSocket client on asyncio streams that never answers pings by itself."""
    r, w = await asyncio.open_connection('127.0.0.1', port)
    key = base64.b64encode(os.urandom(16)).decode()
    w.write(('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
             'Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n'
             'Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n' % key).encode())
    await asyncio.wait_for(r.readuntil(b'\r\n\r\n'), T)
    return r, w


def ws_frame(opcode, payload):
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    assert len(payload) < 126
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + body


async def ws_read(r):
    """(opcode, payload) of the next server frame; raises IncompleteReadError when closed."""
    b0, b1 = await r.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack('>H', await r.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack('>Q', await r.readexactly(8))[0]
    return b0 & 0x0F, await r.readexactly(n)


async def rs_open(path):
    r, w = await asyncio.open_unix_connection(path)
    w.write(bytes([0x7F, 0xF1, 0, 0]))
    assert await asyncio.wait_for(r.readexactly(4), T) == bytes([0x7F, 0xF1, 0, 0])
    return r, w


async def rs_read(r):
    header = await r.readexactly(4)
    n = int.from_bytes(header[1:], 'big')
    return header[0] & 0x07, await r.readexactly(n)


@single
class KeepaliveTests(WampCases):

    async def asyncSetUp(self):
        self.router = RouterProcess(extra_args=ARGS,
                                    listen=['ws://127.0.0.1:0/ws', 'unix:{tmp}/j.sock']).start()
        self.ws_url = self.router.url
        self.ws_port = int(self.ws_url.split(':')[2].split('/')[0])
        self.sock = self.router.env()['JUNCTION_UNIX']

    async def asyncTearDown(self):
        self.router.stop()

    async def test_silent_websocket_client_is_pinged_then_dropped_with_its_registration(self):
        r, w = await ws_open(self.ws_port)
        w.write(ws_frame(1, json.dumps(HELLO).encode()))
        self.assertEqual(json.loads((await ws_read(r))[1])[0], 2)  # WELCOME
        proc = uri()
        w.write(ws_frame(1, json.dumps([64, 1, {}, proc]).encode()))
        self.assertEqual(json.loads((await ws_read(r))[1])[0], 65)  # REGISTERED
        opcode, _ = await asyncio.wait_for(ws_read(r), 2)
        self.assertEqual(opcode, 0x9, 'expected a ping from the router')
        # Stay silent: the router must give up and drop the session.
        closed = False
        try:
            while True:
                opcode, _ = await asyncio.wait_for(ws_read(r), 3)
                if opcode == 0x8:
                    closed = True
                    break
        except asyncio.IncompleteReadError:
            closed = True
        self.assertTrue(closed)
        caller = await connect('json', url=self.ws_url)
        try:
            with self.assertRaises(Exception) as ctx:
                await caller.call(proc)
            self.assertIn('no_such_procedure', str(ctx.exception))
        finally:
            await caller.close()
        w.close()

    async def test_websocket_client_that_answers_pings_stays(self):
        s = await connect('json', url=self.ws_url)
        try:
            proc = uri()
            await s.register(lambda: 'alive', proc)
            await asyncio.sleep(1.5)  # five keepalive intervals, three timeouts
            self.assertEqual(await s.call(proc), 'alive')
        finally:
            await s.close()

    async def test_rawsocket_ping_then_drop_and_pong_keeps_alive(self):
        # A client that answers PING with PONG survives well past the timeout.
        r, w = await rs_open(self.sock)
        for _ in range(3):
            kind, payload = await asyncio.wait_for(rs_read(r), 2)
            self.assertEqual(kind, 1, 'expected a RawSocket PING')
            w.write(bytes([2]) + len(payload).to_bytes(3, 'big') + payload)
        w.close()
        # A silent one is dropped.
        r, w = await rs_open(self.sock)
        kind, _ = await asyncio.wait_for(rs_read(r), 2)
        self.assertEqual(kind, 1)
        with self.assertRaises(asyncio.IncompleteReadError):
            await asyncio.wait_for(rs_read(r), 3)
        w.close()
