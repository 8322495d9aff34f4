"""TLS listeners: WebSocket over TLS (wss://) and RawSocket over TLS (rss://), with a throwaway CA
and certificates made at test time; TLS 1.2/1.3 only; required client certificates."""

import asyncio
import os
import ssl
import tempfile

from autobahn.wamp.types import PublishOptions

from harness import T, RouterProcess, WampCases, connect, make_pki, openssl, single, uri  # noqa: F401


def client_context(d, cert=None, max_version=None):
    ctx = ssl.create_default_context(cafile=os.path.join(d, 'ca.pem'))
    if cert:
        ctx.load_cert_chain(os.path.join(d, cert + '.pem'), os.path.join(d, cert + '.key'))
    if max_version:
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx.maximum_version = max_version
        ctx.set_ciphers('DEFAULT:@SECLEVEL=0')
    return ctx


async def tls_handshake(port, ctx):
    """True if a TLS handshake with the router completes."""
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection('127.0.0.1', port, ssl=ctx), T)
    except (ssl.SSLError, ConnectionError, OSError):
        return False
    try:
        # With TLS 1.3 a refused client certificate shows only on the first read.
        w.write(bytes([0x7F, 0xF1, 0, 0]))
        await w.drain()
        data = await asyncio.wait_for(r.read(4), T)
        return len(data) == 4
    except (ssl.SSLError, ConnectionError, OSError):
        return False
    finally:
        w.close()


@single
class TlsTests(WampCases):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix='junction-pki-')
        make_pki(cls.dir)

    def _files(self):
        d = self.dir
        return 'cert={0}/server.pem&key={0}/server.key'.format(d)

    async def asyncSetUp(self):
        f = self._files()
        self.router = RouterProcess(listen=[
            'wss://127.0.0.1:0/ws?' + f,
            'rss://127.0.0.1:0?' + f,
            'rss://127.0.0.1:0?' + f + '&ca={}/ca.pem&verify-client=true'.format(self.dir),
            'ws://127.0.0.1:0/ws',
        ]).start()
        self.wss, self.rss, self.rss_mtls, self.ws = self.router.listeners
        self.port = lambda url: int(url.split(':')[2].split('/')[0].split('?')[0])

    async def asyncTearDown(self):
        self.router.stop()

    async def test_wss_and_rss_route_rpc_and_events_with_autobahn(self):
        ctx = client_context(self.dir)
        a = await connect('json', url=self.wss, ssl_context=ctx)
        b = await connect('msgpack', url=self.rss, ssl_context=ctx)
        plain = await connect('msgpack', url=self.ws)
        try:
            proc, topic = uri(), uri()
            await a.register(lambda x: x + b'!', proc)
            self.assertEqual(await b.call(proc, b'\x00tls'), b'\x00tls!')
            self.assertEqual(await plain.call(proc, b'ws'), b'ws!')
            got = asyncio.get_running_loop().create_future()
            await b.subscribe(lambda p: got.done() or got.set_result(p), topic)
            await a.publish(topic, b'\xfe', options=PublishOptions(acknowledge=True))
            self.assertEqual(await asyncio.wait_for(got, T), b'\xfe')
        finally:
            for s in (a, b, plain):
                await s.close()

    async def test_tls_1_1_is_refused(self):
        self.assertTrue(await tls_handshake(self.port(self.rss), client_context(self.dir)))
        old = client_context(self.dir, max_version=ssl.TLSVersion.TLSv1_1)
        self.assertFalse(await tls_handshake(self.port(self.rss), old))
        self.assertFalse(await tls_handshake(self.port(self.wss), old))

    async def test_client_certificates_when_required(self):
        port = self.port(self.rss_mtls)
        self.assertTrue(await tls_handshake(port, client_context(self.dir, cert='client')))
        self.assertFalse(await tls_handshake(port, client_context(self.dir)))          # none
        self.assertFalse(await tls_handshake(port, client_context(self.dir, cert='rogue')))
        # A refused client closes only its own connection.
        s = await connect('json', url=self.rss_mtls, ssl_context=client_context(self.dir, cert='client'))
        await s.close()

    async def test_plain_client_on_a_tls_port_is_refused_and_others_keep_working(self):
        r, w = await asyncio.open_connection('127.0.0.1', self.port(self.rss))
        w.write(bytes([0x7F, 0xF1, 0, 0]) + b'\x00\x00\x00\x02[]')  # a RawSocket handshake, in clear
        data = await asyncio.wait_for(r.read(), T)  # the router ends the connection
        self.assertNotEqual(data[:4], bytes([0x7F, 0xF1, 0, 0]))
        w.close()
        s = await connect('json', url=self.wss, ssl_context=client_context(self.dir))
        await s.close()


@single
class UniversalTlsTests(WampCases):
    """A universal port with a certificate: TLS first, then the first plaintext byte picks WebSocket
    (or plain HTTP for the admin routes) or RawSocket. Plaintext is refused."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix='junction-pki-')
        make_pki(cls.dir)

    async def asyncSetUp(self):
        f = 'cert={0}/server.pem&key={0}/server.key'.format(self.dir)
        self.router = RouterProcess(listen=['universal://127.0.0.1:0/ws?handshake-timeout=2000&' + f]).start()
        self.port = int(self.router.listeners[0].split(':')[2].split('/')[0])
        self.ctx = client_context(self.dir)

    async def asyncTearDown(self):
        self.router.stop()

    async def test_wss_and_rss_on_one_port_with_autobahn_every_serializer(self):
        self.assertIn('(TLS', self.router.output())
        sessions = []
        try:
            for ser in ('json', 'msgpack', 'cbor'):
                sessions.append(await connect(ser, url='wss://127.0.0.1:{}/ws'.format(self.port), ssl_context=self.ctx))
                sessions.append(await connect(ser, url='rss://127.0.0.1:{}'.format(self.port), ssl_context=self.ctx))
            proc = uri()
            await sessions[0].register(lambda x: x + b'!', proc)
            for s in sessions:
                self.assertEqual(await asyncio.wait_for(s.call(proc, b'\x00u'), T), b'\x00u!')
            # Both kinds went over TLS: the meta API shows each session's transport.
            details = [await sessions[0].call('wamp.session.get', s._session_id) for s in sessions]
            self.assertEqual(sorted({d['transport']['type'] for d in details}), ['rawsocket', 'websocket'])
        finally:
            for s in sessions:
                await s.close()

    async def test_https_admin_routes(self):
        r, w = await asyncio.wait_for(asyncio.open_connection('127.0.0.1', self.port, ssl=self.ctx), T)
        w.write(b'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
        data = await asyncio.wait_for(r.read(), T)
        w.close()
        self.assertTrue(data.startswith(b'HTTP/1.1 200'), data[:100])

    async def test_plaintext_is_refused_and_tls_clients_go_on(self):
        for first in (bytes([0x7F, 0xF1, 0, 0]), b'GET /ws HTTP/1.1\r\nHost: x\r\n\r\n'):
            r, w = await asyncio.open_connection('127.0.0.1', self.port)
            w.write(first)
            try:
                data = await asyncio.wait_for(r.read(), T)
            except ConnectionResetError:  # closed with our bytes unread: a reset
                data = b''
            self.assertEqual(data, b'', 'plaintext {!r} was answered'.format(first[:8]))
            w.close()
        self.assertIn('plaintext on a TLS port', self.router.output())
        # A TLS client that never sends its first message is closed after the handshake timeout.
        r, w = await asyncio.wait_for(asyncio.open_connection('127.0.0.1', self.port, ssl=self.ctx), T)
        self.assertEqual(await asyncio.wait_for(r.read(), T), b'')
        w.close()
        s = await connect('cbor', url='rss://127.0.0.1:{}'.format(self.port), ssl_context=self.ctx)
        await s.close()
