"""Per-listener connection caps: RawSocket answers the handshake over the cap with the spec's
error 4 ("maximum connection count reached"), WebSocket refuses the upgrade with HTTP 503."""

import asyncio

from harness import T, RouterProcess, WampCases, connect, http_upgrade, single, split_url, uri


async def rs_handshake(host, port):
    r, w = await asyncio.open_connection(host, port)
    w.write(bytes([0x7F, 0xF1, 0, 0]))
    reply = await asyncio.wait_for(r.readexactly(4), T)
    return reply, r, w


@single
class LimitTests(WampCases):

    async def asyncSetUp(self):
        self.router = RouterProcess(listen=['rs://127.0.0.1:0?max-connections=2',
                                            'ws://127.0.0.1:0/ws?max-connections=1']).start()
        self.rs = split_url(self.router.rs_url)
        self.ws = self.router.url

    async def asyncTearDown(self):
        self.router.stop()

    async def test_rawsocket_over_the_cap_gets_error_4_then_room_again(self):
        a, _, wa = await rs_handshake(*self.rs[:2])
        b, _, wb = await rs_handshake(*self.rs[:2])
        self.assertEqual(a, bytes([0x7F, 0xF1, 0, 0]))
        self.assertEqual(b, bytes([0x7F, 0xF1, 0, 0]))
        c, rc, wc = await rs_handshake(*self.rs[:2])
        self.assertEqual(c, bytes([0x7F, 0x40, 0, 0]))
        self.assertEqual(await asyncio.wait_for(rc.read(), T), b'')  # and closed
        wc.close()
        wa.close()
        await asyncio.sleep(0.2)  # the router notices the close
        d, _, wd = await rs_handshake(*self.rs[:2])
        self.assertEqual(d, bytes([0x7F, 0xF1, 0, 0]))
        wb.close()
        wd.close()

    async def test_websocket_over_the_cap_gets_503(self):
        s = await connect('json', url=self.ws)
        try:
            status, _ = await http_upgrade('/ws', ['wamp.2.json'], url=self.ws)
            self.assertEqual(status, 503)
        finally:
            await s.close()
        await asyncio.sleep(0.2)
        s = await connect('json', url=self.ws)
        await s.close()


@single
class SlowConsumerTests(WampCases):
    """A subscriber that stops reading is closed as a slow consumer (limits.max_outbound_bytes, 1 MiB by
    default, or limits.slow_consumer_timeout_ms without progress); the router keeps serving."""

    async def asyncSetUp(self):
        self.router = RouterProcess(listen=['ws://127.0.0.1:0/ws', 'rs://127.0.0.1:0']).start()

    async def asyncTearDown(self):
        self.router.stop()

    async def test_slow_consumers_are_closed_with_a_log_line(self):
        import json
        from autobahn.wamp.types import PublishOptions
        from harness import ws_frame, ws_open, ws_read
        from test_keepalive import HELLO, rs_read
        topic = 'com.conformance.slow'
        port = int(self.router.url.split(':')[2].split('/')[0])
        r, w = await ws_open(port)  # a WebSocket subscriber that will stop reading
        w.write(ws_frame(1, json.dumps(HELLO).encode()))
        await ws_read(r)
        w.write(ws_frame(1, json.dumps([32, 1, {}, topic]).encode()))
        await ws_read(r)
        host, rs_port, _ = split_url(self.router.rs_url)  # and a RawSocket one
        rr, rw = await asyncio.open_connection(host, rs_port)
        rw.write(bytes([0x7F, 0xF2, 0, 0]))
        await rr.readexactly(4)
        import msgpack
        for m in (HELLO, [32, 1, {}, topic]):
            p = msgpack.packb(m)
            rw.write(bytes([0]) + len(p).to_bytes(3, 'big') + p)
            await rs_read(rr)
        pub = await connect('msgpack', url=self.router.url)
        try:
            chunk = b'x' * (1 << 20)
            for _ in range(90):  # 90 MiB for each subscriber, who read nothing
                await pub.publish(topic, chunk, options=PublishOptions(acknowledge=True))
            for _ in range(50):
                if self.router.output().count('slow consumer') >= 2:
                    break
                await asyncio.sleep(0.1)
            log = self.router.output()
            self.assertIn('closing WebSocket connection: slow consumer', log)
            self.assertIn('closing RawSocket connection: slow consumer', log)
            self.assertEqual(log.count('slow consumer'), 2, log[-2000:])
            # The publisher and the router are fine.
            proc = uri()
            await pub.register(lambda: 'ok', proc)
            self.assertEqual(await pub.call(proc), 'ok')
        finally:
            await pub.close()
            w.close()
            rw.close()
