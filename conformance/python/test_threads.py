"""Several I/O threads (issue 17, docs/THREADING.md): a router of the test's own with --threads 4,
many clients at once over WebSocket and RawSocket (connections go to the loops round robin, so
the clients of one test sit on different threads), every guarantee checked where it is received:

- one publisher → one subscriber in order, and nothing lost (acknowledged publications);
- a caller's calls to one callee in order, and every CALL answered exactly once;
- REGISTERED before the first INVOCATION, while other threads keep calling the procedure;
- meta events after the replies that cause them (REGISTERED before wamp.registration.on_create);
- progressive results in order, shared registrations, session churn, all at the same time.
"""

import asyncio
import os
import random

from harness import (CALL, ERROR, EVENT, HELLO, INVOCATION, PUBLISH, PUBLISHED, REGISTER, REGISTERED,
                     RESULT, SUBSCRIBE, SUBSCRIBED, UNREGISTER, WELCOME, YIELD, RawSocket, RawWamp,
                     RouterProcess, T, WampCases, single, uri)

UNREGISTERED = 67
THREADS = 4
ROLES = {'caller': {'features': {'progressive_call_results': True}},
         'callee': {'features': {'progressive_call_results': True, 'shared_registration': True}},
         'publisher': {'features': {}}, 'subscriber': {'features': {}}}


@single
class ManyThreads(WampCases):
    LONG_TEST_TIMEOUT = True

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.router = RouterProcess(listen=['ws://127.0.0.1:0/ws', 'rs://127.0.0.1:0'],
                                    extra_args=['--threads', str(THREADS)]).start()
        self.urls = [self.router.urls['ws'], self.router.urls['rs']]
        self.clients = []

    async def asyncTearDown(self):
        for c in self.clients:
            try:
                await c.ws.close()
            except Exception:
                pass
        self.router.stop()
        await super().asyncTearDown()

    async def client(self, i, ser='json'):
        """The i-th client: WebSocket or RawSocket by turns, JSON or MessagePack as asked."""
        url = self.urls[i % 2]
        if url.startswith('rs://'):
            r = RawWamp(await RawSocket.open(ser, url), ser)
        else:
            r = await RawWamp.open(ser, url)
        r.send([HELLO, 'realm1', {'roles': ROLES}])
        w = await r.expect(WELCOME)
        r.session_id = w[1]
        self.clients.append(r)
        return r

    async def test_the_router_runs_the_threads_it_was_given(self):
        self.router.wait_for_log('{} I/O threads'.format(THREADS))
        tasks = os.listdir('/proc/{}/task'.format(self.router.proc.pid))
        self.assertGreaterEqual(len(tasks), THREADS)

    async def test_each_publishers_events_arrive_in_order_at_every_subscriber(self):
        topic = uri('com.threads.order')
        publishers, subscribers, count = 4, 8, 200
        subs = [await self.client(i, 'msgpack' if i % 3 == 0 else 'json') for i in range(subscribers)]
        for s in subs:
            s.send([SUBSCRIBE, s.next_id(), {}, topic])
            await s.expect(SUBSCRIBED)
        pubs = [await self.client(subscribers + i) for i in range(publishers)]

        async def publish(p, index):
            for seq in range(count):
                p.send([PUBLISH, p.next_id(), {'acknowledge': True}, topic, [index, seq]])
            acked = 0
            while acked < count:
                msg = await p.recv(T * 4)
                self.assertEqual(msg[0], PUBLISHED, msg)
                acked += 1

        async def receive(s):
            last = [-1] * publishers
            for _ in range(publishers * count):
                msg = await s.recv(T * 4)
                self.assertEqual(msg[0], EVENT, msg)
                index, seq = msg[4]
                self.assertEqual(seq, last[index] + 1, 'publisher {}: {} after {}'.format(index, seq, last[index]))
                last[index] = seq
            return last

        results = await asyncio.gather(*[publish(p, i) for i, p in enumerate(pubs)],
                                       *[receive(s) for s in subs])
        for last in results[publishers:]:
            self.assertEqual(last, [count - 1] * publishers)

    async def test_each_callers_calls_reach_the_callee_in_order_and_end_once(self):
        proc = uri('com.threads.calls')
        callee = await self.client(0)
        callee.send([REGISTER, callee.next_id(), {}, proc])
        await callee.expect(REGISTERED)
        callers, count = 6, 150
        cs = [await self.client(1 + i, 'msgpack' if i % 2 else 'json') for i in range(callers)]

        async def serve():
            last = [-1] * callers
            for _ in range(callers * count):
                inv = await callee.expect(INVOCATION, T * 4)
                index, seq = inv[4]
                self.assertEqual(seq, last[index] + 1, 'caller {}: {} after {}'.format(index, seq, last[index]))
                last[index] = seq
                callee.send([YIELD, inv[1], {}, [index, seq]])
            return last

        async def call(c, index):
            for seq in range(count):
                c.send([CALL, seq + 1, {}, proc, [index, seq]])
            answered = {}
            for _ in range(count):
                msg = await c.recv(T * 4)
                self.assertEqual(msg[0], RESULT, msg)
                self.assertNotIn(msg[1], answered, 'two answers to request {}'.format(msg[1]))
                answered[msg[1]] = msg[3]
            self.assertEqual(sorted(answered), list(range(1, count + 1)))
            for request, args in answered.items():
                self.assertEqual(args, [index, request - 1])

        results = await asyncio.gather(serve(), *[call(c, i) for i, c in enumerate(cs)])
        self.assertEqual(results[0], [count - 1] * callers)

    async def test_registered_comes_before_the_first_invocation(self):
        proc = uri('com.threads.late')
        callers = [await self.client(1 + i) for i in range(4)]
        stop = asyncio.Event()
        outcomes = {'result': 0, 'no_such_procedure': 0}

        async def keep_calling(c):
            request = 0
            while not stop.is_set():
                request += 1
                c.send([CALL, request, {}, proc, []])
                msg = await c.recv(T * 4)
                if msg[0] == RESULT:
                    outcomes['result'] += 1
                else:
                    self.assertEqual(msg[0], ERROR, msg)
                    self.assertEqual(msg[4], 'wamp.error.no_such_procedure', msg)
                    outcomes['no_such_procedure'] += 1

        async def register_and_serve(rounds):
            callee = await self.client(0)
            for _ in range(rounds):
                rid = callee.next_id()
                callee.send([REGISTER, rid, {}, proc])
                first = await callee.recv(T * 4)
                self.assertEqual(first[0], REGISTERED, 'before REGISTERED: {!r}'.format(first))
                registration = first[2]
                served = 0
                while served < 5:  # serve a few calls, then unregister and start over
                    inv = await callee.expect(INVOCATION, T * 4)
                    callee.send([YIELD, inv[1], {}, []])
                    served += 1
                callee.send([UNREGISTER, callee.next_id(), registration])
                while True:  # INVOCATIONs already on their way may still come before UNREGISTERED
                    msg = await callee.recv(T * 4)
                    if msg[0] == UNREGISTERED:
                        break
                    self.assertEqual(msg[0], INVOCATION, msg)
                    callee.send([YIELD, msg[1], {}, []])
            stop.set()

        await asyncio.gather(register_and_serve(20), *[keep_calling(c) for c in callers])
        self.assertGreater(outcomes['result'], 0)
        self.assertGreater(outcomes['no_such_procedure'], 0)

    async def test_meta_events_come_after_the_replies_that_cause_them(self):
        async def one(i):
            c = await self.client(i)
            c.send([SUBSCRIBE, c.next_id(), {}, 'wamp.registration.on_create'])
            await c.expect(SUBSCRIBED)
            mine = uri('com.threads.meta{}'.format(i))
            c.send([REGISTER, c.next_id(), {}, mine])
            seen_registered = False
            while True:
                msg = await c.recv(T * 4)
                if msg[0] == REGISTERED:
                    seen_registered = True
                    continue
                self.assertEqual(msg[0], EVENT, msg)
                if msg[4][1].get('uri') == mine:
                    self.assertTrue(seen_registered, 'on_create for {} before REGISTERED'.format(mine))
                    return

        await asyncio.gather(*[one(i) for i in range(12)])

    async def test_every_feature_at_once(self):
        """Progressive results, a shared registration, pub/sub and session churn at the same time;
        every call ends exactly once, progressive results come in order."""
        stream, shared, topic = uri('com.threads.stream'), uri('com.threads.shared'), uri('com.threads.mixed')
        streamer = await self.client(0)
        streamer.send([REGISTER, streamer.next_id(), {}, stream])
        await streamer.expect(REGISTERED)
        workers = [await self.client(1 + i) for i in range(3)]
        for w in workers:
            w.send([REGISTER, w.next_id(), {'invoke': 'roundrobin'}, shared])
            await w.expect(REGISTERED)
        stop = asyncio.Event()

        async def stream_server():
            while not stop.is_set():
                try:
                    inv = await streamer.expect(INVOCATION, 0.5)
                except asyncio.TimeoutError:
                    continue
                n = inv[4][0]
                for k in range(n):
                    streamer.send([YIELD, inv[1], {'progress': True}, [k]])
                streamer.send([YIELD, inv[1], {}, [n]])

        async def worker(w):
            served = 0
            while not stop.is_set():
                try:
                    inv = await w.expect(INVOCATION, 0.5)
                except asyncio.TimeoutError:
                    continue
                w.send([YIELD, inv[1], {}, [inv[4][0] * 2]])
                served += 1
            return served

        async def stream_caller(i):
            c = await self.client(10 + i)
            for request in range(1, 21):
                n = random.randint(0, 5)
                c.send([CALL, request, {'receive_progress': True}, stream, [n]])
                for k in range(n):
                    msg = await c.expect(RESULT, T * 4)
                    self.assertEqual((msg[1], msg[2].get('progress'), msg[3]), (request, True, [k]))
                final = await c.expect(RESULT, T * 4)
                self.assertEqual((final[1], final[2].get('progress', False), final[3]), (request, False, [n]))

        async def shared_caller(i):
            c = await self.client(20 + i, 'msgpack')
            for request in range(1, 41):
                c.send([CALL, request, {}, shared, [request]])
            got = set()
            for _ in range(40):
                msg = await c.expect(RESULT, T * 4)
                self.assertNotIn(msg[1], got)
                got.add(msg[1])
                self.assertEqual(msg[3], [msg[1] * 2])

        async def churn(i):
            for _ in range(10):
                c = await self.client(30 + i)
                c.send([SUBSCRIBE, c.next_id(), {}, topic])
                await c.expect(SUBSCRIBED)
                c.send([PUBLISH, c.next_id(), {'acknowledge': True, 'exclude_me': False}, topic, [i]])
                while (await c.recv(T * 4))[0] != PUBLISHED:
                    pass
                await c.ws.close()
                self.clients.remove(c)

        servers = [asyncio.ensure_future(stream_server())] + [asyncio.ensure_future(worker(w)) for w in workers]
        await asyncio.gather(*[stream_caller(i) for i in range(4)], *[shared_caller(i) for i in range(3)],
                             *[churn(i) for i in range(3)])
        stop.set()
        served = await asyncio.gather(*servers)
        self.assertEqual(sum(served[1:]), 3 * 40)
        for n in served[1:]:  # round robin across three callees, whichever threads they are on
            self.assertEqual(n, 40)
