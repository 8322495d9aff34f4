"""A universal listener: WebSocket and RawSocket on one TCP port, told apart by the first byte
(0x7F = RawSocket), with plain HTTP answered on the same port (404 / 426)."""

import asyncio
import subprocess
import tempfile
import time
import socket

from autobahn.wamp.types import PublishOptions

from harness import BIN, REALM, T, WampCases, connect, free_port, single, uri


async def http_status(port, request):
    r, w = await asyncio.open_connection('127.0.0.1', port)
    w.write(request)
    line = await asyncio.wait_for(r.readline(), T)
    w.close()
    return int(line.split()[1])


@single
class UniversalTests(WampCases):

    async def asyncSetUp(self):
        self.port = free_port()
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([BIN, '--listen', 'universal://127.0.0.1:%d/ws' % self.port,
                                      '--realm', REALM], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(('127.0.0.1', self.port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError('universal listener did not start')
                time.sleep(0.05)
        self.ws = 'ws://127.0.0.1:%d/ws' % self.port
        self.rs = 'rs://127.0.0.1:%d' % self.port

    async def asyncTearDown(self):
        self.proc.terminate()
        self.proc.wait(10)

    async def test_websocket_json_and_rawsocket_msgpack_on_one_port(self):
        ws = await connect('json', url=self.ws)
        rs = await connect('msgpack', url=self.rs)
        try:
            self.assertEqual(rs.ws.__class__.__name__, '_WampRawSocketClientProtocol')
            proc, topic = uri(), uri()
            await rs.register(lambda b: b + b'\xff', proc)
            self.assertEqual(await ws.call(proc, b'\x00\x01'), b'\x00\x01\xff')
            got = asyncio.get_running_loop().create_future()
            await ws.subscribe(lambda p: got.done() or got.set_result(p), topic)
            await rs.publish(topic, b'\x10\x20', options=PublishOptions(acknowledge=True))
            self.assertEqual(await asyncio.wait_for(got, T), b'\x10\x20')
        finally:
            await ws.close()
            await rs.close()

    async def test_plain_http_is_answered_on_the_same_port(self):
        self.assertEqual(await http_status(self.port, b'GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n'), 404)
        # a loopback universal port serves the admin routes too
        self.assertEqual(await http_status(self.port, b'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'), 200)
        self.assertEqual(await http_status(self.port, b'GET /ws HTTP/1.1\r\nHost: x\r\n\r\n'), 426)

    async def test_garbage_first_bytes_close_only_that_connection(self):
        r, w = await asyncio.open_connection('127.0.0.1', self.port)
        w.write(b'\x16\x03\x01\x02\x00 not http, not rawsocket\r\n\r\n')
        reply = await asyncio.wait_for(r.read(), T)
        self.assertEqual(reply[:12], b'HTTP/1.1 400')
        w.close()
        s = await connect('msgpack', url=self.rs)  # the port still serves
        await s.close()
