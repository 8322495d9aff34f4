"""Slow consumers and floods (issue 16): bounded memory by policy, everyone else served.

- 100 WebSocket subscribers join, subscribe and stop reading (a 4 KiB receive buffer) while one
  publisher sends 4 KiB events as fast as its socket allows: the publisher is held to the pace of
  its receivers, the router closes every stalled subscriber within seconds (slow_consumer
  "disconnect", the default), its peak RSS stays under 300 MB, a reading subscriber (a process of
  its own) keeps getting events and another session's calls keep answering.
- In a realm with slow_consumer "drop-events", 1,000 subscribers of which 10 are stalled: nobody is
  closed, the stalled ones miss events (counted in junction_events_dropped_total: EVENTs are skipped
  while 64 KiB wait), peak RSS stays under 300 MB, calls keep answering.
- Clients that send and never read (CALLs to a callee that never reads, PUBLISH with acknowledge):
  the router stops reading from them (junction_reads_paused_total) instead of buffering, and closes
  them once they have taken nothing for slow_consumer_timeout_ms (2 s); peak RSS stays bounded;
  calls in flight stay under the session cap; others keep being served.

Peak RSS is the router's VmHWM (/proc/PID/status). Bounds are the issue's (300 MB) or stated here.
"""

import asyncio
import json
import socket
import time

from harness import (SANITIZED, T, RouterProcess, WampCases, connect, http_get, single, split_url, uri, ws_frame, ws_read)
from harness import metric_sum as metric

HELLO = [1, 'realm1', {'roles': {'subscriber': {}, 'publisher': {}, 'caller': {}, 'callee': {}}}]


def vm_kb(pid, field):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    return 0


async def raw_ws(port, rcvbuf=None, path='/ws'):
    """(reader, writer) of a WebSocket connection; rcvbuf shrinks the socket's receive buffer first, so
    that a client that stops reading is noticed after a few KiB instead of the kernel's megabytes."""
    import base64
    import os
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ('127.0.0.1', port))
    r, w = await asyncio.open_connection(sock=sock, limit=1 << 22)
    key = base64.b64encode(os.urandom(16)).decode()
    w.write(('GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
             'Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n'
             'Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n' % (path, key)).encode())
    head = await asyncio.wait_for(r.readuntil(b'\r\n\r\n'), T)
    assert head.startswith(b'HTTP/1.1 101 '), head
    return r, w


async def send_json(w, msg):
    w.write(ws_frame(1, json.dumps(msg).encode()))
    await w.drain()


async def expect(r, code):
    op, payload = await asyncio.wait_for(ws_read(r), T)
    msg = json.loads(payload)
    assert msg[0] == code, msg
    return msg


def zero_masked(payload):
    """A client text frame masked with the key 0 (the payload goes as is: cheap to make by the thousand)."""
    n = len(payload)
    if n < 126:
        head = bytes([0x81, 0x80 | n])
    elif n < 65536:
        head = bytes([0x81, 0xFE]) + n.to_bytes(2, 'big')
    else:
        head = bytes([0x81, 0xFF]) + n.to_bytes(8, 'big')
    return head + b'\0\0\0\0' + payload


def stall(w):
    """The client stops reading: asyncio would otherwise keep reading into its buffer for us."""
    w.transport.pause_reading()


async def subscriber(port, realm, topic, stalled=False):
    """A subscriber; stalled=True: one that stops reading once subscribed (4 KiB receive buffer)."""
    r, w = await raw_ws(port, 4096 if stalled else None)
    await send_json(w, [1, realm, HELLO[2]])
    await expect(r, 2)
    await send_json(w, [32, 1, {}, topic])
    await expect(r, 33)
    if stalled:
        stall(w)
    return r, w


READER = r"""
import os, signal, socket, sys, json, base64
port, realm, topic = int(sys.argv[1]), sys.argv[2], sys.argv[3]
total = 0
def done(*_):
    print(total, flush=True)
    os._exit(0)
signal.signal(signal.SIGTERM, done)
s = socket.create_connection(('127.0.0.1', port))
s.sendall(('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
           'Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp.2.json\r\n\r\n'
           % base64.b64encode(os.urandom(16)).decode()).encode())
def frame(msg):
    p = json.dumps(msg).encode()
    assert len(p) < 126
    return bytes([0x81, 0x80 | len(p), 0, 0, 0, 0]) + p  # masked with a zero key
head = b''
while b'\r\n\r\n' not in head:
    head += s.recv(4096)
s.sendall(frame([1, realm, {'roles': {'subscriber': {}}}]) + frame([32, 1, {}, topic]))
print('ready', flush=True)
while True:
    data = s.recv(1 << 20)
    if not data:
        print('closed', total, flush=True)
        os._exit(3)
    total += len(data)
"""


PROBE = r"""
import json, os, socket, sys, time, base64
port, rounds = int(sys.argv[1]), int(sys.argv[2])
def connect():
    s = socket.create_connection(('127.0.0.1', port))
    s.sendall(('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
               'Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp.2.json\r\n\r\n'
               % base64.b64encode(os.urandom(16)).decode()).encode())
    head = b''
    while b'\r\n\r\n' not in head:
        head += s.recv(1)
    return s
def send(s, msg):
    p = json.dumps(msg).encode()
    s.sendall(bytes([0x81, 0x80 | len(p), 0, 0, 0, 0]) + p)
def recv(s):
    def exactly(n):
        b = b''
        while len(b) < n:
            c = s.recv(n - len(b))
            if not c:
                raise SystemExit('connection closed')
            b += c
        return b
    h = exactly(2)
    n = h[1] & 0x7f
    if n == 126:
        n = int.from_bytes(exactly(2), 'big')
    elif n == 127:
        n = int.from_bytes(exactly(8), 'big')
    return json.loads(exactly(n))
callee, caller = connect(), connect()
for c in (callee, caller):
    send(c, [1, 'realm1', {'roles': {'caller': {}, 'callee': {}}}])
    assert recv(c)[0] == 2
send(callee, [64, 1, {}, 'com.probe.echo'])
assert recv(callee)[0] == 65
print('ready', flush=True)
sys.stdin.readline()
worst = 0.0
for i in range(1, rounds + 1):
    t0 = time.monotonic()
    send(caller, [48, i, {}, 'com.probe.echo'])
    inv = recv(callee)
    send(callee, [70, inv[1], {}, ['ok']])
    res = recv(caller)
    assert res[0] == 50 and res[3] == ['ok'], res
    worst = max(worst, time.monotonic() - t0)
    time.sleep(0.05)
print(worst, flush=True)
"""


class LatencyProbe:
    """A caller and a callee in a process of their own (plain sockets, JSON): start() joins them,
    measure() makes `rounds` calls 50 ms apart and returns the slowest round trip, in seconds."""

    def __init__(self, port, rounds=20):
        import subprocess
        import sys
        self.proc = subprocess.Popen([sys.executable, '-c', PROBE, str(port), str(rounds)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == 'ready'

    async def measure(self):
        self.proc.stdin.write('go\n')
        self.proc.stdin.flush()
        line = await asyncio.get_running_loop().run_in_executor(None, self.proc.stdout.readline)
        self.proc.wait(timeout=10)
        return float(line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class ReaderProcess:
    """A subscriber in a process of its own that reads as fast as the router sends (so that the test's
    publisher, in this process, cannot starve it); it exits when its connection ends."""

    def __init__(self, port, realm, topic):
        import subprocess
        import sys
        self.proc = subprocess.Popen([sys.executable, '-c', READER, str(port), realm, topic],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == 'ready'
        time.sleep(0.3)  # its SUBSCRIBE is handled

    def connected(self):
        return self.proc.poll() is None

    def stop(self):
        """Bytes it received."""
        import signal
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        out = self.proc.communicate(timeout=10)[0].split()
        return int(out[-1])


async def drain_forever(r, counter):
    """Reads and discards (counting bytes) until the connection ends."""
    try:
        while True:
            data = await r.read(1 << 20)
            if not data:
                return
            counter[0] += len(data)
    except (ConnectionError, asyncio.CancelledError):
        return


async def flood(w, frame, seconds):
    """Writes one PUBLISH frame over and over, as fast as the socket takes it, for `seconds`."""
    end = time.monotonic() + seconds
    n = 0
    batch = frame * 16
    while time.monotonic() < end:
        w.write(batch)
        n += 16
        await w.drain()
    return n


class FloodBase(WampCases):
    LONG_TEST_TIMEOUT = 120

    async def asyncTearDown(self):
        self.router.stop()

    async def metrics(self):
        host, port, _ = split_url(self.router.url)
        status, _, body = await http_get(host, port, "/metrics")
        self.assertEqual(status, 200)
        return body.decode() if isinstance(body, bytes) else body

    def port(self):
        return split_url(self.router.url)[1]

    def peak_rss_mb(self):
        return vm_kb(self.router.proc.pid, 'VmHWM') / 1024.0


@single
class StalledSubscribers(FloodBase):

    async def asyncSetUp(self):
        self.router = RouterProcess(listen=['ws://127.0.0.1:0/ws']).start()

    async def test_100_stalled_subscribers_are_closed_and_memory_stays_bounded(self):
        topic = uri()
        port = self.port()
        stalled = [await subscriber(port, 'realm1', topic, stalled=True) for _ in range(100)]
        reader = ReaderProcess(port, 'realm1', topic)
        probe = LatencyProbe(port)
        pr, pw = await raw_ws(port)
        await send_json(pw, HELLO)
        await expect(pr, 2)
        frame = ws_frame(1, json.dumps([16, 1, {}, topic, ['x' * 4096]]).encode())
        try:
            flooding = asyncio.ensure_future(flood(pw, frame, 8))
            await asyncio.sleep(2)
            worst = await probe.measure()  # during the flood
            sent = await flooding
            await asyncio.sleep(0.5)
            body = await self.metrics()
            closed = metric(body, 'junction_connections_closed_total', 'reason="slow_consumer"')
            log = self.router.output()
            self.assertTrue(reader.connected(), 'the reading subscriber is still connected')
            received = reader.stop()
            self.assertEqual(closed, 100, 'every stalled subscriber is closed as a slow consumer (%d PUBLISH, reads paused %d, queued %d)' % (sent, metric(body, 'junction_reads_paused_total'), metric(body, 'junction_outbound_queue_bytes')))
            # Logged (repeated warnings are rate-limited: the first few, then a summary).
            self.assertIn('closing WebSocket connection: slow consumer', log)
            peak = self.peak_rss_mb()
            if not SANITIZED:  # ASan's shadow memory and quarantine are not the router's
                self.assertLess(peak, 300, 'peak RSS %.0f MB' % peak)
            self.assertGreater(received, 4096 * 100, 'and got events')
            self.assertLess(worst, 2.0, 'calls kept answering during the flood (slowest %.3f s)' % worst)
            print('\n    flood: %d PUBLISH in 8 s, peak RSS %.0f MB, slowest call %.1f ms, reader got %.0f MB'
                  % (sent, peak, worst * 1000, received / 1e6))
            # A stalled subscriber's connection is really gone: its socket reads to the end.
            r0, w0 = stalled[0]
            w0.transport.resume_reading()
            with self.assertRaises((asyncio.IncompleteReadError, ConnectionError)):
                while True:
                    await asyncio.wait_for(ws_read(r0), T)
        finally:
            if reader.connected():
                reader.stop()
            for _, w in stalled:
                w.close()
            pw.close()
            probe.stop()


@single
class DropEventsRealm(FloodBase):

    async def asyncSetUp(self):
        self.router = RouterProcess(config={
            'listeners': [{'type': 'ws', 'port': 0, 'path': '/ws'}],
            'realms': [{'name': 'realm1', 'slow_consumer': 'drop-events'}],
        }).start()

    async def test_1000_subscribers_10_stalled_drop_events_nobody_closed(self):
        topic = uri()
        port = self.port()
        subs = []
        for i in range(1000):
            subs.append(await subscriber(port, 'realm1', topic, stalled=i % 100 == 0))
        stalled = subs[::100]
        readers = []
        counts = []
        for i, (r, _) in enumerate(subs):
            if i % 100 != 0:
                c = [0]
                counts.append(c)
                readers.append(asyncio.ensure_future(drain_forever(r, c)))
        probe = LatencyProbe(port)
        pr, pw = await raw_ws(port)
        await send_json(pw, HELLO)
        await expect(pr, 2)
        frame = ws_frame(1, json.dumps([16, 1, {}, topic, ['x' * 1024]]).encode())
        try:
            flooding = asyncio.ensure_future(flood(pw, frame, 8))
            await asyncio.sleep(2)
            worst = await probe.measure()
            sent = await flooding
            await asyncio.sleep(0.5)
            body = await self.metrics()
            peak = self.peak_rss_mb()
            print('\n    flood: %d PUBLISH to 1,000 subscribers in 8 s, peak RSS %.0f MB, slowest call %.1f ms, '
                  'events dropped %d' % (sent, peak, worst * 1000, metric(body, 'junction_events_dropped_total')))
            self.assertEqual(metric(body, 'junction_connections_closed_total', 'reason="slow_consumer"'), 0)
            self.assertGreater(metric(body, 'junction_events_dropped_total'), 0)
            self.assertTrue(all(not t.done() for t in readers), 'every reading subscriber is connected')
            self.assertTrue(all(c[0] > 0 for c in counts), 'and got events')
            if not SANITIZED:  # ASan's shadow memory and quarantine are not the router's
                self.assertLess(peak, 300, 'peak RSS %.0f MB' % peak)
            self.assertLess(worst, 2.0, 'calls kept answering during the flood (slowest %.3f s)' % worst)
            # A stalled subscriber that reads again catches up: the router logs what it missed.
            r0, w0 = stalled[0]
            w0.transport.resume_reading()
            got = [0]
            catch_up = asyncio.ensure_future(drain_forever(r0, got))
            await send_json(pw, [16, 2, {}, topic, ['after']])
            for _ in range(100):
                if 'caught up after missing' in self.router.output():
                    break
                await asyncio.sleep(0.1)
            self.assertIn('caught up after missing', self.router.output())
            catch_up.cancel()
        finally:
            for t in readers:
                t.cancel()
            for _, w in subs:
                w.close()
            pw.close()
            probe.stop()


@single
class ClientsThatNeverRead(FloodBase):

    async def asyncSetUp(self):
        self.router = RouterProcess(listen=['ws://127.0.0.1:0/ws']).start()

    async def test_senders_that_never_read_are_paused_not_buffered(self):
        port = self.port()
        topic, stuck_proc = uri(), uri()
        # A callee that registers and then never reads.
        cr, cw = await raw_ws(port, rcvbuf=4096)
        await send_json(cw, HELLO)
        await expect(cr, 2)
        await send_json(cw, [64, 1, {}, stuck_proc])
        await expect(cr, 65)
        stall(cw)
        # Callers that flood it with CALLs (4 KiB each) and read nothing; publishers that ask for an
        # acknowledgement of each PUBLISH and read nothing.
        floods = []
        writers = [cw]
        for i in range(4):
            r, w = await raw_ws(port, rcvbuf=4096)
            await send_json(w, HELLO)
            await expect(r, 2)
            stall(w)
            writers.append(w)
            if i < 2:  # 4 KiB CALLs: 40,000 of them, 160 MB, if the router took them all
                make, count = (lambda n: zero_masked(json.dumps([48, n, {}, stuck_proc, ['y' * 4096]]).encode())), 40000
            else:  # small PUBLISHes whose PUBLISHED answers pile up: 1,000,000 of them
                make, count = (lambda n: zero_masked(json.dumps([16, n, {'acknowledge': True}, topic]).encode())), 1000000
            floods.append(asyncio.ensure_future(self.write_all(w, make, count)))
        probe = LatencyProbe(port)
        try:
            await asyncio.sleep(4)
            worst = await probe.measure()
            body = await self.metrics()
            peak = self.peak_rss_mb()
            paused = metric(body, 'junction_reads_paused_total')
            in_flight = metric(body, 'junction_calls_in_flight')
            print('\n    never-reading senders: peak RSS %.0f MB, reads paused %d, calls in flight %d, '
                  'slowest call %.1f ms' % (peak, paused, in_flight, worst * 1000))
            self.assertGreaterEqual(paused, 4, 'every flooding sender was paused')
            self.assertLessEqual(in_flight, 2 * 1000, 'calls in flight stay under the per-session cap')
            if not SANITIZED:  # ASan's shadow memory and quarantine are not the router's
                self.assertLess(peak, 200, 'peak RSS %.0f MB' % peak)
            self.assertLess(worst, 2.0, 'others kept being served (slowest call %.3f s)' % worst)
            # Paused, they took nothing for slow_consumer_timeout_ms: closed as stalled consumers, the
            # callee among them; the router absorbed a bounded part of each flood.
            for _ in range(100):
                closed = metric(await self.metrics(), 'junction_connections_closed_total', 'reason="slow_consumer"')
                if closed >= 5:
                    break
                await asyncio.sleep(0.2)
            ports = [w.get_extra_info('sockname')[1] for w in writers]
            self.assertEqual(closed, 5, 'the 4 senders and the callee are closed as slow consumers: %s %s' % (
                ports, [l[-40:] for l in self.router.output().splitlines() if 'slow consumer' in l]))
            self.assertIn('nothing written for 2000 ms', self.router.output())
        finally:
            for f in floods:
                f.cancel()
            for w in writers:
                w.close()
            probe.stop()

    async def write_all(self, w, make, count):
        """Sends make(1) ... make(count) (distinct request ids), 100 at a time."""
        for start in range(1, count + 1, 100):
            w.write(b''.join(make(n) for n in range(start, start + 100)))
            await w.drain()


@single
class SessionLimits(FloodBase):
    """session_limits with Autobahn|Python: past a cap, wamp.error.limit_exceeded; a reload changes the cap."""

    async def asyncSetUp(self):
        self.router = RouterProcess(config={
            'listeners': [{'type': 'ws', 'port': 0, 'path': '/ws'}],
            'realms': [{'name': 'realm1',
                        'session_limits': {'calls_in_flight': 2, 'registrations': 1, 'subscriptions': 2}}],
        }).start()

    async def test_caps_answer_limit_exceeded_and_follow_a_reload(self):
        from autobahn.wamp.exception import ApplicationError
        s = await connect('json', url=self.router.url)
        other = await connect('msgpack', url=self.router.url)
        try:
            slow = uri()
            release = asyncio.get_running_loop().create_future()

            async def wait():
                await release
                return 'done'
            await other.register(wait, slow)
            await s.register(lambda: 1, uri())
            with self.assertRaises(ApplicationError) as e:
                await s.register(lambda: 2, uri())
            self.assertEqual(e.exception.error, 'wamp.error.limit_exceeded')
            await s.subscribe(lambda *a: None, uri())
            await s.subscribe(lambda *a: None, uri())
            with self.assertRaises(ApplicationError) as e:
                await s.subscribe(lambda *a: None, uri())
            self.assertEqual(e.exception.error, 'wamp.error.limit_exceeded')
            first = [asyncio.ensure_future(s.call(slow)) for _ in range(2)]
            await asyncio.sleep(0.2)
            with self.assertRaises(ApplicationError) as e:
                await s.call(slow)
            self.assertEqual(e.exception.error, 'wamp.error.limit_exceeded')
            release.set_result(None)
            self.assertEqual(await asyncio.gather(*first), ['done', 'done'])
            body = await self.metrics()
            for limit in ('calls_in_flight', 'registrations', 'subscriptions'):
                self.assertEqual(metric(body, 'junction_session_limit_refusals_total', 'limit="%s"' % limit), 1, limit)
            # A reload raises the registration cap: the same session may now register a second one.
            config = self.router.config
            config['realms'][0]['session_limits']['registrations'] = 2
            self.router.reload(config)
            await asyncio.get_running_loop().run_in_executor(None, self.router.wait_for_log, 'session_limits.registrations 1 → 2')
            await s.register(lambda: 2, uri())
        finally:
            await s.close()
            await other.close()


@single
class PausedIsNotDead(FloodBase):
    """A caller the router stopped reading (its callee is congested) is not ended by keepalive: the router
    cannot hear it while it does not read it. The stalled callee is closed by the stall timer instead, and
    the caller goes on."""

    async def asyncSetUp(self):
        self.router = RouterProcess(config={
            'listeners': [{'type': 'ws', 'port': 0, 'path': '/ws', 'keepalive': {'interval_ms': 300, 'timeout_ms': 1000}},
                          {'type': 'rs', 'port': 0}],
            # No cap on calls in flight: the callee must be congested whatever the kernel buffers hold.
            'realms': [{'name': 'realm1', 'session_limits': {'calls_in_flight': 0}}],
            'limits': {'slow_consumer_timeout_ms': 4000},
        }).start()

    async def test_a_paused_caller_outlives_the_keepalive_timeout(self):
        from harness import RawSocket, RawWamp
        proc = uri()
        ws = await RawSocket.open('json', self.router.urls['rs'])  # RawSocket: no keepalive pings
        callee = RawWamp(ws, 'json')
        await callee.hello()
        await callee.register(proc)
        ws.transport.pause_reading()  # the callee stops reading
        caller = await RawWamp.joined('json', url=self.router.url)  # Autobahn's WebSocket answers pings
        for i in range(1, 8001):  # 4 KiB each, 32 MB: more than the kernel's buffers and the router's limit
            caller.send([48, i, {}, proc, ['y' * 4096]])
        # > keepalive interval + timeout, < the stall timeout. (A timeout of 1 s rather than less: once
        # the callee is closed, the caller's client pushes megabytes of queued CALLs and reads
        # thousands of ERRORs; on a loaded machine its pong may then take a few hundred ms.)
        await asyncio.sleep(2.5)
        body = await self.metrics()
        self.assertGreaterEqual(metric(body, 'junction_reads_paused_total'), 1)
        self.assertEqual(metric(body, 'junction_connections_closed_total', 'reason="keepalive"'), 0)
        self.assertFalse(caller.ws.is_closed(), 'the paused caller is still connected')
        # The stalled callee goes at the stall timeout; its callers get their ERRORs and go on.
        self.router.wait_for_log('nothing written for 4000 ms', timeout=10)
        answered = 0
        try:
            while answered < 8000:
                msg = await caller.recv(10)
                if msg[0] == 8 and msg[1] == 48:
                    answered += 1
        except Exception as e:
            self.fail('%d of 8000 calls answered, then %r; router log: %s' % (answered, e, self.router.output()[-3000:]))
        self.assertFalse(caller.ws.is_closed())
        await caller.close()
