"""Junction as operators run it (issue 12): reload on SIGHUP and POST /admin/reload, graceful shutdown
on SIGTERM, /healthz /readyz /metrics (checked with Debian's promtool where installed), JSON logs.
Each test runs a router of its own, started from a config file."""

import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import time

from autobahn.wamp.exception import ApplicationError

from harness import (T, Aborted, RouterProcess, WampCases, connect, http_get, http_upgrade, read_http_response, single,
                     split_url, uri)

PROMTOOL = shutil.which('promtool')


def base_config(**extra):
    config = {
        'listeners': [{'type': 'universal', 'port': 0}],
        'realms': [{'name': 'a'}, {'name': 'b'}],
        'log': {'level': 'info'},
    }
    config.update(extra)
    return config


def metric(text, name, **labels):
    """The value of one sample of the exposition `text` (None when absent)."""
    want = ','.join('{}="{}"'.format(k, v) for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith('#'):
            continue
        key, _, value = line.rpartition(' ')
        if key == name + ('{' + want + '}' if want else ''):
            return float(value)
    return None


@single
class OpsTests(WampCases):

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.router = None

    async def asyncTearDown(self):
        if self.router:
            self.router.stop()
        await super().asyncTearDown()

    def start(self, config):
        self.router = RouterProcess(config=config).start()
        host, port, _ = split_url(self.router.urls['universal'])
        self.host, self.port = host, port
        self.ws = 'ws://{}:{}/ws'.format(host, port)
        self.rs = 'rs://{}:{}'.format(host, port)
        return self.router

    async def get(self, path, method='GET'):
        return await http_get(self.host, self.port, path, method)

    async def scrape(self):
        status, headers, body = await self.get('/metrics')
        self.assertEqual(status, 200)
        self.assertTrue(headers['content-type'].startswith('text/plain; version=0.0.4'), headers)
        return body.decode()

    # ---- reload ---------------------------------------------------------------------------------

    async def test_sighup_adds_and_removes_realms_without_touching_other_sessions(self):
        self.start(base_config())
        in_a = await connect('json', realm='a', url=self.ws)
        in_b = await connect('msgpack', realm='b', url=self.rs)
        proc = uri()
        await in_a.register(lambda x: x * 2, proc)
        with self.assertRaises(Aborted):
            await connect('json', realm='c', url=self.ws)
        config = base_config(realms=[{'name': 'a'}, {'name': 'c'}])
        self.router.reload(config)
        log = self.router.wait_for_log('reload (SIGHUP): realm c added')
        self.assertIn('reload (SIGHUP): realm b removed (1 sessions closed)', log)
        # b's session is told GOODBYE close_realm; a's session goes on
        details = await asyncio.wait_for(asyncio.shield(in_b.left), T)
        self.assertEqual(details.reason, 'wamp.close.close_realm')
        self.assertEqual(await in_a.call(proc, 21), 42)
        in_c = await connect('json', realm='c', url=self.rs)
        self.assertEqual(in_c.joined.result().realm, 'c')
        await in_c.close()
        with self.assertRaises(Aborted) as ctx:
            await connect('json', realm='b', url=self.ws)
        self.assertIn('wamp.error.no_such_realm', str(ctx.exception))
        await in_a.close()

    async def test_a_bad_file_changes_nothing_and_says_why(self):
        self.start(base_config())
        s = await connect('json', realm='b', url=self.ws)
        self.router.write_raw_config(json.dumps({'realms': [{'name': 'a', 'max_retained_events': 'ten'}]}))
        self.router.proc.send_signal(signal.SIGHUP)
        log = self.router.wait_for_log('refused, nothing changed')
        self.assertIn('/realms/0/max_retained_events: expected an unsigned integer, got "ten"', log)
        self.router.write_raw_config('{"realms": [')
        self.router.proc.send_signal(signal.SIGHUP)
        log = self.router.wait_for_log('not valid JSON')
        # b still exists and its session still works
        await s.subscribe(lambda: None, uri())
        await s.close()
        s2 = await connect('json', realm='b', url=self.ws)
        await s2.close()

    async def test_reload_changes_realm_settings_and_listeners(self):
        self.start(base_config())
        s = await connect('json', realm='a', url=self.ws)
        await s.register(lambda: 1, 'com.Mixed.Case')  # loose URIs by default
        await s.register(lambda: 2, 'com.lower.case')
        config = base_config(realms=[{'name': 'a', 'uri_check': 'strict'}, {'name': 'b'}])
        config['listeners'].append({'type': 'rs', 'port': 0})
        self.router.reload(config)
        log = self.router.wait_for_log('reload (SIGHUP): realm a: uri_check loose → strict')
        self.router.wait_for_log('reload (SIGHUP): listener rs://127.0.0.1:')
        added = [l for l in self.router.output().splitlines() if 'listener rs://' in l and 'added' in l]
        self.assertEqual(len(added), 1, log)
        rs_url = added[0].split('listener ', 1)[1].split(' ', 1)[0]
        s_rs = await connect('msgpack', realm='a', url=rs_url)
        with self.assertRaises(ApplicationError) as ctx:
            await s_rs.register(lambda: 1, 'com.Other.Case')
        self.assertEqual(ctx.exception.error, 'wamp.error.invalid_uri')
        self.assertEqual(await s_rs.call('com.lower.case'), 2)  # registered before: still served
        # and removed again: its session is told GOODBYE
        self.router.reload(base_config(realms=[{'name': 'a', 'uri_check': 'strict'}, {'name': 'b'}]))
        self.router.wait_for_log('reload (SIGHUP): listener ' + rs_url + ' removed')
        details = await asyncio.wait_for(asyncio.shield(s_rs.left), T)
        self.assertEqual(details.reason, 'wamp.close.system_shutdown')
        with self.assertRaises(OSError):
            host, port, _ = split_url(rs_url)
            await asyncio.wait_for(asyncio.open_connection(host, port), T)
        await s.close()

    async def test_post_admin_reload(self):
        self.start(base_config())
        status, _, body = await self.get('/admin/reload', method='POST')
        self.assertEqual(status, 200, body)
        self.assertIn(b'no changes', body)
        self.router.write_config(base_config(realms=[{'name': 'a'}]))
        status, _, body = await self.get('/admin/reload', method='POST')
        self.assertEqual(status, 200, body)
        self.assertIn(b'realm b removed', body)
        self.router.write_raw_config('{"bogus": 1}')
        status, _, body = await self.get('/admin/reload', method='POST')
        self.assertEqual(status, 409, body)
        self.assertIn(b'/bogus: unknown key', body)
        status, headers, _ = await self.get('/admin/reload')
        self.assertEqual(status, 405)
        self.assertEqual(headers['allow'], 'POST')

    # ---- shutdown -------------------------------------------------------------------------------

    async def test_sigterm_drains_calls_then_says_goodbye(self):
        self.start(base_config(shutdown={'drain_timeout_ms': 5000}))
        callee = await connect('json', realm='a', url=self.ws)
        caller = await connect('msgpack', realm='a', url=self.rs)
        proc = uri()
        release = asyncio.get_running_loop().create_future()

        async def slow():
            await release
            return 'done'

        await callee.register(slow, proc)
        call = asyncio.ensure_future(caller.call(proc))
        await asyncio.sleep(0.2)
        self.router.proc.send_signal(signal.SIGTERM)
        self.router.wait_for_log('shutdown: /readyz answers 503')
        status, _, body = await self.get('/readyz')
        self.assertEqual((status, body), (503, b'shutting down\n'))
        # new sessions and new calls are refused while the call in flight goes on
        status, _ = await http_upgrade('/ws', ['wamp.2.json'], url=self.ws)
        self.assertEqual(status, 503)
        r, w = await asyncio.open_connection(self.host, self.port)
        w.write(bytes([0x7F, 0xF1, 0, 0]))
        self.assertEqual(await asyncio.wait_for(r.read(), T), bytes([0x7F, 0x40, 0, 0]))  # error 4
        w.close()
        with self.assertRaises(ApplicationError) as ctx:
            await caller.call(proc)
        self.assertEqual(ctx.exception.error, 'wamp.error.canceled')
        release.set_result(None)
        self.assertEqual(await asyncio.wait_for(call, T), 'done')
        for s in (callee, caller):
            details = await asyncio.wait_for(asyncio.shield(s.left), T)
            self.assertEqual(details.reason, 'wamp.close.system_shutdown')
        self.assertEqual(await asyncio.to_thread(self.router.proc.wait, 10), 0)
        self.assertIn('stopped', self.router.output())

    async def test_a_call_that_outlives_the_drain_is_answered_canceled(self):
        self.start(base_config(shutdown={'drain_timeout_ms': 300}))
        callee = await connect('json', realm='a', url=self.ws)
        caller = await connect('json', realm='a', url=self.ws)
        proc = uri()
        interrupted = asyncio.get_running_loop().create_future()

        async def forever():
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                interrupted.set_result(True)
                raise

        await callee.register(forever, proc)
        call = asyncio.ensure_future(caller.call(proc))
        await asyncio.sleep(0.2)
        t0 = time.monotonic()
        self.router.proc.send_signal(signal.SIGTERM)
        with self.assertRaises(ApplicationError) as ctx:
            await asyncio.wait_for(call, T)
        self.assertEqual(ctx.exception.error, 'wamp.error.canceled')
        self.assertGreaterEqual(time.monotonic() - t0, 0.25)
        self.assertTrue(await asyncio.wait_for(interrupted, T))  # the callee heard INTERRUPT
        self.assertEqual(await asyncio.to_thread(self.router.proc.wait, 10), 0)
        self.assertIn('shutdown: 1 calls did not finish in time', self.router.output())

    async def test_a_second_signal_exits_at_once(self):
        self.start(base_config(shutdown={'drain_timeout_ms': 60000}))
        callee = await connect('json', realm='a', url=self.ws)
        caller = await connect('json', realm='a', url=self.ws)
        proc = uri()
        await callee.register(lambda: asyncio.sleep(60), proc)
        asyncio.ensure_future(caller.call(proc))
        await asyncio.sleep(0.2)
        self.router.proc.send_signal(signal.SIGTERM)
        self.router.wait_for_log('shutdown: /readyz answers 503')
        t0 = time.monotonic()
        self.router.proc.send_signal(signal.SIGINT)
        self.assertEqual(await asyncio.to_thread(self.router.proc.wait, 5), 1)
        self.assertLess(time.monotonic() - t0, 3)

    # ---- health and metrics ---------------------------------------------------------------------

    async def test_healthz_readyz_and_methods(self):
        self.start(base_config())
        self.assertEqual((await self.get('/healthz'))[0:3:2], (200, b'ok\n'))
        self.assertEqual((await self.get('/readyz'))[0:3:2], (200, b'ready\n'))
        status, headers, body = await self.get('/healthz', method='HEAD')
        self.assertEqual((status, body), (200, b''))
        self.assertEqual(headers['content-length'], '3')
        status, headers, _ = await self.get('/metrics', method='DELETE')
        self.assertEqual(status, 405)
        self.assertEqual(headers['allow'], 'GET, HEAD')
        self.assertEqual((await self.get('/nothing'))[0], 404)

    # ---- HTTP/1.1: keep-alive, pipelining, bodies (issue 18) --------------------------------------

    async def test_curl_reuses_one_connection_for_several_requests(self):
        self.start(base_config())
        base = 'http://{}:{}'.format(self.host, self.port)
        out = await asyncio.to_thread(subprocess.run, ['curl', '-sv', base + '/healthz', base + '/readyz',
                                                       base + '/nothing'], capture_output=True, text=True, timeout=T)
        self.assertEqual(out.stdout, 'ok\nready\nnot found\n')
        self.assertIn('Re-using existing connection', out.stderr)
        self.assertNotIn('Closing connection', out.stderr.split('Re-using', 1)[0])
        # Expect: 100-continue is answered before the body is sent (curl would otherwise wait 1 s)
        out = await asyncio.to_thread(subprocess.run, ['curl', '-sv', '-H', 'Expect: 100-continue', '--data-binary',
                                                       'x' * 2000, base + '/healthz'],
                                      capture_output=True, text=True, timeout=T)
        self.assertIn('HTTP/1.1 100 Continue', out.stderr)
        self.assertIn('HTTP/1.1 405', out.stderr)
        self.assertIn('< Allow: GET, HEAD', out.stderr)

    async def test_pipelined_requests_with_bodies_then_an_upgrade_on_the_same_connection(self):
        self.start(base_config())
        r, w = await asyncio.open_connection(self.host, self.port)
        try:
            body = b'{"topic": "com.example"}'
            chunked = b'%x\r\n%s\r\n0\r\n\r\n' % (len(body), body)
            w.write(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'
                    b'POST /readyz HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s' % (len(body), body) +
                    b'POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' + chunked +
                    b'HEAD /readyz HTTP/1.1\r\nHost: x\r\n\r\n')
            self.assertEqual((await read_http_response(r))[0:3:2], (200, b'ok\n'))
            status, headers, _ = await read_http_response(r)
            self.assertEqual((status, headers['allow'], headers['connection']), (405, 'GET, HEAD', 'keep-alive'))
            self.assertEqual((await read_http_response(r))[0], 405)  # the chunked body was read past
            head = await asyncio.wait_for(r.readuntil(b'\r\n\r\n'), T)  # HEAD: no body follows
            self.assertIn(b'Content-Length: 6\r\n', head)
            # Now the same connection becomes a WebSocket
            key = base64.b64encode(os.urandom(16)).decode()
            w.write(('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                     'Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp.2.json\r\n'
                     '\r\n').format(key).encode())
            head = await asyncio.wait_for(r.readuntil(b'\r\n\r\n'), T)
            self.assertTrue(head.startswith(b'HTTP/1.1 101 '), head)
        finally:
            w.close()

    async def test_request_limits_and_keep_alive_timeout(self):
        config = base_config()
        config['listeners'][0]['handshake_timeout_ms'] = 400
        self.start(config)
        # A body over the limit is refused before it is sent, and the connection ends
        r, w = await asyncio.open_connection(self.host, self.port)
        w.write(b'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n')
        status, headers, body = await read_http_response(r)
        self.assertEqual((status, headers['connection']), (413, 'close'))
        self.assertIn(b'request body over 1048576 bytes', body)
        self.assertEqual(await asyncio.wait_for(r.read(), T), b'')
        w.close()
        # An unknown transfer coding is 501
        r, w = await asyncio.open_connection(self.host, self.port)
        w.write(b'POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n')
        self.assertEqual((await read_http_response(r))[0], 501)
        w.close()
        # A kept-alive connection that sends nothing more is closed after handshake_timeout_ms
        r, w = await asyncio.open_connection(self.host, self.port)
        w.write(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
        self.assertEqual((await read_http_response(r))[0], 200)
        t0 = time.monotonic()
        await asyncio.sleep(0.25)
        w.write(b'GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n')  # within the timeout: answered, timer restarts
        self.assertEqual((await read_http_response(r))[0], 200)
        self.assertEqual(await asyncio.wait_for(r.read(), T), b'')
        self.assertGreater(time.monotonic() - t0, 0.5)
        w.close()
        self.router.wait_for_log('no next HTTP request')

    # ---- static files (issue 18) ------------------------------------------------------------------

    async def test_static_files_and_no_way_out_of_the_directory(self):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            site = os.path.join(tmp, 'site')
            os.makedirs(os.path.join(site, 'sub'))
            with open(os.path.join(site, 'index.html'), 'w') as f:
                f.write('<h1>home</h1>')
            with open(os.path.join(site, 'app.js'), 'w') as f:
                f.write('console.log(1)')
            with open(os.path.join(site, 'sub', 'page.html'), 'w') as f:
                f.write('<p>sub</p>')
            with open(os.path.join(site, '.env'), 'w') as f:
                f.write('SECRET=1')
            with open(os.path.join(tmp, 'outside.txt'), 'w') as f:
                f.write('outside')
            os.symlink(os.path.join(tmp, 'outside.txt'), os.path.join(site, 'link.txt'))
            config = base_config()
            config['listeners'][0]['web'] = [{'path': '/app', 'directory': site, 'max_age_s': 60}]
            self.start(config)

            async def get(target, method='GET', extra=''):
                r, w = await asyncio.open_connection(self.host, self.port)
                try:
                    w.write('{} {} HTTP/1.1\r\nHost: x\r\n{}\r\n'.format(method, target, extra).encode())
                    return await read_http_response(r) if method != 'HEAD' else (
                        await asyncio.wait_for(r.readuntil(b'\r\n\r\n'), T))
                finally:
                    w.close()

            status, headers, body = await get('/app/')
            self.assertEqual((status, body), (200, b'<h1>home</h1>'))
            self.assertEqual(headers['content-type'], 'text/html; charset=utf-8')
            self.assertEqual(headers['cache-control'], 'public, max-age=60')
            status, headers, _ = await get('/app')
            self.assertEqual((status, headers['location']), (301, '/app/'))
            status, headers, body = await get('/app/app.js')
            self.assertEqual((status, headers['content-type'], body),
                             (200, 'text/javascript; charset=utf-8', b'console.log(1)'))
            status, _, body = await get('/app/sub/page.html')
            self.assertEqual((status, body), (200, b'<p>sub</p>'))
            # revalidation: the ETag comes back as 304 without a body
            etag = headers['etag']
            status, headers, body = await get('/app/app.js', extra='If-None-Match: {}\r\n'.format(etag))
            self.assertEqual((status, body), (304, b''))
            self.assertNotIn('content-length', headers)
            head = await get('/app/app.js', method='HEAD')
            self.assertIn(b'Content-Length: 14', head)
            self.assertEqual((await get('/app/app.js', method='POST', extra='Content-Length: 0\r\n'))[0], 405)
            # no way out: dot segments raw and encoded, hidden files, a symlink leading outside, NUL
            for target in ['/app/../outside.txt', '/app/%2e%2e/outside.txt', '/app/..%2foutside.txt',
                           '/app/sub/..%2f..%2foutside.txt', '/app/sub/%2E%2E/%2E%2E/outside.txt',
                           '/app/.env', '/app/sub/../.env', '/app/link.txt', '/app/app.js%00.html',
                           '/app/%5c..%5coutside.txt', '/app/nothing.html', '/appx/index.html']:
                status, _, body = await get(target)
                self.assertIn(status, (403, 404), target)
                self.assertNotIn(b'outside', body, target)
                self.assertNotIn(b'SECRET', body, target)
            # curl, as a user would
            out = await asyncio.to_thread(subprocess.run, ['curl', '-s', '--path-as-is', '-o', '/dev/null', '-w',
                                                           '%{http_code}', 'http://{}:{}/app/../outside.txt'.format(
                                                               self.host, self.port)],
                                          capture_output=True, text=True, timeout=T)
            self.assertEqual(out.stdout, '404')

    async def test_admin_routes_only_where_the_config_says(self):
        config = base_config()
        config['listeners'] = [{'type': 'universal', 'port': 0, 'admin': False},
                               {'type': 'ws', 'host': '0.0.0.0', 'port': 0},
                               {'type': 'http', 'port': 0}]
        self.start(config)
        self.assertEqual((await self.get('/metrics'))[0], 404)
        host, port, _ = split_url(self.router.urls['ws'])
        self.assertEqual((await http_get('127.0.0.1', port, '/metrics'))[0], 404)  # bound to 0.0.0.0
        host, port, _ = split_url(self.router.urls['http'])
        status, _, body = await http_get(host, port, '/metrics')
        self.assertEqual(status, 200)
        self.assertIn(b'junction_build_info', body)
        # an http listener speaks no WAMP
        status, _ = await http_upgrade('/ws', ['wamp.2.json'], url='ws://{}:{}/ws'.format(host, port))
        self.assertEqual(status, 404)

    async def test_metrics_follow_traffic(self):
        self.start(base_config())
        before = await self.scrape()
        callee = await connect('json', realm='a', url=self.ws)
        caller = await connect('msgpack', realm='a', url=self.rs)
        proc = uri()
        await callee.register(lambda: 'x', proc)
        for _ in range(3):
            self.assertEqual(await caller.call(proc), 'x')
        with self.assertRaises(ApplicationError):
            await caller.call(uri())  # no such procedure: refused by the router
        topic = uri()
        got = asyncio.get_running_loop().create_future()
        await callee.subscribe(lambda: got.done() or got.set_result(True), topic)
        from autobahn.wamp.types import PublishOptions
        await caller.publish(topic, options=PublishOptions(acknowledge=True))
        await asyncio.wait_for(got, T)
        # a RawSocket handshake with a bad serializer is refused and counted
        r, w = await asyncio.open_connection(self.host, self.port)
        w.write(bytes([0x7F, 0xF9, 0, 0]))
        await asyncio.wait_for(r.read(), T)
        w.close()
        after = await self.scrape()
        self.assertEqual(metric(after, 'junction_calls_total', realm='a'), 3)
        self.assertEqual(metric(after, 'junction_calls_ended_total', realm='a', outcome='result'), 3)
        self.assertEqual(metric(after, 'junction_calls_refused_total', realm='a'), 1)
        self.assertEqual(metric(after, 'junction_call_duration_seconds_count', realm='a'), 3)
        self.assertEqual(metric(after, 'junction_sessions', realm='a', transport='websocket'), 1)
        self.assertEqual(metric(after, 'junction_sessions', realm='a', transport='rawsocket'), 1)
        self.assertEqual(metric(after, 'junction_registrations', realm='a'), 1)
        self.assertEqual(metric(after, 'junction_subscriptions', realm='a'), 1)
        self.assertEqual(metric(after, 'junction_publications_total', realm='a'), 1)
        self.assertEqual(metric(after, 'junction_events_delivered_total', realm='a'), 1)
        self.assertEqual(metric(after, 'junction_messages_received_total', type='CALL'), 4)
        self.assertEqual(metric(after, 'junction_messages_sent_total', type='RESULT'), 3)
        self.assertEqual(metric(after, 'junction_connections_refused_total', reason='handshake'),
                         metric(before, 'junction_connections_refused_total', reason='handshake') + 1)
        self.assertGreater(metric(after, 'junction_connections_accepted_total', listener='universal'),
                           metric(before, 'junction_connections_accepted_total', listener='universal'))
        self.assertGreater(metric(after, 'junction_received_bytes_total'), metric(before, 'junction_received_bytes_total'))
        self.assertGreater(metric(after, 'process_resident_memory_bytes'), 1e6)
        self.assertGreater(metric(after, 'process_open_fds'), 3)
        self.assertEqual(metric(after, 'junction_build_info', version=after.split('version="')[1].split('"')[0],
                                metrics='on'), 1)
        await callee.close()
        await caller.close()

    async def test_promtool_accepts_the_exposition(self):
        if PROMTOOL is None:
            self.skipTest('promtool (Debian prometheus) is not installed')
        self.start(base_config())
        s = await connect('json', realm='a', url=self.ws)
        text = await self.scrape()
        p = await asyncio.to_thread(subprocess.run, [PROMTOOL, 'check', 'metrics'], input=text,
                                    capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        await s.close()

    # ---- logs -----------------------------------------------------------------------------------

    async def test_json_logs_parse_and_carry_fields(self):
        self.start(base_config(log={'level': 'debug', 'format': 'json'}))
        s = await connect('json', realm='a', url=self.ws)
        await s.close()
        r, w = await asyncio.open_connection(self.host, self.port)  # a protocol violation
        w.write(bytes([0x7F, 0xF1, 0, 0]) + bytes([0, 0, 0, 5]) + b'[1,2]')
        await asyncio.wait_for(r.read(), T)
        w.close()
        self.router.wait_for_log('protocol violation')
        lines = [l for l in self.router.output().splitlines() if l.strip()]
        records = [json.loads(l) for l in lines]  # every line is one JSON object
        for rec in records:
            self.assertLessEqual({'time', 'level', 'message'}, set(rec))
        joined = [r for r in records if r['message'] == 'session joined']
        self.assertEqual(joined[0]['realm'], 'a')
        self.assertIsInstance(joined[0]['session'], int)
        violation = [r for r in records if r['message'].startswith('protocol violation')]
        self.assertEqual(violation[0]['level'], 'info')
        self.assertIn('peer', violation[0])
