"""Session lifecycle: HELLO/WELCOME/ABORT/GOODBYE, consecutive sessions, many sessions at once.

Every case runs per transport (WebSocket, RawSocket TCP, RawSocket Unix) x serializer."""

import asyncio

from autobahn.exception import Disconnected
from autobahn.wamp.exception import ApplicationError

from harness import (ABORT, ANNOUNCED_FEATURES, CALL, CLIENT_ROLES, GOODBYE, HELLO, INVOCATION, MAX_ID, PUBLISH,
                     PUBLISHED, REALM, REALM2, RESULT, T, WELCOME, YIELD,
                     Aborted, TransportClosed, WampCases, connect, each_transport_and_serializer, uri)

NO_SUCH_REALM = 'com.conformance.no.such.realm'


@each_transport_and_serializer
class SessionTests(WampCases):

    async def test_welcome_details(self):
        a = await self.session()
        b = await self.session()
        self.assertEqual(a.serializer_id, self.SER, 'negotiated serializer')
        for s in (a, b):
            self.assertEqual(len(s.welcomes), 1)
            w = s.welcomes[0]
            self.assertIdRange(w.session, 'WELCOME.Session')
            self.assertEqual(w.authrole, 'anonymous')
            self.assertEqual(w.authmethod, 'anonymous')
            self.assertIsInstance(w.authid, str)
            self.assertTrue(w.authid, 'authid must be a non-empty string')
            self.assertIn('broker', w.roles)
            self.assertIn('dealer', w.roles)
        self.assertNotEqual(a.welcomes[0].session, b.welcomes[0].session, 'session ids must differ')
        self.assertNotEqual(a.welcomes[0].authid, b.welcomes[0].authid, 'anonymous authid must differ per session')

    async def test_welcome_raw_layout(self):
        r = await self.raw(join=False)
        r.send([HELLO, REALM, {'roles': CLIENT_ROLES, 'agent': 'junction-conformance'}])
        w = await r.recv()
        self.assertEqual(w[0], WELCOME, w)
        self.assertEqual(len(w), 3, 'WELCOME is [2, Session, Details]: {!r}'.format(w))
        self.assertIdRange(w[1], 'WELCOME.Session')
        d = w[2]
        self.assertIsInstance(d, dict)
        self.assertEqual(d.get('authrole'), 'anonymous')
        self.assertEqual(d.get('authmethod'), 'anonymous')
        self.assertIsInstance(d.get('authid'), str)
        self.assertTrue(d['authid'])
        roles = d.get('roles')
        self.assertIsInstance(roles, dict)
        self.assertEqual(set(roles), {'broker', 'dealer'}, 'router roles: {!r}'.format(roles))
        for role in ('broker', 'dealer'):
            self.assertIsInstance(roles[role], dict)
            features = roles[role].get('features', {})
            self.assertIsInstance(features, dict, 'roles.{}.features must be a dict'.format(role))
            announced = {k for k, v in features.items() if v is True}
            self.assertEqual(announced, ANNOUNCED_FEATURES[role],
                             '{} must announce exactly the features it implements'.format(role))

    async def test_leave_goodbye_and_out(self):
        s = await self.session()
        details = await s.leave_wait('wamp.close.close_realm')
        self.assertEqual(details.reason, 'wamp.close.goodbye_and_out')

    async def test_goodbye_raw_reply(self):
        r = await self.raw()
        r.send([GOODBYE, {'message': 'bye'}, 'wamp.close.close_realm'])
        g = await r.recv()
        self.assertEqual(g[0], GOODBYE, g)
        self.assertEqual(len(g), 3, g)
        self.assertIsInstance(g[1], dict)
        self.assertEqual(g[2], 'wamp.close.goodbye_and_out')
        # the transport stays open and can carry a new session
        first = r.session_id
        await r.hello(REALM)
        self.assertIdRange(r.session_id)
        self.assertNotEqual(first, r.session_id)
        self.assertFalse(r.ws.is_closed())

    async def test_unknown_realm_aborts(self):
        with self.assertRaises(Aborted) as cm:
            await self.session(realm=NO_SUCH_REALM)
        self.assertEqual(cm.exception.reason, 'wamp.error.no_such_realm')

    async def test_unknown_realm_raw(self):
        r = await self.raw(join=False)
        r.send([HELLO, NO_SUCH_REALM, {'roles': CLIENT_ROLES}])
        a = await r.recv()
        self.assertEqual(a[0], ABORT, a)
        self.assertIsInstance(a[1], dict)
        self.assertEqual(a[2], 'wamp.error.no_such_realm')
        # A failed HELLO ends no session: the same connection may still join an existing realm
        # (or be closed by the router; both are acceptable, a hang or garbage is not).
        try:
            r.send([HELLO, REALM, {'roles': CLIENT_ROLES}])
            w = await r.recv()
        except (TransportClosed, Disconnected):
            return  # the router closed the connection after its ABORT
        self.assertEqual(w[0], WELCOME, w)

    async def test_consecutive_sessions_on_one_connection(self):
        s = await self.session(keep_transport=True)
        ws = s.ws
        ids = [s.session_id]
        proc = uri()
        await asyncio.wait_for(s.register(lambda: 'first', proc), T)
        self.assertEqual(await asyncio.wait_for(s.call(proc), T), 'first')

        details = await s.leave_wait()
        self.assertEqual(details.reason, 'wamp.close.goodbye_and_out')
        self.assertFalse(s.disconnected.done(), 'router closed the transport after GOODBYE')

        await s.rejoin(REALM)
        ids.append(s.session_id)
        self.assertIs(s.ws, ws)
        # the first session's registration died with it
        await self.assertAppError(s.call(proc), 'wamp.error.no_such_procedure')
        await asyncio.wait_for(s.register(lambda x: x * 2, proc), T)
        self.assertEqual(await asyncio.wait_for(s.call(proc, 21), T), 42)
        details = await s.leave_wait()
        self.assertEqual(details.reason, 'wamp.close.goodbye_and_out')

        await s.rejoin(REALM2)
        ids.append(s.session_id)
        self.assertEqual(s.realm, REALM2)
        details = await s.leave_wait()
        self.assertEqual(details.reason, 'wamp.close.goodbye_and_out')
        self.assertFalse(s.disconnected.done())
        self.assertEqual(len(set(ids)), 3, 'each session on the connection needs its own id: {}'.format(ids))
        for i in ids:
            self.assertIdRange(i)

    async def test_200_sessions_at_once(self):
        n = 200
        results = await asyncio.gather(*[connect(self.SER, transport=self.TRANSPORT) for _ in range(n)],
                                       return_exceptions=True)
        sessions = [s for s in results if not isinstance(s, BaseException)]
        self._closers.extend(sessions)
        errors = [e for e in results if isinstance(e, BaseException)]
        self.assertFalse(errors, '{} of {} sessions failed to join, first: {!r}'.format(len(errors), n, errors[:1]))
        ids = [s.session_id for s in sessions]
        for i in ids:
            self.assertIdRange(i)
        self.assertEqual(len(set(ids)), n, 'session ids are not distinct')
        self.assertEqual(len({s.authid for s in sessions}), n, 'anonymous authids are not distinct')
        # ids are random over [1, 2^53], not small counters
        self.assertGreater(max(ids), 2 ** 32, 'session ids look sequential, not random over [1, 2^53]')
        # everybody can still talk: one RPC through the crowd
        proc = uri()
        await asyncio.wait_for(sessions[0].register(lambda: 'pong', proc), T)
        self.assertEqual(await asyncio.wait_for(sessions[-1].call(proc), T), 'pong')
        leaves = await asyncio.gather(*[s.leave_wait() for s in sessions], return_exceptions=True)
        bad = [x for x in leaves if isinstance(x, BaseException) or x.reason != 'wamp.close.goodbye_and_out']
        self.assertFalse(bad, '{} sessions did not leave cleanly, first: {!r}'.format(len(bad), bad[:1]))

    async def test_session_id_range_many_joins(self):
        # one connection, many consecutive sessions: every id in range and distinct
        r = await self.raw(join=False)
        seen = set()
        for _ in range(20):
            w = await r.hello(REALM)
            self.assertIdRange(w[1])
            seen.add(w[1])
            r.send([GOODBYE, {}, 'wamp.close.close_realm'])
            g = await r.expect(GOODBYE)
            self.assertEqual(g[2], 'wamp.close.goodbye_and_out')
        self.assertEqual(len(seen), 20)
        self.assertLessEqual(max(seen), MAX_ID)

    async def test_client_abort_ends_session(self):
        r = await self.raw()
        proc = uri()
        await r.register(proc)
        r.send([ABORT, {'message': 'client gives up'}, 'wamp.close.system_shutdown'])
        # ABORT is never answered with a WAMP message
        try:
            msg = await r.recv(0.5)
            self.fail('router answered a client ABORT with {!r}'.format(msg))
        except (TransportClosed, asyncio.TimeoutError):
            pass
        # the session is gone, and with it its registration
        other = await self.session()
        for _ in range(40):
            try:
                await asyncio.wait_for(other.call(proc), T)
            except ApplicationError as e:
                self.assertEqual(e.error, 'wamp.error.no_such_procedure')
                break
            await asyncio.sleep(0.05)
        else:
            self.fail('registration survived the client ABORT')

    async def test_state_does_not_leak_between_sessions_on_one_connection(self):
        r = await self.raw()
        topic, proc = uri(), uri()
        await r.subscribe(topic)
        callee = await self.raw('json')
        await callee.register(proc)
        r.send([CALL, 1, {}, proc])
        inv = await callee.expect(INVOCATION)
        r.send([GOODBYE, {}, 'wamp.close.close_realm'])
        await r.expect(GOODBYE)
        await r.hello(REALM)
        # the old session's subscription is gone
        pub = await self.raw('msgpack')
        pub.send([PUBLISH, 1, {'acknowledge': True}, topic, ['x']])
        await pub.expect(PUBLISHED)
        # the old session's call result is not delivered to the new session
        callee.send([YIELD, inv[1], {}, ['late']])
        await r.expect_nothing(0.4)
        # the new session's own call with the same request id works
        r.send([CALL, 1, {}, proc])
        inv2 = await callee.expect(INVOCATION)
        callee.send([YIELD, inv2[1], {}, ['fresh']])
        res = await r.expect(RESULT)
        self.assertEqual(res[1:], [1, {}, ['fresh']])
