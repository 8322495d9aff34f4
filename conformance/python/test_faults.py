"""Faults without lost calls (issue 16): every CALL issued gets exactly one RESULT or ERROR, counted.

- callees SIGKILLed with calls in flight: each of those calls is answered ERROR wamp.error.canceled,
  once; the calls answered before stay answered once;
- a caller SIGKILLed in the middle of a progressive call: its callee is told (INTERRUPT);
- a callee that stops answering (its TCP connection half-open: no reads, no pongs): keepalive ends it
  and its callers get their ERRORs;
- the router itself restarts (SIGTERM: drain, then a new process on the same port): calls in flight
  end with their RESULT (if the callee answers within drain_timeout_ms) or ERROR canceled, and clients
  that reconnect are served again;
- every acknowledged publication reaches every subscriber that stayed connected, while another
  subscriber is SIGKILLed in the middle.
Killed parties run in processes of their own (plain sockets, JSON): a real SIGKILL, not a polite close.
"""

import asyncio
import os
import signal
import subprocess
import sys

from harness import (CALL, ERROR, EVENT, INVOCATION, PUBLISH, PUBLISHED, RESULT, YIELD, T, RawWamp, RouterProcess,
                     WampCases, single, uri)

INTERRUPT = 69

CHILD = r"""
import asyncio, sys
sys.path.insert(0, sys.argv[1])
from harness import RawWamp
role, url, name = sys.argv[2], sys.argv[3], sys.argv[4]

FEATURES = {'features': {'progressive_call_results': True, 'call_canceling': True}}

async def main():
    w = await RawWamp.open('json', url=url)
    w.send([1, 'realm1', {'roles': {'caller': FEATURES, 'callee': FEATURES, 'subscriber': {}}}])
    await w.expect(2)
    if role == 'callee':  # registers and never answers
        await w.register(name)
        print('ready', flush=True)
        while True:
            await w.recv(3600)
    elif role == 'progressive-caller':  # starts a progressive call and waits
        w.send([48, 1, {'receive_progress': True}, name, []])
        print('ready', flush=True)
        while True:
            await w.recv(3600)
    elif role == 'subscriber':
        await w.subscribe(name)
        print('ready', flush=True)
        while True:
            await w.recv(3600)
asyncio.run(main())
"""

HERE = os.path.dirname(os.path.abspath(__file__))


class Child:
    def __init__(self, role, url, name):
        self.proc = subprocess.Popen([sys.executable, '-c', CHILD, HERE, role, url, name],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        assert line == 'ready', line

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


class Answers:
    """Every RESULT and ERROR a RawWamp caller receives, by request id (collected in the background)."""

    def __init__(self, w):
        self.w = w
        self.by_request = {}
        self.task = asyncio.ensure_future(self._collect())

    async def _collect(self):
        while True:
            msg = await self.w.recv(3600)
            if msg[0] == RESULT or (msg[0] == ERROR and msg[1] == CALL):
                rid = msg[2] if msg[0] == ERROR else msg[1]
                self.by_request.setdefault(rid, []).append(msg)

    async def wait_for(self, ids, seconds=None):
        deadline = asyncio.get_running_loop().time() + (seconds or T)
        while not all(i in self.by_request for i in ids):
            if asyncio.get_running_loop().time() > deadline:
                missing = [i for i in ids if i not in self.by_request]
                raise AssertionError('no answer to CALLs %s' % missing[:10])
            await asyncio.sleep(0.02)

    def check_exactly_once(self, case, ids):
        for i in ids:
            case.assertEqual(len(self.by_request.get(i, [])), 1, 'CALL %d: %r' % (i, self.by_request.get(i)))

    def stop(self):
        self.task.cancel()


@single
class Faults(WampCases):

    async def asyncSetUp(self):
        self.router = RouterProcess(listen=['ws://127.0.0.1:0/ws'],
                                    extra_args=['--keepalive-interval', '300', '--keepalive-timeout', '400'])
        self.router.start()
        self.url = self.router.url

    async def asyncTearDown(self):
        self.router.stop()

    async def test_sigkilled_callees_every_call_answered_once(self):
        proc = uri()
        callees = [Child('callee', self.url, proc)]
        # A second registration with a live callee that answers, for contrast.
        live_proc = uri()
        live = await RawWamp.joined('json', url=self.url)
        await live.register(live_proc)
        caller = await RawWamp.joined('json', url=self.url)
        answers = Answers(caller)
        stuck_ids = list(range(1, 21))
        for i in stuck_ids:
            caller.send([CALL, i, {}, proc, [i]])
        live_ids = list(range(21, 31))
        for i in live_ids:
            caller.send([CALL, i, {}, live_proc, [i]])
            inv = await live.expect(INVOCATION)
            live.send([YIELD, inv[1], {}, inv[4]])
        await answers.wait_for(live_ids)
        await asyncio.sleep(0.2)
        self.assertEqual([i for i in stuck_ids if i in answers.by_request], [], 'no answer before the kill')
        for c in callees:
            c.kill()
        await answers.wait_for(stuck_ids)
        await asyncio.sleep(0.3)  # nothing more comes
        answers.check_exactly_once(self, stuck_ids + live_ids)
        for i in stuck_ids:
            self.assertEqual(answers.by_request[i][0][4], 'wamp.error.canceled')
        for i in live_ids:
            self.assertEqual(answers.by_request[i][0][3], [i])
        answers.stop()
        await caller.close()
        await live.close()

    async def test_a_caller_killed_mid_progressive_call_interrupts_its_callee(self):
        proc = uri()
        callee = await RawWamp.open('json', url=self.url)
        callee.send([1, 'realm1', {'roles': {'callee': {'features': {'progressive_call_results': True,
                                                                     'call_canceling': True}}}}])
        await callee.expect(2)
        await callee.register(proc)
        caller = Child('progressive-caller', self.url, proc)
        inv = await callee.expect(INVOCATION)
        self.assertTrue(inv[3].get('receive_progress'))
        callee.send([YIELD, inv[1], {'progress': True}, ['part 1']])
        caller.kill()
        interrupt = await callee.expect(INTERRUPT)
        self.assertEqual(interrupt[1], inv[1])
        # A late answer to the interrupted invocation goes nowhere and harms nothing.
        callee.send([YIELD, inv[1], {}, ['late']])
        await callee.expect_nothing(0.3)
        await callee.close()

    async def test_a_half_open_callee_is_ended_by_keepalive_and_its_callers_answered(self):
        proc = uri()
        callee = await RawWamp.joined('json', url=self.url)
        await callee.register(proc)
        callee.ws.proto.transport.pause_reading()  # from now on it reads nothing and answers no ping: as if its host vanished
        caller = await RawWamp.joined('json', url=self.url)
        answers = Answers(caller)
        ids = list(range(1, 11))
        for i in ids:
            caller.send([CALL, i, {}, proc, [i]])
        await answers.wait_for(ids, seconds=5)  # keepalive: 300 ms interval + 400 ms timeout
        await asyncio.sleep(0.3)
        answers.check_exactly_once(self, ids)
        self.assertTrue(all(answers.by_request[i][0][4] == 'wamp.error.canceled' for i in ids))
        self.assertIn('keepalive', self.router.output())
        answers.stop()
        await caller.close()

    async def test_acknowledged_publications_reach_every_subscriber_that_stayed(self):
        topic = uri()
        stays = await RawWamp.joined('json', url=self.url)
        await stays.subscribe(topic)
        doomed = Child('subscriber', self.url, topic)
        pub = await RawWamp.joined('json', url=self.url)
        received = []

        async def collect():
            while True:
                msg = await stays.recv(3600)
                if msg[0] == EVENT:
                    received.append(msg[4][0])
        collector = asyncio.ensure_future(collect())
        acked = []
        for i in range(1, 501):
            if i == 250:
                doomed.kill()
            r = await pub.request([PUBLISH, i, {'acknowledge': True}, topic, [i]], PUBLISHED)
            self.assertEqual(r[0], PUBLISHED)
            acked.append(i)
        for _ in range(100):
            if len(received) >= len(acked):
                break
            await asyncio.sleep(0.02)
        collector.cancel()
        self.assertEqual(received, acked, 'every acknowledged publication, once, in order')
        await stays.close()
        await pub.close()


@single
class RouterRestart(WampCases):

    async def test_calls_in_flight_end_once_and_clients_are_served_after_a_restart(self):
        from harness import free_port
        port = free_port()
        listen = ['ws://127.0.0.1:%d/ws' % port]
        router = RouterProcess(config={
            'listeners': [{'type': 'ws', 'host': '127.0.0.1', 'port': port, 'path': '/ws'}],
            'realms': [{'name': 'realm1'}], 'shutdown': {'drain_timeout_ms': 500}}).start()
        try:
            url = router.url
            slow, quick = uri(), uri()
            silent = await RawWamp.joined('json', url=url)  # never answers
            await silent.register(slow)
            answering = await RawWamp.joined('json', url=url)
            await answering.register(quick)
            caller = await RawWamp.joined('json', url=url)
            answers = Answers(caller)
            for i in range(1, 11):
                caller.send([CALL, i, {}, slow, [i]])
            for i in range(11, 21):
                caller.send([CALL, i, {}, quick, [i]])
            invs = [await answering.expect(INVOCATION) for _ in range(10)]
            router.proc.send_signal(signal.SIGTERM)  # graceful: drain, then GOODBYE
            await asyncio.sleep(0.1)
            for inv in invs:  # answered during the drain: the RESULTs still reach the caller
                answering.send([YIELD, inv[1], {}, inv[4]])
            ids = list(range(1, 21))
            await answers.wait_for(ids, seconds=5)
            answers.check_exactly_once(self, ids)
            for i in range(1, 11):
                self.assertEqual(answers.by_request[i][0][4], 'wamp.error.canceled')
            for i in range(11, 21):
                self.assertEqual(answers.by_request[i][0][0], RESULT)
            router.proc.wait(10)
            answers.stop()
        finally:
            router.stop()
        # The same address again: clients that reconnect are served.
        again = RouterProcess(listen=listen).start()
        try:
            name = uri('com.restart')
            callee = await RawWamp.joined('json', url=again.url)
            await callee.register(name)
            caller = await RawWamp.joined('json', url=again.url)
            caller.send([CALL, 1, {}, name, ['back']])
            inv = await callee.expect(INVOCATION)
            callee.send([YIELD, inv[1], {}, ['back']])
            r = await caller.expect(RESULT)
            self.assertEqual(r[3], ['back'])
        finally:
            again.stop()
