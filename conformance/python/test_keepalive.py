"""Keepalive: the router pings idle connections (WebSocket ping, RawSocket PING) and ends those
that stop answering, so a dead client's registrations do not linger; a live client that answers
(Autobahn answers pings by itself) stays connected."""

import asyncio
import json

from harness import T, RouterProcess, WampCases, connect, single, uri, ws_frame, ws_open, ws_read

HELLO = [1, 'realm1', {'roles': {'callee': {}, 'caller': {}}}]
ARGS = ['--keepalive-interval', '200', '--keepalive-timeout', '300']


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
