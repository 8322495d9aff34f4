"""The HTTP bridge (issue 18, docs/BRIDGE.md): curl publishes to topics Autobahn|Python subscribers
receive and calls procedures Autobahn|Python callees serve; bearer tokens and Crossbar-style signed
requests; the same authorization as WAMP sessions; the bridge's sessions in the meta API."""

import asyncio
import base64
import datetime
import hashlib
import hmac
import json
import os
import subprocess
import urllib.parse

from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import CallResult, RegisterOptions

from harness import T, Inbox, ModuleRouter, RouterProcess, WampCases, connect, single, split_url

TOKEN = 'tk-3f9a0c1b7d5e42a8b6c9d0e1f2a3b4c5'
VIEWER_TOKEN = 'tk-viewer-00112233445566778899aabb'
KEY, SECRET = 'billing-app', 'a-signing-secret-of-some-length'


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def config():
    return {
        'listeners': [{'type': 'universal', 'port': 0}],
        'realms': [
            {'name': 'a',
             'http_bridge': {
                 'path': '/bridge/a', 'call_timeout_ms': 3000,
                 'tokens': [{'token_sha256': sha256(TOKEN), 'authid': 'billing', 'authrole': 'backend'},
                            {'token_sha256': sha256(VIEWER_TOKEN).upper(), 'authid': 'dash', 'authrole': 'viewer'}],
                 'keys': [{'key': KEY, 'secret': SECRET, 'authid': 'signer', 'authrole': 'backend'}]}},
            {'name': 'b',
             'roles': [
                 {'name': 'anonymous', 'permissions': [
                     {'uri': 'com.', 'match': 'prefix',
                      'allow': {'subscribe': True, 'register': True, 'call': True, 'publish': True}}]},
                 {'name': 'public', 'permissions': [
                     {'uri': 'com.open.', 'match': 'prefix', 'allow': {'publish': True, 'call': True}}]}],
             'http_bridge': {'path': '/api/b', 'anonymous_role': 'public'}},
        ],
    }


BridgeRouter = ModuleRouter(config=config)


def tearDownModule():
    BridgeRouter.stop()


def signed_query(body, key=KEY, secret=SECRET, nonce=None, when=None):
    timestamp = (when or datetime.datetime.utcnow()).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z'
    seq = '1'
    nonce = str(nonce if nonce is not None else int.from_bytes(os.urandom(6), 'big'))
    h = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    for part in (key, timestamp, seq, nonce):
        h.update(part.encode())
    h.update(body)
    signature = base64.urlsafe_b64encode(h.digest()).decode()
    return urllib.parse.urlencode({'key': key, 'timestamp': timestamp, 'seq': seq, 'nonce': nonce,
                                   'signature': signature})


@single
class BridgeTests(WampCases):

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.router = BridgeRouter.get()
        host, port, _ = split_url(self.router.urls['universal'])
        self.base = 'http://{}:{}'.format(host, port)
        self.ws = 'ws://{}:{}/ws'.format(host, port)

    async def wamp(self, realm='a'):
        s = await connect('json', realm=realm, url=self.ws)
        self._closers.append(s)
        return s

    async def curl(self, path, body=None, token=TOKEN, query='', content_type='application/json'):
        """POST (or GET without a body) with curl; returns (status, parsed JSON body, headers text)."""
        cmd = ['curl', '-sS', '-D', '-', '-o', '/dev/stdout', '-w', '\n%{http_code}']
        if token:
            cmd += ['-H', 'Authorization: Bearer ' + token]
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            cmd += ['-H', 'Content-Type: ' + content_type, '--data-binary', data]
        cmd.append(self.base + path + ('?' + query if query else ''))
        out = await asyncio.to_thread(subprocess.run, cmd, capture_output=True, timeout=T)
        self.assertEqual(out.returncode, 0, out.stderr)
        text, _, status = out.stdout.decode().rpartition('\n')
        head, _, payload = text.partition('\r\n\r\n')
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = payload
        return int(status), parsed, head

    # ---- publish ----------------------------------------------------------------------------------

    async def test_curl_publishes_to_an_autobahn_subscriber(self):
        sub = await self.wamp()
        inbox = Inbox()
        await sub.subscribe(inbox.handler, 'com.example.orders')
        status, reply, head = await self.curl('/bridge/a/publish', {
            'topic': 'com.example.orders', 'args': [1, 'two', {'three': 3}], 'kwargs': {'total': 99.5}})
        self.assertEqual(status, 200, reply)
        self.assertIsInstance(reply['id'], int)
        self.assertIn('Content-Type: application/json', head)
        args, kwargs, _ = await inbox.get()
        self.assertEqual((list(args), kwargs), ([1, 'two', {'three': 3}], {'total': 99.5}))
        # options pass through: exclude a subscriber by its session id
        status, _, _ = await self.curl('/bridge/a/publish', {
            'topic': 'com.example.orders', 'args': ['skipped'], 'options': {'exclude': [sub.session_id]}})
        self.assertEqual(status, 200)
        await inbox.assert_empty(self)

    # ---- call -------------------------------------------------------------------------------------

    async def test_curl_calls_an_autobahn_callee(self):
        callee = await self.wamp()

        def add(a, b, scale=1):
            return CallResult((a + b) * scale, note='sum')

        def fail(code):
            raise ApplicationError('com.example.failed', 'bad input', code=code)

        async def slow():
            await asyncio.sleep(5)

        await callee.register(add, 'com.example.add')
        await callee.register(fail, 'com.example.fail')
        await callee.register(slow, 'com.example.slow')
        status, reply, _ = await self.curl('/bridge/a/call', {'procedure': 'com.example.add', 'args': [2, 3],
                                                              'kwargs': {'scale': 10}})
        self.assertEqual((status, reply), (200, {'args': [50], 'kwargs': {'note': 'sum'}}))
        status, reply, _ = await self.curl('/bridge/a/call', {'procedure': 'com.example.fail', 'args': [7]})
        self.assertEqual(status, 500)
        self.assertEqual(reply, {'error': 'com.example.failed', 'args': ['bad input'], 'kwargs': {'code': 7}})
        status, reply, _ = await self.curl('/bridge/a/call', {'procedure': 'com.example.nothing'})
        self.assertEqual((status, reply['error']), (404, 'wamp.error.no_such_procedure'))
        status, reply, _ = await self.curl('/bridge/a/call', {'procedure': 'com.example.slow',
                                                              'options': {'timeout': 300}})
        self.assertEqual((status, reply['error']), (504, 'wamp.error.timeout'))

    async def test_many_concurrent_calls_each_get_their_own_answer(self):
        callee = await self.wamp()

        async def echo(x):
            await asyncio.sleep(0.01 * (x % 5))
            return x

        await callee.register(echo, 'com.example.echo')
        results = await asyncio.gather(*[self.curl('/bridge/a/call', {'procedure': 'com.example.echo', 'args': [i]})
                                         for i in range(20)])
        self.assertEqual([r[1]['args'][0] for r in results], list(range(20)))
        self.assertTrue(all(r[0] == 200 for r in results))

    # ---- Server-Sent Events -----------------------------------------------------------------------

    async def sse(self, cmd_tail):
        """Starts `curl -sN` for an SSE response; returns the process (stdout: the raw stream)."""
        return await asyncio.create_subprocess_exec('curl', '-sN', '-D', '-', *cmd_tail, stdout=subprocess.PIPE)

    async def read_events(self, proc, n):
        """The next n SSE records of a curl stream: (event name or None, parsed data)."""
        events = []
        name = None
        while len(events) < n:
            line = (await asyncio.wait_for(proc.stdout.readline(), T)).decode()
            self.assertTrue(line, 'the stream ended after {} events'.format(len(events)))
            line = line.rstrip('\r\n')
            if line.startswith('event: '):
                name = line[len('event: '):]
            elif line.startswith('data: '):
                events.append((name, json.loads(line[len('data: '):])))
                name = None
        return events

    async def test_curl_subscribes_with_server_sent_events(self):
        pub = await self.wamp()
        proc = await self.sse(['-H', 'Authorization: Bearer ' + TOKEN,
                               self.base + '/bridge/a/subscribe?topic=com.example.feed&match=prefix'])
        try:
            head = b''
            while not head.endswith(b'\r\n\r\n'):
                head += await asyncio.wait_for(proc.stdout.readline(), T)
            self.assertTrue(head.startswith(b'HTTP/1.1 200'), head)
            self.assertIn(b'Content-Type: text/event-stream', head)
            for i in range(3):
                pub.publish('com.example.feed.item', i, tag='t{}'.format(i))
            events = await self.read_events(proc, 3)
            self.assertEqual([e[1]['args'] for e in events], [[0], [1], [2]])
            self.assertEqual(events[0][1]['kwargs'], {'tag': 't0'})
            self.assertEqual(events[0][1]['topic'], 'com.example.feed.item')
            self.assertIsInstance(events[0][1]['publication'], int)
        finally:
            proc.kill()
            await proc.wait()
        # the client went: the next event finds its stream gone and the bridge unsubscribes
        pub.publish('com.example.feed.item', 99)
        for _ in range(50):
            await asyncio.sleep(0.05)
            if await pub.call('wamp.subscription.match', 'com.example.feed.item') is None:
                break
        self.assertIsNone(await pub.call('wamp.subscription.match', 'com.example.feed.item'))
        # a topic the principal may not subscribe to, or no topic: plain HTTP errors, no stream
        status, reply, _ = await self.curl('/api/b/subscribe', token=None, query='topic=com.closed.x')
        self.assertEqual((status, reply['error']), (403, 'wamp.error.not_authorized'))
        status, _, _ = await self.curl('/bridge/a/subscribe')
        self.assertEqual(status, 400)

    async def test_long_streams_and_slow_calls_outlive_the_keepalive(self):
        """HTTP clients say nothing while they wait: with keepalive at 200 ms, an SSE stream stays
        open (the router sends SSE comments) and a call that takes a second is answered."""
        router = RouterProcess(config={
            'listeners': [{'type': 'universal', 'port': 0, 'keepalive': {'interval_ms': 200, 'timeout_ms': 200}}],
            'realms': [{'name': 'k', 'http_bridge': {'path': '/k', 'anonymous_role': 'anonymous'}}]}).start()
        try:
            host, port, _ = split_url(router.urls['universal'])
            base = 'http://{}:{}'.format(host, port)
            s = await connect('json', realm='k', url='ws://{}:{}/ws'.format(host, port))
            self._closers.append(s)

            async def slow():
                await asyncio.sleep(1.2)
                return 'late'

            await s.register(slow, 'com.k.slow')
            out = await asyncio.to_thread(subprocess.run, [
                'curl', '-sS', '-H', 'Content-Type: application/json', '--data-binary', '{"procedure": "com.k.slow"}',
                base + '/k/call'], capture_output=True, timeout=T)
            self.assertEqual(json.loads(out.stdout), {'args': ['late'], 'kwargs': {}})
            proc = await self.sse([base + '/k/subscribe?topic=com.k.feed'])
            try:
                comments = 0
                deadline = asyncio.get_running_loop().time() + 1.5
                while asyncio.get_running_loop().time() < deadline:
                    try:
                        line = await asyncio.wait_for(proc.stdout.readline(), 0.5)
                    except asyncio.TimeoutError:
                        continue
                    self.assertTrue(line, 'the stream was closed')
                    comments += line == b':\n'
                self.assertGreater(comments, 0)
                s.publish('com.k.feed', 'still here')
                self.assertEqual((await self.read_events(proc, 1))[0][1]['args'], ['still here'])
            finally:
                proc.kill()
                await proc.wait()
        finally:
            router.stop()

    async def test_an_sse_client_that_does_not_read_is_a_slow_consumer(self):
        """The realm's slow_consumer policy applies to event streams: under "disconnect", a client
        that stops reading is closed once more than limits.max_outbound_bytes wait for it, and the
        other subscribers go on."""
        import socket
        router = RouterProcess(config={
            'listeners': [{'type': 'universal', 'port': 0}],
            'limits': {'max_outbound_bytes': 65536},
            'realms': [{'name': 's', 'slow_consumer': 'disconnect',
                        'http_bridge': {'path': '/s', 'anonymous_role': 'anonymous'}}]}).start()
        try:
            host, port, _ = split_url(router.urls['universal'])
            pub = await connect('json', realm='s', url='ws://{}:{}/ws'.format(host, port))
            sub = await connect('json', realm='s', url='ws://{}:{}/ws'.format(host, port))
            self._closers += [pub, sub]
            inbox = Inbox()
            await sub.subscribe(inbox.handler, 'com.s.other')
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # the kernel holds little for it
            sock.connect((host, port))
            sock.sendall(b'GET /s/subscribe?topic=com.s.feed HTTP/1.1\r\nHost: x\r\n\r\n')
            await asyncio.sleep(0.3)  # subscribed; from here on it reads nothing
            big = 'x' * 8192
            for i in range(1500):  # 12 MB: more than any socket buffer holds
                pub.publish('com.s.feed', big, i)
                if i % 100 == 0:
                    await asyncio.sleep(0.01)
            await asyncio.to_thread(router.wait_for_log, 'slow consumer')
            pub.publish('com.s.other', 'still served')
            self.assertEqual(list((await inbox.get())[0]), ['still served'])
            sock.close()
        finally:
            router.stop()

    async def test_progressive_results_as_server_sent_events(self):
        callee = await self.wamp()

        def countdown(n, details=None):
            if details.progress:
                for i in range(n, 0, -1):
                    details.progress(i)
            return CallResult('liftoff', n=n)

        await callee.register(countdown, 'com.example.countdown', options=RegisterOptions(details_arg='details'))
        proc = await self.sse(['-H', 'Authorization: Bearer ' + TOKEN, '-H', 'Accept: text/event-stream',
                               '-H', 'Content-Type: application/json', '--data-binary',
                               json.dumps({'procedure': 'com.example.countdown', 'args': [3]}),
                               self.base + '/bridge/a/call'])
        try:
            events = await self.read_events(proc, 4)
        finally:
            out = await asyncio.wait_for(proc.communicate(), T)
        self.assertEqual([e[1] for e in events], [
            {'args': [3], 'kwargs': {}, 'progress': True},
            {'args': [2], 'kwargs': {}, 'progress': True},
            {'args': [1], 'kwargs': {}, 'progress': True},
            {'args': ['liftoff'], 'kwargs': {'n': 3}, 'progress': False}])
        self.assertEqual(proc.returncode, 0)  # the stream ended with the final result
        # without Accept: text/event-stream, the same call gives one JSON answer
        status, reply, _ = await self.curl('/bridge/a/call', {'procedure': 'com.example.countdown', 'args': [2]})
        self.assertEqual((status, reply), (200, {'args': ['liftoff'], 'kwargs': {'n': 2}}))

    # ---- credentials ------------------------------------------------------------------------------

    async def test_requests_without_or_with_wrong_credentials_get_401(self):
        status, reply, head = await self.curl('/bridge/a/publish', {'topic': 'com.example.t'}, token=None)
        self.assertEqual((status, reply['error']), (401, 'wamp.error.not_authorized'))
        self.assertIn('WWW-Authenticate: Bearer realm="a"', head)
        status, _, _ = await self.curl('/bridge/a/publish', {'topic': 'com.example.t'}, token='not-a-token')
        self.assertEqual(status, 401)
        # the stored hash may be given in upper case
        status, _, _ = await self.curl('/bridge/a/publish', {'topic': 'com.example.t'}, token=VIEWER_TOKEN)
        self.assertEqual(status, 200)

    async def test_signed_requests_crossbar_style(self):
        sub = await self.wamp()
        inbox = Inbox()
        await sub.subscribe(inbox.handler, 'com.example.signed')
        body = json.dumps({'topic': 'com.example.signed', 'args': ['hello']}).encode()
        query = signed_query(body, nonce=424242)
        status, reply, _ = await self.curl('/bridge/a/publish', body, token=None, query=query)
        self.assertEqual(status, 200, reply)
        self.assertEqual(list((await inbox.get())[0]), ['hello'])
        # the same request again is a replay
        status, reply, _ = await self.curl('/bridge/a/publish', body, token=None, query=query)
        self.assertEqual(status, 401)
        self.assertIn('replay', reply['args'][0])
        # a body that is not the one signed, a wrong secret, an old timestamp, a missing part
        status, _, _ = await self.curl('/bridge/a/publish', body.replace(b'hello', b'HELLO'), token=None,
                                       query=signed_query(body))
        self.assertEqual(status, 401)
        status, _, _ = await self.curl('/bridge/a/publish', body, token=None,
                                       query=signed_query(body, secret='wrong-secret-wrong-secret'))
        self.assertEqual(status, 401)
        old = datetime.datetime.utcnow() - datetime.timedelta(minutes=10)
        status, reply, _ = await self.curl('/bridge/a/publish', body, token=None, query=signed_query(body, when=old))
        self.assertEqual(status, 401)
        self.assertIn('away from the router', reply['args'][0])
        status, _, _ = await self.curl('/bridge/a/publish', body, token=None,
                                       query=signed_query(body).replace('seq=1&', ''))
        self.assertEqual(status, 400)
        await inbox.assert_empty(self)

    # ---- authorization and the meta API -------------------------------------------------------------

    async def test_the_principals_role_is_authorized_like_a_wamp_session(self):
        callee = await self.wamp('b')
        await callee.register(lambda: 'open', 'com.open.hello')
        await callee.register(lambda: 'closed', 'com.closed.hello')
        # realm b: no credentials needed (anonymous_role public), and public may call com.open. only
        status, reply, _ = await self.curl('/api/b/call', {'procedure': 'com.open.hello'}, token=None)
        self.assertEqual((status, reply['args']), (200, ['open']))
        status, reply, _ = await self.curl('/api/b/call', {'procedure': 'com.closed.hello'}, token=None)
        self.assertEqual((status, reply['error']), (403, 'wamp.error.not_authorized'))
        # a token of realm a means nothing in b
        status, _, _ = await self.curl('/api/b/call', {'procedure': 'com.open.hello'})
        self.assertEqual(status, 401)

    async def test_the_bridge_appears_in_the_meta_api_as_sessions_of_its_own(self):
        watcher = await self.wamp()
        status, _, _ = await self.curl('/bridge/a/publish', {'topic': 'com.example.meta'})
        self.assertEqual(status, 200)
        found = None
        for sid in await watcher.call('wamp.session.list'):
            details = await watcher.call('wamp.session.get', sid)
            if details.get('authid') == 'billing':
                found = details
        self.assertIsNotNone(found)
        self.assertEqual((found['authrole'], found['authmethod']), ('backend', 'http-bearer'))
        self.assertEqual(found['transport']['type'], 'http')
        # one session per principal, reused: another request adds none
        before = await watcher.call('wamp.session.count')
        await self.curl('/bridge/a/publish', {'topic': 'com.example.meta'})
        self.assertEqual(await watcher.call('wamp.session.count'), before)
        # killed, it is made again on the next request
        await watcher.call('wamp.session.kill', found['session'])
        status, _, _ = await self.curl('/bridge/a/publish', {'topic': 'com.example.meta'})
        self.assertEqual(status, 200)

    # ---- malformed requests -----------------------------------------------------------------------

    async def test_malformed_requests(self):
        status, reply, _ = await self.curl('/bridge/a/publish', '{"topic": ')
        self.assertEqual((status, reply['error']), (400, 'wamp.error.invalid_argument'))
        status, _, _ = await self.curl('/bridge/a/publish', {'args': [1]})
        self.assertEqual(status, 400)
        status, _, _ = await self.curl('/bridge/a/publish', {'topic': 'com.x', 'args': {'not': 'a list'}})
        self.assertEqual(status, 400)
        status, _, _ = await self.curl('/bridge/a/publish', {'topic': 'com..bad'})
        self.assertEqual(status, 400)  # wamp.error.invalid_uri, from the broker
        status, _, head = await self.curl('/bridge/a/publish')
        self.assertEqual(status, 405)
        self.assertIn('Allow: POST', head)
        status, _, _ = await self.curl('/bridge/a/publish', 'x', content_type='text/plain')
        self.assertEqual(status, 415)
        status, _, _ = await self.curl('/bridge/a/other', {})
        self.assertEqual(status, 404)
