"""Authentication with Autobahn|Python (issue 13), over JSON and MessagePack, WebSocket and RawSocket:
ticket (in clear and hashed), WAMP-CRA (unsalted and salted), cryptosign (Ed25519 with python3-nacl,
TLS channel binding, router authentication), SCRAM (Autobahn's "scram" prototype, with argon2 from
Debian), TLS client certificates over wss and rss, dynamic authenticators registered by an
Autobahn|Python component in another realm (accepting, refusing, too slow), the throttle, the
challenge timeout, the meta API's view of authenticated sessions, and authentication metrics.

The principals' stored secrets are made with `junction --make-secret`, as an operator would."""

import asyncio
import binascii
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import time

from autobahn.wamp import auth as ab_auth
from autobahn.wamp.cryptosign import CryptosignKey
from autobahn.asyncio.util import transport_channel_id

from harness import (ABORT, BIN, CHALLENGE_CODE, HELLO, T, Aborted, RawWamp, RouterProcess, WampCases, connect,
                     each_serializer, http_get, make_pki, single, split_url)

SEED = binascii.unhexlify('4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510')
OTHER_SEED = binascii.unhexlify('6e1fde9cf9e2359a87420b65a87dc0c66136e66945196ba2475990d8a0c3a25b')
ROUTER_SEED = 'd511fe78e23934b3dadb52fcd022974b80bd92bccc7c5cf404e46cc0a8a2f5cd'


def make_secret(method, secret=''):
    p = subprocess.run([BIN, '--make-secret', method], input=secret + '\n', capture_output=True, text=True,
                       timeout=30, check=True)
    if method == 'cryptosign':
        return p.stdout
    return json.loads('{' + p.stdout + '}')


class AuthRouter:
    """One router for the whole module: realm "secure" (static principals of every method), "dyn"
    (dynamic authenticators in realm "authrealm"), "authrealm" (anonymous); ws, rs, wss and rss listeners,
    the TLS ones asking for client certificates from the test CA."""

    router = None
    pki = None

    @classmethod
    def get(cls):
        if cls.router is None:
            cls.pki = tempfile.mkdtemp(prefix='junction-auth-pki-')
            make_pki(cls.pki)
            salted = make_secret('wampcra', 's4lly')
            tls = {'cert': cls.pki + '/server.pem', 'key': cls.pki + '/server.key', 'ca': cls.pki + '/ca.pem'}
            device = CryptosignKey.from_bytes(SEED).public_key()
            config = {
                'listeners': [
                    {'type': 'ws', 'port': 0}, {'type': 'rs', 'port': 0},
                    {'type': 'wss', 'port': 0, 'tls': tls}, {'type': 'rss', 'port': 0, 'tls': tls},
                    {'type': 'http', 'port': 0},
                ],
                # the tests fail on purpose from one address: the throttle has a router of its own
                'auth_throttle': {'failures': 1000},
                'realms': [
                    {'name': 'secure', 'auth': {
                        'ticket': {'principals': {
                            'joe': {'role': 'user', 'ticket': 'joes-ticket'},
                            'svc': dict(role='backend', **make_secret('ticket', 'svc-ticket')),
                        }},
                        'wampcra': {'principals': {
                            'peter': {'role': 'crauser', 'secret': 'p3t3r'},
                            'sally': dict(role='saltuser', **salted),
                        }},
                        'cryptosign': {'principals': {'device-1': {'role': 'device', 'authorized_keys': [device]}},
                                       'router_key': ROUTER_SEED},
                        'scram': {'principals': {'alice': dict(role='scramuser', **make_secret('scram', 'wonderland'))}},
                        'tls': {'principals': {'client': {'role': 'tlsuser', 'cn': 'client'}}},
                        'challenge_timeout_ms': 700,
                    }},
                    {'name': 'dyn', 'auth': {
                        'ticket': {'authenticator': 'com.test.authenticate', 'authenticator_realm': 'authrealm'},
                        'wampcra': {'authenticator': 'com.test.authenticate', 'authenticator_realm': 'authrealm'},
                        'cryptosign': {'authenticator': 'com.test.authenticate', 'authenticator_realm': 'authrealm'},
                        'authenticator_timeout_ms': 500,
                    }},
                    {'name': 'authrealm'},
                ],
            }
            # verify_client only where the client certificate is the point (the tls method)
            config['listeners'][2]['tls'] = dict(tls, verify_client=False)
            config['listeners'][3]['tls'] = dict(tls, verify_client=True)
            cls.router = RouterProcess(config=config).start()
        return cls.router

    @classmethod
    def stop(cls):
        if cls.router:
            cls.router.stop()
            cls.router = None
        if cls.pki:
            shutil.rmtree(cls.pki, ignore_errors=True)
            cls.pki = None


def tearDownModule():
    AuthRouter.stop()


def client_tls(pki, cert=True, tls12=False):
    ctx = ssl.create_default_context(cafile=pki + '/ca.pem')
    if cert:
        ctx.load_cert_chain(pki + '/client.pem', pki + '/client.key')
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


class AuthCases(WampCases):

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.r = AuthRouter.get()
        self.ws = self.r.urls['ws']
        self.rs = self.r.urls['rs']

    async def join(self, realm, url=None, ser=None, **kw):
        s = await connect(ser or self.SER, realm=realm, url=url or self.ws, **kw)
        self._closers.append(s)
        return s

    async def refused(self, realm, url=None, **kw):
        with self.assertRaises(Aborted) as ctx:
            await self.join(realm, url, **kw)
        return ctx.exception


def ticket(value):
    return lambda session, challenge: value


def wampcra(secret):
    def answer(session, challenge):
        key = secret.encode()
        if 'salt' in challenge.extra:
            key = ab_auth.derive_key(secret.encode(), challenge.extra['salt'].encode(),
                                     challenge.extra['iterations'], challenge.extra['keylen'])
        return ab_auth.compute_wcs(key, challenge.extra['challenge'].encode()).decode()
    return answer


def cryptosign(seed, channel_binding=False):
    key = CryptosignKey.from_bytes(seed)

    def answer(session, challenge):
        if channel_binding:
            channel_id = transport_channel_id(session.ws.transport, False, 'tls-unique')
            return key.sign_challenge(challenge, channel_id=channel_id, channel_id_type='tls-unique')
        return key.sign_challenge(challenge)
    return key.public_key(), answer


@each_serializer
class StaticPrincipals(AuthCases):

    async def test_ticket_in_clear_and_hashed(self):
        s = await self.join('secure', join_kwargs={'authmethods': ['ticket'], 'authid': 'joe'},
                            on_challenge=ticket('joes-ticket'))
        d = s.joined.result()
        self.assertEqual((d.authid, d.authrole, d.authmethod, d.authprovider), ('joe', 'user', 'ticket', 'static'))
        s2 = await self.join('secure', url=self.rs, join_kwargs={'authmethods': ['ticket'], 'authid': 'svc'},
                             on_challenge=ticket('svc-ticket'))
        self.assertEqual(s2.joined.result().authrole, 'backend')

    async def test_wrong_ticket_and_unknown_authid_look_the_same(self):
        wrong = await self.refused('secure', join_kwargs={'authmethods': ['ticket'], 'authid': 'svc'},
                                   on_challenge=ticket('guess'))
        unknown = await self.refused('secure', join_kwargs={'authmethods': ['ticket'], 'authid': 'nobody'},
                                     on_challenge=ticket('guess'))
        self.assertEqual((wrong.reason, wrong.message), ('wamp.error.authentication_failed', 'authentication failed'))
        self.assertEqual((unknown.reason, unknown.message), (wrong.reason, wrong.message))

    async def test_wampcra_unsalted_and_salted(self):
        s = await self.join('secure', join_kwargs={'authmethods': ['wampcra'], 'authid': 'peter'},
                            on_challenge=wampcra('p3t3r'))
        self.assertEqual(s.joined.result().authrole, 'crauser')
        self.assertNotIn('salt', s.challenges[0].extra)
        s2 = await self.join('secure', url=self.rs, join_kwargs={'authmethods': ['wampcra'], 'authid': 'sally'},
                             on_challenge=wampcra('s4lly'))
        self.assertEqual(s2.joined.result().authrole, 'saltuser')
        extra = s2.challenges[0].extra
        self.assertEqual(extra['iterations'], 10000)
        fields = json.loads(extra['challenge'])
        self.assertEqual((fields['authid'], fields['authmethod'], fields['session']),
                         ('sally', 'wampcra', s2.joined.result().session))
        await self.refused('secure', join_kwargs={'authmethods': ['wampcra'], 'authid': 'sally'},
                           on_challenge=wampcra('wrong'))

    async def test_wampcra_unknown_authid_gets_a_salted_challenge_too(self):
        seen = []

        def record(session, challenge):
            seen.append(challenge.extra)
            return 'x'
        for _ in range(2):
            await self.refused('secure', join_kwargs={'authmethods': ['wampcra'], 'authid': 'ghost'}, on_challenge=record)
        known = []
        await self.refused('secure', join_kwargs={'authmethods': ['wampcra'], 'authid': 'sally'},
                           on_challenge=lambda s, c: known.append(c.extra) or 'x')
        self.assertEqual(set(seen[0]), set(known[0]))
        self.assertEqual(seen[0]['salt'], seen[1]['salt'])  # the same at every attempt

    async def test_cryptosign(self):
        pubkey, answer = cryptosign(SEED)
        s = await self.join('secure', join_kwargs={'authmethods': ['cryptosign'], 'authextra': {'pubkey': pubkey}},
                            on_challenge=answer)
        d = s.joined.result()
        self.assertEqual((d.authid, d.authrole, d.authmethod), ('device-1', 'device', 'cryptosign'))
        other, answer2 = cryptosign(OTHER_SEED)
        await self.refused('secure', join_kwargs={'authmethods': ['cryptosign'], 'authextra': {'pubkey': other}},
                           on_challenge=answer2)

    async def test_scram(self):
        creds = ab_auth.AuthScram(authid='alice', password='wonderland')
        s = await self.join('secure', join_kwargs={'authmethods': ['scram'], 'authid': 'alice',
                                                   'authextra': creds.authextra},
                            on_challenge=lambda session, c: creds.on_challenge(session, c).decode())
        d = s.joined.result()
        self.assertEqual((d.authrole, d.authmethod), ('scramuser', 'scram'))
        # Autobahn checks the router's proof itself: it would have refused to join otherwise.
        self.assertIsNone(creds.on_welcome(s, d.authextra))
        bad = ab_auth.AuthScram(authid='alice', password='looking-glass')
        await self.refused('secure', join_kwargs={'authmethods': ['scram'], 'authid': 'alice', 'authextra': bad.authextra},
                           on_challenge=lambda session, c: bad.on_challenge(session, c).decode())

    async def test_no_method_in_common(self):
        e = await self.refused('secure', join_kwargs={'authmethods': ['anonymous']})
        self.assertEqual(e.reason, 'wamp.error.no_auth_method')
        self.assertIn('it accepts ticket, wampcra, cryptosign, scram, tls', e.message)

    async def test_the_meta_api_shows_the_identity(self):
        s = await self.join('secure', join_kwargs={'authmethods': ['ticket'], 'authid': 'joe'},
                            on_challenge=ticket('joes-ticket'))
        observer = await self.join('secure', join_kwargs={'authmethods': ['wampcra'], 'authid': 'peter'},
                                   on_challenge=wampcra('p3t3r'))
        details = await observer.call('wamp.session.get', s.joined.result().session)
        self.assertEqual((details['authid'], details['authrole'], details['authmethod'], details['authprovider']),
                         ('joe', 'user', 'ticket', 'static'))


@single
class TransportBoundMethods(AuthCases):

    async def test_tls_client_certificate_over_rss_and_wss(self):
        ctx = client_tls(AuthRouter.pki)
        s = await self.join('secure', url=self.r.urls['rss'], ssl_context=ctx, join_kwargs={'authmethods': ['tls']})
        d = s.joined.result()
        self.assertEqual((d.authid, d.authrole, d.authmethod), ('client', 'tlsuser', 'tls'))
        # wss here asks for a certificate without requiring one: with one, the same principal
        s2 = await self.join('secure', url=self.r.urls['wss'], ssl_context=ctx, join_kwargs={'authmethods': ['tls']})
        self.assertEqual(s2.joined.result().authid, 'client')
        # without one, the tls method has nothing to go on
        e = await self.refused('secure', url=self.r.urls['wss'], ssl_context=client_tls(AuthRouter.pki, cert=False),
                               join_kwargs={'authmethods': ['tls']})
        self.assertEqual(e.reason, 'wamp.error.authentication_failed')

    async def test_cryptosign_with_tls_channel_binding(self):
        pubkey, answer = cryptosign(SEED, channel_binding=True)
        s = await self.join('secure', url=self.r.urls['wss'], ssl_context=client_tls(AuthRouter.pki, cert=False, tls12=True),
                            join_kwargs={'authmethods': ['cryptosign'],
                                         'authextra': {'pubkey': pubkey, 'channel_binding': 'tls-unique'}},
                            on_challenge=answer)
        self.assertEqual(s.joined.result().authid, 'device-1')
        self.assertEqual(s.challenges[0].extra['channel_binding'], 'tls-unique')
        # The same signature without the binding fails: it would work on any channel.
        pubkey, unbound = cryptosign(SEED)
        await self.refused('secure', url=self.r.urls['wss'], ssl_context=client_tls(AuthRouter.pki, cert=False, tls12=True),
                           join_kwargs={'authmethods': ['cryptosign'],
                                        'authextra': {'pubkey': pubkey, 'channel_binding': 'tls-unique'}},
                           on_challenge=unbound)

    async def test_router_authentication(self):
        pubkey, answer = cryptosign(SEED)
        mine = os.urandom(32).hex()
        s = await self.join('secure', join_kwargs={'authmethods': ['cryptosign'],
                                                   'authextra': {'pubkey': pubkey, 'challenge': mine}},
                            on_challenge=answer)
        extra = s.challenges[0].extra
        router_key = CryptosignKey.from_bytes(binascii.unhexlify(ROUTER_SEED))
        self.assertEqual(extra['pubkey'], router_key.public_key())
        signed = binascii.unhexlify(extra['signature'])
        self.assertEqual(signed[64:].hex(), mine)
        import nacl.signing
        nacl.signing.VerifyKey(binascii.unhexlify(extra['pubkey'])).verify(signed[64:], signed[:64])


@single
class Hardening(AuthCases):

    async def test_a_challenge_left_unanswered_closes_the_connection(self):
        raw = await RawWamp.open('json', self.ws)
        self._closers.append(raw)
        raw.send([HELLO, 'secure', {'roles': {'caller': {}}, 'authmethods': ['ticket'], 'authid': 'joe'}])
        ch = await raw.expect(CHALLENGE_CODE)
        self.assertEqual(ch[1], 'ticket')
        t0 = time.monotonic()
        a = await raw.expect(ABORT, timeout=5)
        self.assertGreaterEqual(time.monotonic() - t0, 0.5)
        self.assertEqual(a[2], 'wamp.error.authentication_failed')
        await raw.ws.wait_closed(5)
        self.r.wait_for_log('no AUTHENTICATE within 700 ms')

    async def test_repeated_failures_are_throttled(self):
        router = RouterProcess(config={
            'listeners': [{'type': 'universal', 'port': 0}],
            'auth_throttle': {'failures': 3, 'window_ms': 60000, 'lockout_ms': 1000},
            'realms': [{'name': 'r', 'auth': {'ticket': {'principals': {'joe': {'role': 'u', 'ticket': 't'}}},
                                              'anonymous': {}}}]}).start()
        try:
            host, port, _ = split_url(router.urls['universal'])
            url = 'ws://{}:{}/ws'.format(host, port)
            for _ in range(3):
                await self.refused('r', url=url, join_kwargs={'authmethods': ['ticket'], 'authid': 'joe'},
                                   on_challenge=ticket('guess'))
            e = await self.refused('r', url=url, join_kwargs={'authmethods': ['ticket'], 'authid': 'joe'},
                                   on_challenge=ticket('t'))  # even the right ticket, while locked out
            self.assertIn('too many failed authentications', e.message)
            router.wait_for_log('address locked out for 1000 ms')
            await self.join('r', url=url)  # anonymous is not throttled
            status, _, body = await http_get(host, port, '/metrics')
            self.assertIn(b'junction_auth_lockouts_total 1\n', body)
            self.assertIn(b'junction_authentications_total{realm="r",method="ticket",outcome="failure"} 4\n', body)
            await asyncio.sleep(1.1)
            await self.join('r', url=url, join_kwargs={'authmethods': ['ticket'], 'authid': 'joe'},
                            on_challenge=ticket('t'))
            status, _, body = await http_get(host, port, '/metrics')
            self.assertIn(b'junction_authentications_total{realm="r",method="ticket",outcome="success"} 1\n', body)
        finally:
            router.stop()

    async def test_the_log_says_why_but_the_client_does_not(self):
        await self.refused('secure', join_kwargs={'authmethods': ['ticket'], 'authid': 'svc'},
                           on_challenge=ticket('not-the-ticket'))
        log = self.r.wait_for_log("authentication failed: wrong ticket for authid 'svc'")
        self.assertNotIn('not-the-ticket', log)  # never the secret


@each_serializer
class DynamicAuthenticator(AuthCases):
    """An Autobahn|Python component in realm "authrealm" decides for realm "dyn"."""

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.calls = []
        self.authenticator = await self.join('authrealm')

        async def authenticate(realm, authid, details):
            self.calls.append((realm, authid, details))
            if authid == 'slow':
                await asyncio.sleep(2)
            if authid == 'eve':
                from autobahn.wamp.exception import ApplicationError
                raise ApplicationError('com.test.denied', 'no')
            if details['authmethod'] == 'ticket':
                if details.get('ticket') != 'good':
                    from autobahn.wamp.exception import ApplicationError
                    raise ApplicationError('com.test.denied', 'bad ticket')
                return {'role': 'dynuser', 'extra': {'tier': 'gold'}}
            if details['authmethod'] == 'wampcra':
                return {'role': 'cradyn', 'secret': 'dyn-secret'}
            if details['authmethod'] == 'cryptosign':
                return {'role': 'keydyn', 'authid': 'key-' + details['authextra']['pubkey'][:8]}
            return None
        self.registration = await self.authenticator.register(authenticate, 'com.test.authenticate')

    async def asyncTearDown(self):
        try:
            await self.registration.unregister()
        finally:
            await super().asyncTearDown()

    async def test_ticket_accepted_and_refused(self):
        s = await self.join('dyn', join_kwargs={'authmethods': ['ticket'], 'authid': 'joe'}, on_challenge=ticket('good'))
        d = s.joined.result()
        self.assertEqual((d.authid, d.authrole, d.authprovider), ('joe', 'dynuser', 'dynamic'))
        self.assertEqual(d.authextra, {'tier': 'gold'})
        realm, authid, details = self.calls[-1]
        self.assertEqual((realm, authid, details['authmethod'], details['ticket']), ('dyn', 'joe', 'ticket', 'good'))
        self.assertEqual(details['session'], d.session)
        self.assertEqual(details['transport']['type'], 'websocket')
        e = await self.refused('dyn', join_kwargs={'authmethods': ['ticket'], 'authid': 'joe'}, on_challenge=ticket('bad'))
        self.assertEqual((e.reason, e.message), ('wamp.error.authentication_failed', 'authentication failed'))

    async def test_wampcra_with_the_secret_from_the_authenticator(self):
        s = await self.join('dyn', url=self.rs, join_kwargs={'authmethods': ['wampcra'], 'authid': 'peter'},
                            on_challenge=wampcra('dyn-secret'))
        self.assertEqual(s.joined.result().authrole, 'cradyn')

    async def test_cryptosign_key_approved_by_the_authenticator(self):
        pubkey, answer = cryptosign(OTHER_SEED)
        s = await self.join('dyn', join_kwargs={'authmethods': ['cryptosign'], 'authextra': {'pubkey': pubkey}},
                            on_challenge=answer)
        self.assertEqual(s.joined.result().authid, 'key-' + pubkey[:8])

    async def test_an_error_or_a_timeout_refuses(self):
        await self.refused('dyn', join_kwargs={'authmethods': ['ticket'], 'authid': 'eve'}, on_challenge=ticket('good'))
        t0 = time.monotonic()
        e = await self.refused('dyn', join_kwargs={'authmethods': ['ticket'], 'authid': 'slow'},
                               on_challenge=ticket('good'))
        self.assertLess(time.monotonic() - t0, 1.5)  # authenticator_timeout_ms 500
        self.assertEqual(e.reason, 'wamp.error.authentication_failed')

    async def test_no_authenticator_registered(self):
        await self.registration.unregister()
        e = await self.refused('dyn', join_kwargs={'authmethods': ['ticket'], 'authid': 'joe'}, on_challenge=ticket('good'))
        self.assertEqual(e.reason, 'wamp.error.authentication_failed')
        self.registration = await self.authenticator.register(lambda *a: None, 'com.test.authenticate')
