"""--busy-poll: a router that polls for a while after each message before sleeping (5 ms here so that
spinning would show; the default is 0, block) routes exactly as one that blocks: RPC, PubSub, a call
timeout whose timer fires while it spins; and it sleeps again once idle instead of keeping its core
busy, with the window docs/PERFORMANCE.md suggests for latency (30 µs) and with a long one."""

import asyncio
import os
import time

from autobahn.wamp.types import CallOptions, PublishOptions

from harness import T, RouterProcess, WampCases, connect, single, uri

CLK_TCK = os.sysconf('SC_CLK_TCK')


def cpu_seconds(pid):
    """utime + stime of a process, from /proc/PID/stat (fields 14 and 15)."""
    with open('/proc/{}/stat'.format(pid)) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@single
class BusyPollTests(WampCases):

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.routers = []

    async def asyncTearDown(self):
        for r in self.routers:
            r.stop()
        await super().asyncTearDown()

    def router(self, *args):
        r = RouterProcess(extra_args=list(args)).start()
        self.routers.append(r)
        return r

    async def test_routes_rpc_pubsub_and_timeouts(self):
        for window in ('5000', '0'):
            with self.subTest(busy_poll=window):
                await self.routes(self.router('--busy-poll', window).url)

    async def routes(self, url):
        callee = await connect('msgpack', url=url)
        caller = await connect('json', url=url)
        try:
            proc = uri()
            gate = asyncio.Event()

            async def echo(x, slow=False):
                if slow:
                    await gate.wait()
                return x

            await asyncio.wait_for(callee.register(echo, proc), T)
            for i in range(50):
                self.assertEqual(await asyncio.wait_for(caller.call(proc, i), T), i)
            # the dealer's timer fires while the loop is polling
            t0 = time.monotonic()
            with self.assertRaises(Exception) as ctx:
                await asyncio.wait_for(caller.call(proc, 1, slow=True, options=CallOptions(timeout=200)), T)
            self.assertIn('wamp.error.timeout', str(ctx.exception))
            self.assertGreaterEqual(time.monotonic() - t0, 0.18)
            gate.set()

            topic = uri()
            got = []
            done = asyncio.get_running_loop().create_future()

            def on_event(n):
                got.append(n)
                if len(got) == 20 and not done.done():
                    done.set_result(None)

            await asyncio.wait_for(callee.subscribe(on_event, topic), T)
            for n in range(20):
                await asyncio.wait_for(caller.publish(topic, n, options=PublishOptions(acknowledge=True)), T)
            await asyncio.wait_for(done, T)
            self.assertEqual(got, list(range(20)))
        finally:
            await callee.close()
            await caller.close()

    async def test_sleeps_again_when_idle(self):
        for args in (['--busy-poll', '5000'], ['--busy-poll', '30']):
            with self.subTest(args=args):
                await self.sleeps_when_idle(self.router(*args))

    async def sleeps_when_idle(self, router):
        s = await connect('json', url=router.url)
        try:
            for _ in range(20):  # some traffic, so the loop is polling when it stops
                await asyncio.wait_for(s.call('wamp.session.count'), T)
            await asyncio.sleep(0.2)
            before = cpu_seconds(router.proc.pid)
            await asyncio.sleep(1.0)
            used = cpu_seconds(router.proc.pid) - before
            # a loop that never stopped spinning would use the whole second
            self.assertLess(used, 0.3, 'the idle router used {:.2f} s of CPU in 1 s'.format(used))
        finally:
            await s.close()
