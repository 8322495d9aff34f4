"""Per-listener connection caps: RawSocket answers the handshake over the cap with the spec's
error 4 ("maximum connection count reached"), WebSocket refuses the upgrade with HTTP 503."""

import asyncio

from harness import T, RouterProcess, WampCases, connect, http_upgrade, single, split_url


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
