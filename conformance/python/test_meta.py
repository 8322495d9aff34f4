"""WAMP meta API (reference §2.12, §2.19-2.22): wamp.session.* procedures (count, list, get, kill, kill_by_authid,
kill_by_authrole, kill_all, add_testament, flush_testaments), wamp.registration.* and wamp.subscription.* procedures
(list, lookup, match, get, list_callees / list_subscribers, count_*, remove_callee / remove_subscriber with
revocation), the meta events wamp.session.on_join / on_leave, wamp.registration.on_* and wamp.subscription.on_*,
and testaments (published when a session says GOODBYE, is killed, or its process dies without a GOODBYE).

Autobahn|Python 22.7.1 for what it can express; the raw client for exact wire checks: the GOODBYE a killed session
gets and what the router does with it afterwards, and HELLOs that do / do not announce registration_revocation /
subscription_revocation. Autobahn|Python announces both revocation features, but its subscriber raises a
ProtocolError on an UNSUBSCRIBED with request 0 (and drops its own connection), so subscription revocation is
only tested raw; its callee accepts an UNREGISTERED with request 0 (it only logs it).

kill_by_authrole / kill_all run against a router of their own (JUNCTION_BIN), so their counts are exact.

Every case runs over WebSocket x {json, msgpack}."""

import asyncio
import datetime
import re
import sys

from autobahn.wamp.types import RegisterOptions, SubscribeOptions

import harness
from harness import (CALL, ERROR, GOODBYE, HELLO, INVOCATION, PUBLISH, PUBLISHED, REALM, REALM2, REGISTER,
                     RESULT, SUBSCRIBE, SUBSCRIBED, T, UNREGISTER, UNREGISTERED, UNSUBSCRIBED, WELCOME,
                     YIELD, WampCases, address, each_serializer, uri)

SESSION_KEYS = ('session', 'authid', 'authrole', 'authmethod', 'authprovider')
ISO8601 = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$')

# HELLO.Details.roles of raw clients
ROLES_REVOCABLE = {'caller': {}, 'publisher': {},
                   'callee': {'features': {'registration_revocation': True}},
                   'subscriber': {'features': {'subscription_revocation': True}}}
ROLES_PLAIN = {'caller': {}, 'callee': {}, 'publisher': {}, 'subscriber': {}}

# The child process of the testament test: joins, adds two testaments, prints "ready <session id>", then waits to
# be killed (SIGKILL: no GOODBYE, no WebSocket close).
TESTAMENT_CHILD = r'''
import asyncio, sys
sys.path.insert(0, sys.argv[1])
import harness

async def main():
    url, ser, realm, topic = sys.argv[2:6]
    s = await harness.connect(ser, realm=realm, url=url)
    await asyncio.wait_for(s.call('wamp.session.add_testament', topic, ['first', 1], {'n': 1}), harness.T)
    await asyncio.wait_for(s.call('wamp.session.add_testament', topic, ['second', 2], {'n': 2, 'tags': ['x', 'y']}),
                           harness.T)
    print('ready', (await s.joined).session, flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
'''


class Inbox:
    """Events of any number of subscriptions, in arrival order, as (topic, args, kwargs); topic is
    EventDetails.topic (the subscription's topic for an exact subscription, the event's for a pattern)."""

    def __init__(self):
        self.events = []
        self._changed = asyncio.Event()

    def handler(self, *args, details=None, **kwargs):
        self.events.append((details.topic, list(args), kwargs))
        self._changed.set()

    def matching(self, pred):
        return [e for e in self.events if pred(e)]

    async def wait(self, n, pred, timeout=None, what='events'):
        """The first n events for which pred(event) holds, once there are n (fails after timeout)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout or T)
        while True:
            got = self.matching(pred)
            if len(got) >= n:
                return got[:n]
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError('waited {}s for {} {}, got {}: {!r}\nall events: {!r}'.format(
                    timeout or T, n, what, len(got), got, self.events))
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except asyncio.TimeoutError:
                pass


def about(*ids):
    """pred: the event's first positional argument (or the session / id of a details dict there) or its second
    one is one of ids."""
    ids = set(ids)

    def pred(e):
        _topic, args, _kw = e
        for a in args[:2]:
            if isinstance(a, dict):
                if a.get('session') in ids or a.get('id') in ids:
                    return True
            elif isinstance(a, int) and a in ids:
                return True
        return False
    return pred


def on_topic(*topics):
    return lambda e: e[0] in topics


class _Stopper:
    """A closer (WampCases._closers) that stops a private router."""

    def __init__(self, router):
        self.router = router

    async def close(self):
        self.router.stop()


@each_serializer
class MetaTests(WampCases):

    # -- helpers ----------------------------------------------------------------------------------------

    async def call(self, s, proc, *args, **kw):
        return await asyncio.wait_for(s.call(proc, *args, **kw), T)

    async def joined(self, realm=None, **kw):
        """An Autobahn session and its SessionDetails (from WELCOME)."""
        s = await self.session(realm=realm, **kw)
        return s, await s.joined

    async def watch(self, s, *topics, match=None):
        """One Inbox for subscriptions to `topics` (with `match`) on session s."""
        inbox = Inbox()
        for t in topics:
            await asyncio.wait_for(s.subscribe(inbox.handler, t, options=SubscribeOptions(match=match, details=True)), T)
        return inbox

    async def raw_subscribe(self, r, topic, **options):
        rid = r.next_id()
        reply = await r.request([SUBSCRIBE, rid, options, topic], SUBSCRIBED)
        self.assertEqual(reply[:2], [SUBSCRIBED, rid], reply)
        return reply[2]

    def assertSessionDetails(self, got, expected):
        """wamp.session.get / on_join details: the five fields of the session's WELCOME (only an optional
        'transport' dict besides)."""
        self.assertIsInstance(got, dict, got)
        self.assertEqual({k: got.get(k) for k in SESSION_KEYS}, expected, got)
        extra = set(got) - set(SESSION_KEYS)
        self.assertLessEqual(extra, {'transport'}, 'unexpected session details keys: {}'.format(extra))

    def assertCreated(self, created):
        self.assertIsInstance(created, str)
        self.assertRegex(created, ISO8601)
        t = datetime.datetime.fromisoformat(created.replace('Z', '+00:00'))
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLess(abs((now - t).total_seconds()), 120, 'created {} is not about now ({})'.format(created, now))

    @staticmethod
    def welcome_details(j):
        """The five session fields of an Autobahn SessionDetails."""
        return {'session': j.session, 'authid': j.authid, 'authrole': j.authrole, 'authmethod': j.authmethod,
                'authprovider': j.authprovider}

    @staticmethod
    def raw_details(r):
        d = r.welcome[2]
        return {'session': r.session_id, 'authid': d['authid'], 'authrole': d['authrole'],
                'authmethod': d['authmethod'], 'authprovider': d['authprovider']}

    async def private_router(self, realm='metaonly'):
        """A router of this test's own (one realm, WebSocket only); stopped after the test."""
        router = harness.RouterProcess(realms=[realm], listen=['ws://127.0.0.1:0/ws']).start()
        self._closers.insert(0, _Stopper(router))  # closed last
        return router.url

    # -- 1. wamp.session.count / list / get ---------------------------------------------------------------

    async def test_session_count_list_get(self):
        a, ja = await self.joined()
        b, jb = await self.joined()
        raw = await self.raw()
        mine = {ja.session, jb.session, raw.session_id}
        ids = await self.call(a, 'wamp.session.list')
        self.assertIsInstance(ids, list)
        self.assertEqual(len(set(ids)), len(ids), 'duplicate ids in wamp.session.list: {}'.format(ids))
        self.assertLessEqual(mine, set(ids))
        for i in ids:
            self.assertIdRange(i, 'session id')
        self.assertEqual(await self.call(a, 'wamp.session.count'), len(ids))
        # authrole filter: every anonymous session has authrole "anonymous"
        self.assertEqual(sorted(await self.call(a, 'wamp.session.list', ['anonymous'])), sorted(ids))
        self.assertEqual(await self.call(a, 'wamp.session.count', ['anonymous']), len(ids))
        self.assertEqual(sorted(await self.call(a, 'wamp.session.list', ['nobody', 'anonymous'])), sorted(ids))
        self.assertEqual(await self.call(a, 'wamp.session.list', ['nobody']), [])
        self.assertEqual(await self.call(a, 'wamp.session.count', ['nobody']), 0)
        self.assertEqual(await self.call(a, 'wamp.session.count', []), len(ids), 'an empty filter filters nothing')
        self.assertEqual(await self.call(a, 'wamp.session.count', None), len(ids), 'a null filter filters nothing')
        # a session that left is no longer listed
        await b.leave_wait()
        after = await self.call(a, 'wamp.session.list')
        self.assertNotIn(jb.session, after)
        self.assertLessEqual({ja.session, raw.session_id}, set(after))
        self.assertEqual(await self.call(a, 'wamp.session.count'), len(after))
        await self.assertAppError(a.call('wamp.session.count', 'anonymous'), 'wamp.error.invalid_argument')

    async def test_session_get(self):
        a, ja = await self.joined()
        b, jb = await self.joined()
        raw = await self.raw()
        self.assertSessionDetails(await self.call(a, 'wamp.session.get', jb.session), self.welcome_details(jb))
        self.assertSessionDetails(await self.call(a, 'wamp.session.get', ja.session), self.welcome_details(ja))
        got = await self.call(a, 'wamp.session.get', raw.session_id)
        self.assertSessionDetails(got, self.raw_details(raw))
        self.assertEqual(got['authrole'], 'anonymous')
        self.assertEqual(got['authmethod'], 'anonymous')
        # unknown ids
        ids = set(await self.call(a, 'wamp.session.list'))
        unknown = next(i for i in (4242424242, 4242424243, 4242424244) if i not in ids)
        await self.assertAppError(a.call('wamp.session.get', unknown), 'wamp.error.no_such_session')
        await b.leave_wait()
        await self.assertAppError(a.call('wamp.session.get', jb.session), 'wamp.error.no_such_session')
        await self.assertAppError(a.call('wamp.session.get', 'x'), 'wamp.error.invalid_argument')
        await self.assertAppError(a.call('wamp.session.get'), 'wamp.error.invalid_argument')

    async def test_session_transport_details(self):
        """Details.transport (Crossbar's names): the kind of connection, the negotiated protocol, and the
        peer address exactly as the client's own socket sees itself."""
        a, _ = await self.joined()
        for transport, kind in (('ws', 'websocket'), ('rs', 'rawsocket'), ('unix', 'rawsocket')):
            with self.subTest(transport=transport):
                s, j = await self.joined(transport=transport)
                if transport == 'unix':
                    peer = 'unix'
                else:
                    host, port = s.ws.transport.get_extra_info('sockname')[:2]
                    peer = '{}:{}'.format(host, port)
                got = await self.call(a, 'wamp.session.get', j.session)
                self.assertEqual(got.get('transport'), {'type': kind, 'protocol': 'wamp.2.' + self.SER, 'peer': peer})

    # -- 2. wamp.session.kill* ----------------------------------------------------------------------------

    async def test_kill_autobahn_target(self):
        killer, _ = await self.joined()
        watcher = await self.session()
        victim, jv = await self.joined()
        inbox = await self.watch(watcher, 'wamp.session.on_leave')
        proc, topic = uri(), uri()
        await asyncio.wait_for(victim.register(lambda: 'alive', proc), T)
        await asyncio.wait_for(victim.subscribe(lambda *a: None, topic), T)
        self.assertEqual(await self.call(killer, proc), 'alive')
        self.assertIsNone(await self.call(killer, 'wamp.session.kill', jv.session, reason='com.example.go_away',
                                          message='maintenance'))
        left = await asyncio.wait_for(asyncio.shield(victim.left), T)
        self.assertEqual((left.reason, left.message), ('com.example.go_away', 'maintenance'))
        (ev,) = await inbox.wait(1, about(jv.session), what='wamp.session.on_leave of the victim')
        self.assertEqual(ev, ('wamp.session.on_leave', [jv.session, jv.authid, jv.authrole], {}))
        # everything the victim owned is gone
        await self.assertAppError(killer.call(proc), 'wamp.error.no_such_procedure')
        self.assertIsNone(await self.call(killer, 'wamp.subscription.lookup', topic))
        self.assertIsNone(await self.call(killer, 'wamp.registration.lookup', proc))
        self.assertNotIn(jv.session, await self.call(killer, 'wamp.session.list'))
        await self.assertAppError(killer.call('wamp.session.get', jv.session), 'wamp.error.no_such_session')
        await self.assertAppError(killer.call('wamp.session.kill', jv.session), 'wamp.error.no_such_session')

    async def test_kill_raw_target_default_reason(self):
        killer = await self.session()
        victim = await self.raw_as(ROLES_PLAIN)
        proc = uri()
        await self.raw_register(victim, proc)
        self.assertIsNone(await self.call(killer, 'wamp.session.kill', victim.session_id))
        self.assertEqual(await victim.expect(GOODBYE), [GOODBYE, {}, 'wamp.close.killed'])
        # the killed session cannot be used: everything but the GOODBYE reply is ignored
        victim.send([CALL, 7, {}, proc])
        victim.send([REGISTER, 8, {}, uri()])
        victim.send([CALL, 9, {}, 'wamp.session.count'])
        await victim.expect_nothing(0.3)
        await self.assertAppError(killer.call(proc), 'wamp.error.no_such_procedure')
        # the GOODBYE reply is not answered; then the connection may join again, as a new session
        victim.send([GOODBYE, {}, 'wamp.close.goodbye_and_out'])
        await victim.expect_nothing(0.2)
        old = victim.session_id
        victim.send([HELLO, REALM, {'roles': ROLES_PLAIN}])
        w = await victim.expect(WELCOME)
        self.assertNotEqual(w[1], old)
        victim.send([CALL, 1, {}, proc])
        err = await victim.expect(ERROR)
        self.assertEqual((err[1], err[2], err[4]), (CALL, 1, 'wamp.error.no_such_procedure'))

    async def test_kill_message_and_reason_raw(self):
        killer = await self.session()
        victim = await self.raw()
        await self.call(killer, 'wamp.session.kill', victim.session_id, reason='com.example.kicked', message='bye now')
        self.assertEqual(await victim.expect(GOODBYE), [GOODBYE, {'message': 'bye now'}, 'com.example.kicked'])

    async def test_kill_errors(self):
        killer, jk = await self.joined()
        other = await self.raw()
        # own session: no_such_session (use GOODBYE to leave)
        await self.assertAppError(killer.call('wamp.session.kill', jk.session), 'wamp.error.no_such_session')
        ids = set(await self.call(killer, 'wamp.session.list'))
        unknown = next(i for i in (4242424242, 4242424243, 4242424244) if i not in ids)
        await self.assertAppError(killer.call('wamp.session.kill', unknown), 'wamp.error.no_such_session')
        await self.assertAppError(killer.call('wamp.session.kill', other.session_id, reason='not a uri'),
                                  'wamp.error.invalid_uri')
        await self.assertAppError(killer.call('wamp.session.kill', 'x'), 'wamp.error.invalid_argument')
        await self.assertAppError(killer.call('wamp.session.kill_by_authid', 'x', reason='not a uri'),
                                  'wamp.error.invalid_uri')
        await self.assertAppError(killer.call('wamp.session.kill_by_authrole', 'nobody', reason='not a uri'),
                                  'wamp.error.invalid_uri')
        await self.assertAppError(killer.call('wamp.session.kill_all', reason='not a uri'), 'wamp.error.invalid_uri')
        # none of that touched anyone
        await other.expect_nothing(0.1)
        self.assertSessionDetails(await self.call(killer, 'wamp.session.get', jk.session), self.welcome_details(jk))
        self.assertEqual((await self.call(killer, 'wamp.session.get', other.session_id))['session'], other.session_id)

    async def test_kill_by_authid(self):
        killer, jk = await self.joined()
        victim, jv = await self.joined()
        bystander = await self.raw()
        # the caller is spared, even when its own authid is given
        self.assertEqual(await self.call(killer, 'wamp.session.kill_by_authid', jk.authid), [])
        self.assertEqual(await self.call(killer, 'wamp.session.kill_by_authid', 'no-such-authid'), [])
        self.assertEqual(await self.call(killer, 'wamp.session.kill_by_authid', jv.authid, message='by authid'),
                         [jv.session])
        left = await asyncio.wait_for(asyncio.shield(victim.left), T)
        self.assertEqual((left.reason, left.message), ('wamp.close.killed', 'by authid'))
        await bystander.expect_nothing(0.1)
        ids = await self.call(killer, 'wamp.session.list')
        self.assertNotIn(jv.session, ids)
        self.assertLessEqual({jk.session, bystander.session_id}, set(ids))
        await self.assertAppError(killer.call('wamp.session.kill_by_authid'), 'wamp.error.invalid_argument')

    async def test_kill_by_authrole_and_kill_all(self):
        # a router of our own: the counts are exact
        url = await self.private_router('metaonly')
        admin, ja = await self.joined(realm='metaonly', url=url)
        auto = [await self.session(realm='metaonly', url=url) for _ in range(2)]
        raws = [await self.raw(realm='metaonly', url=url) for _ in range(2)]
        self.assertEqual(await self.call(admin, 'wamp.session.count'), 5)
        self.assertEqual(await self.call(admin, 'wamp.session.kill_by_authrole', 'nobody'), 0)
        self.assertEqual(await self.call(admin, 'wamp.session.kill_by_authrole', 'anonymous',
                                         reason='com.example.purge', message='role purge'), 4)
        for s in auto:
            left = await asyncio.wait_for(asyncio.shield(s.left), T)
            self.assertEqual((left.reason, left.message), ('com.example.purge', 'role purge'))
        for r in raws:
            self.assertEqual(await r.expect(GOODBYE), [GOODBYE, {'message': 'role purge'}, 'com.example.purge'])
        self.assertEqual(await self.call(admin, 'wamp.session.list'), [ja.session])
        self.assertEqual(await self.call(admin, 'wamp.session.count'), 1)
        # kill_all: everyone but the caller, default reason
        more = [await self.session(realm='metaonly', url=url) for _ in range(3)]
        self.assertEqual(await self.call(admin, 'wamp.session.kill_all'), 3)
        for s in more:
            left = await asyncio.wait_for(asyncio.shield(s.left), T)
            self.assertEqual(left.reason, 'wamp.close.killed')
        self.assertEqual(await self.call(admin, 'wamp.session.list'), [ja.session])
        self.assertEqual(await self.call(admin, 'wamp.session.kill_all'), 0)
        # the killed raw sessions may come back (after their GOODBYE reply) and are counted again
        for r in raws:
            r.send([GOODBYE, {}, 'wamp.close.goodbye_and_out'])
            r.send([HELLO, 'metaonly', {'roles': ROLES_PLAIN}])
            await r.expect(WELCOME)
        self.assertEqual(await self.call(admin, 'wamp.session.count'), 3)

    # -- 3. wamp.session.on_join / on_leave ---------------------------------------------------------------

    async def test_on_join_and_on_leave(self):
        watcher = await self.session()
        inbox = await self.watch(watcher, 'wamp.session.on_join', 'wamp.session.on_leave')
        b, jb = await self.joined()
        raw = await self.raw(ser='msgpack' if self.SER == 'json' else 'json')
        (ev,) = await inbox.wait(1, about(jb.session), what='on_join of the Autobahn session')
        self.assertEqual(ev[0], 'wamp.session.on_join')
        self.assertEqual(len(ev[1]), 1, ev)
        self.assertEqual(ev[2], {})
        self.assertSessionDetails(ev[1][0], self.welcome_details(jb))
        self.assertEqual(ev[1][0]['transport']['type'], 'websocket')
        self.assertEqual(ev[1][0]['transport']['protocol'], 'wamp.2.' + self.SER)
        (ev,) = await inbox.wait(1, about(raw.session_id), what='on_join of the raw session')
        self.assertEqual(ev[0], 'wamp.session.on_join')
        self.assertSessionDetails(ev[1][0], self.raw_details(raw))
        # on_leave after a GOODBYE and after a lost connection
        await b.leave_wait()
        raw.ws.drop()
        evs = await inbox.wait(2, lambda e: e[0] == 'wamp.session.on_leave' and about(jb.session, raw.session_id)(e),
                               what='on_leave of both sessions')
        self.assertEqual(sorted((e[1] for e in evs), key=lambda a: a[0] != jb.session),
                         [[jb.session, jb.authid, jb.authrole],
                          [raw.session_id, raw.welcome[2]['authid'], raw.welcome[2]['authrole']]])
        self.assertEqual(len(inbox.matching(about(jb.session, raw.session_id))), 4, inbox.events)

    # -- 4. registration meta API -------------------------------------------------------------------------

    async def test_registration_list_lookup_match_get(self):
        callee, jc = await self.joined()
        admin = await self.session()
        b = uri()
        exact = await asyncio.wait_for(callee.register(lambda: 'e', b + '.x.y'), T)
        prefix = await asyncio.wait_for(callee.register(
            lambda **kw: 'p', b + '.x', options=RegisterOptions(match='prefix')), T)
        wild = await asyncio.wait_for(callee.register(
            lambda **kw: 'w', b + '..y', options=RegisterOptions(match='wildcard', invoke='roundrobin')), T)
        listing = await self.call(admin, 'wamp.registration.list')
        self.assertEqual(set(listing), {'exact', 'prefix', 'wildcard'})
        for bucket, reg in (('exact', exact), ('prefix', prefix), ('wildcard', wild)):
            self.assertIn(reg.id, listing[bucket], bucket)
            for other in {'exact', 'prefix', 'wildcard'} - {bucket}:
                self.assertNotIn(reg.id, listing[other])
        # lookup: the registration of exactly this URI under a match policy (default exact)
        lk = 'wamp.registration.lookup'
        self.assertEqual(await self.call(admin, lk, b + '.x.y'), exact.id)
        self.assertEqual(await self.call(admin, lk, b + '.x.y', {'match': 'exact'}), exact.id)
        self.assertEqual(await self.call(admin, lk, b + '.x', {'match': 'prefix'}), prefix.id)
        self.assertEqual(await self.call(admin, lk, b + '..y', {'match': 'wildcard'}), wild.id)
        self.assertEqual(await self.call(admin, lk, b + '.x.y', {}), exact.id)
        self.assertIsNone(await self.call(admin, lk, b + '.x'))
        self.assertIsNone(await self.call(admin, lk, b + '.x.y', {'match': 'prefix'}))
        self.assertIsNone(await self.call(admin, lk, b + '.x.y.z', {'match': 'prefix'}))
        await self.assertAppError(admin.call(lk, b + '.x', {'match': 'fuzzy'}), 'wamp.error.invalid_argument')
        # match: what a CALL would reach (exact > longest prefix > wildcard)
        m = 'wamp.registration.match'
        self.assertEqual(await self.call(admin, m, b + '.x.y'), exact.id)
        self.assertEqual(await self.call(admin, m, b + '.x.z'), prefix.id)
        self.assertEqual(await self.call(admin, m, b + '.x'), prefix.id)
        self.assertEqual(await self.call(admin, m, b + '.q.y'), wild.id)
        self.assertIsNone(await self.call(admin, m, b + '.q.z'))
        # get
        g = await self.call(admin, 'wamp.registration.get', exact.id)
        self.assertEqual(set(g), {'id', 'created', 'uri', 'match', 'invoke'})
        self.assertEqual((g['id'], g['uri'], g['match'], g['invoke']), (exact.id, b + '.x.y', 'exact', 'single'))
        self.assertCreated(g['created'])
        g = await self.call(admin, 'wamp.registration.get', prefix.id)
        self.assertEqual((g['id'], g['uri'], g['match'], g['invoke']), (prefix.id, b + '.x', 'prefix', 'single'))
        g = await self.call(admin, 'wamp.registration.get', wild.id)
        self.assertEqual((g['id'], g['uri'], g['match'], g['invoke']), (wild.id, b + '..y', 'wildcard', 'roundrobin'))
        self.assertEqual(await self.call(admin, 'wamp.registration.list_callees', exact.id), [jc.session])
        self.assertEqual(await self.call(admin, 'wamp.registration.count_callees', exact.id), 1)
        # gone after UNREGISTER
        await asyncio.wait_for(exact.unregister(), T)
        self.assertNotIn(exact.id, (await self.call(admin, 'wamp.registration.list'))['exact'])
        self.assertIsNone(await self.call(admin, lk, b + '.x.y'))
        self.assertEqual(await self.call(admin, m, b + '.x.y'), prefix.id)
        await self.assertAppError(admin.call('wamp.registration.get', exact.id), 'wamp.error.no_such_registration')

    async def test_registration_callees_shared(self):
        c1, j1 = await self.joined()
        c2 = await self.raw_as(ROLES_PLAIN)
        admin = await self.session()
        proc = uri()
        reg = await asyncio.wait_for(c1.register(lambda: 1, proc, options=RegisterOptions(invoke='roundrobin')), T)
        self.assertEqual(await self.raw_register(c2, proc, invoke='roundrobin'), reg.id)
        self.assertEqual(sorted(await self.call(admin, 'wamp.registration.list_callees', reg.id)),
                         sorted([j1.session, c2.session_id]))
        self.assertEqual(await self.call(admin, 'wamp.registration.count_callees', reg.id), 2)
        await asyncio.wait_for(reg.unregister(), T)
        self.assertEqual(await self.call(admin, 'wamp.registration.list_callees', reg.id), [c2.session_id])
        self.assertEqual(await self.call(admin, 'wamp.registration.count_callees', reg.id), 1)
        c2.ws.drop()  # the last callee is lost: the registration is deleted
        for _ in range(100):
            if await self.call(admin, 'wamp.registration.lookup', proc) is None:
                break
            await asyncio.sleep(0.02)
        for p in ('get', 'list_callees', 'count_callees'):
            await self.assertAppError(admin.call('wamp.registration.' + p, reg.id), 'wamp.error.no_such_registration')

    async def test_registration_unknown_id(self):
        admin = await self.session()
        listing = await self.call(admin, 'wamp.registration.list')
        known = set(listing['exact'] + listing['prefix'] + listing['wildcard'])
        unknown = next(i for i in (4242424242, 4242424243, 4242424244) if i not in known)
        for p in ('get', 'list_callees', 'count_callees'):
            await self.assertAppError(admin.call('wamp.registration.' + p, unknown), 'wamp.error.no_such_registration')
        await self.assertAppError(admin.call('wamp.registration.remove_callee', unknown, 1),
                                  'wamp.error.no_such_registration')

    async def test_registration_events(self):
        watcher = await self.session()
        inbox = await self.watch(watcher, 'wamp.registration.', match='prefix')
        c1, j1 = await self.joined()
        c2, j2 = await self.joined()
        proc = uri()
        r1 = await asyncio.wait_for(c1.register(lambda: 1, proc, options=RegisterOptions(invoke='roundrobin')), T)
        r2 = await asyncio.wait_for(c2.register(lambda: 2, proc, options=RegisterOptions(invoke='roundrobin')), T)
        self.assertEqual(r1.id, r2.id)
        reg = r1.id
        await asyncio.wait_for(r1.unregister(), T)
        await asyncio.wait_for(r2.unregister(), T)
        evs = await inbox.wait(6, about(reg), what='registration meta events')
        await asyncio.sleep(0.2)
        self.assertEqual(len(inbox.matching(about(reg))), 6, inbox.matching(about(reg)))
        topic, args, kwargs = evs[0]
        self.assertEqual((topic, args[0], kwargs), ('wamp.registration.on_create', j1.session, {}))
        self.assertEqual(len(args), 2)
        details = args[1]
        self.assertEqual(set(details), {'id', 'created', 'uri', 'match', 'invoke'})
        self.assertEqual((details['id'], details['uri'], details['match'], details['invoke']),
                         (reg, proc, 'exact', 'roundrobin'))
        self.assertCreated(details['created'])
        self.assertEqual(evs[1:], [
            ('wamp.registration.on_register', [j1.session, reg], {}),
            ('wamp.registration.on_register', [j2.session, reg], {}),
            ('wamp.registration.on_unregister', [j1.session, reg], {}),
            ('wamp.registration.on_unregister', [j2.session, reg], {}),
            ('wamp.registration.on_delete', [j2.session, reg], {}),
        ])

    async def test_registration_events_on_leave(self):
        # the callee leaves (lost connection) with a registration: on_unregister then on_delete
        watcher = await self.session()
        inbox = await self.watch(watcher, 'wamp.registration.on_create', 'wamp.registration.on_register',
                                 'wamp.registration.on_unregister', 'wamp.registration.on_delete')
        callee = await self.raw_as(ROLES_PLAIN)
        proc = uri()
        reg = await self.raw_register(callee, proc, match='prefix')
        evs = await inbox.wait(2, about(reg), what='on_create, on_register')
        self.assertEqual(evs[0][0], 'wamp.registration.on_create')
        self.assertEqual(evs[0][1][0], callee.session_id)
        self.assertEqual((evs[0][1][1]['uri'], evs[0][1][1]['match'], evs[0][1][1]['invoke']), (proc, 'prefix', 'single'))
        self.assertEqual(evs[1], ('wamp.registration.on_register', [callee.session_id, reg], {}))
        callee.ws.drop()
        evs = await inbox.wait(4, about(reg), what='on_unregister, on_delete after the callee was lost')
        self.assertEqual(evs[2:], [('wamp.registration.on_unregister', [callee.session_id, reg], {}),
                                   ('wamp.registration.on_delete', [callee.session_id, reg], {})])

    # -- 5. subscription meta API -------------------------------------------------------------------------

    async def test_subscription_list_lookup_match_get(self):
        s1, j1 = await self.joined()
        s2 = await self.raw_as(ROLES_PLAIN)
        admin = await self.session()
        b = uri()
        exact = await asyncio.wait_for(s1.subscribe(lambda *a: None, b + '.x.y'), T)
        prefix = await asyncio.wait_for(s1.subscribe(lambda *a: None, b + '.x', options=SubscribeOptions(match='prefix')), T)
        wild = await asyncio.wait_for(s1.subscribe(lambda *a: None, b + '..y', options=SubscribeOptions(match='wildcard')), T)
        self.assertEqual(await self.raw_subscribe(s2, b + '.x.y'), exact.id)
        listing = await self.call(admin, 'wamp.subscription.list')
        self.assertEqual(set(listing), {'exact', 'prefix', 'wildcard'})
        for bucket, sub in (('exact', exact), ('prefix', prefix), ('wildcard', wild)):
            self.assertIn(sub.id, listing[bucket], bucket)
            for other in {'exact', 'prefix', 'wildcard'} - {bucket}:
                self.assertNotIn(sub.id, listing[other])
        lk = 'wamp.subscription.lookup'
        self.assertEqual(await self.call(admin, lk, b + '.x.y'), exact.id)
        self.assertEqual(await self.call(admin, lk, b + '.x.y', {'match': 'exact'}), exact.id)
        self.assertEqual(await self.call(admin, lk, b + '.x', {'match': 'prefix'}), prefix.id)
        self.assertEqual(await self.call(admin, lk, b + '..y', {'match': 'wildcard'}), wild.id)
        self.assertIsNone(await self.call(admin, lk, b + '.x'))
        self.assertIsNone(await self.call(admin, lk, b + '.x.y', {'match': 'wildcard'}))
        # match: a LIST of every subscription an event would reach, or null
        m = 'wamp.subscription.match'
        got = await self.call(admin, m, b + '.x.y')
        self.assertIsInstance(got, list)
        self.assertEqual(sorted(got), sorted([exact.id, prefix.id, wild.id]))
        self.assertEqual(await self.call(admin, m, b + '.x.z'), [prefix.id])
        self.assertEqual(await self.call(admin, m, b + '.q.y'), [wild.id])
        self.assertIsNone(await self.call(admin, m, b + '.q.z'))
        # get
        g = await self.call(admin, 'wamp.subscription.get', exact.id)
        self.assertEqual(set(g), {'id', 'created', 'uri', 'match'})
        self.assertEqual((g['id'], g['uri'], g['match']), (exact.id, b + '.x.y', 'exact'))
        self.assertCreated(g['created'])
        g = await self.call(admin, 'wamp.subscription.get', wild.id)
        self.assertEqual((g['id'], g['uri'], g['match']), (wild.id, b + '..y', 'wildcard'))
        # subscribers
        self.assertEqual(sorted(await self.call(admin, 'wamp.subscription.list_subscribers', exact.id)),
                         sorted([j1.session, s2.session_id]))
        self.assertEqual(await self.call(admin, 'wamp.subscription.count_subscribers', exact.id), 2)
        self.assertEqual(await self.call(admin, 'wamp.subscription.list_subscribers', prefix.id), [j1.session])
        self.assertEqual(await self.call(admin, 'wamp.subscription.count_subscribers', prefix.id), 1)
        await asyncio.wait_for(exact.unsubscribe(), T)
        self.assertEqual(await self.call(admin, 'wamp.subscription.list_subscribers', exact.id), [s2.session_id])
        self.assertEqual(await self.call(admin, 'wamp.subscription.count_subscribers', exact.id), 1)
        await s1.leave_wait()
        self.assertEqual(await self.call(admin, m, b + '.x.y'), [exact.id])
        for p in ('get', 'list_subscribers', 'count_subscribers'):
            await self.assertAppError(admin.call('wamp.subscription.' + p, prefix.id), 'wamp.error.no_such_subscription')

    async def test_subscription_unknown_id(self):
        admin = await self.session()
        listing = await self.call(admin, 'wamp.subscription.list')
        known = set(listing['exact'] + listing['prefix'] + listing['wildcard'])
        unknown = next(i for i in (4242424242, 4242424243, 4242424244) if i not in known)
        for p in ('get', 'list_subscribers', 'count_subscribers'):
            await self.assertAppError(admin.call('wamp.subscription.' + p, unknown), 'wamp.error.no_such_subscription')
        await self.assertAppError(admin.call('wamp.subscription.remove_subscriber', unknown, 1),
                                  'wamp.error.no_such_subscription')
        await self.assertAppError(admin.call('wamp.subscription.get', 'x'), 'wamp.error.no_such_subscription')

    async def test_subscription_events(self):
        watcher = await self.session()
        inbox = await self.watch(watcher, 'wamp.subscription.', match='prefix')
        s1, j1 = await self.joined()
        s2, j2 = await self.joined()
        topic = uri()
        opts = SubscribeOptions(match='prefix')
        a = await asyncio.wait_for(s1.subscribe(lambda *x: None, topic, options=opts), T)
        b = await asyncio.wait_for(s2.subscribe(lambda *x: None, topic, options=opts), T)
        self.assertEqual(a.id, b.id)
        sub = a.id
        await asyncio.wait_for(a.unsubscribe(), T)
        await asyncio.wait_for(b.unsubscribe(), T)
        evs = await inbox.wait(6, about(sub), what='subscription meta events')
        await asyncio.sleep(0.2)
        self.assertEqual(len(inbox.matching(about(sub))), 6, inbox.matching(about(sub)))
        t, args, kwargs = evs[0]
        self.assertEqual((t, args[0], kwargs), ('wamp.subscription.on_create', j1.session, {}))
        self.assertEqual(len(args), 2)
        self.assertEqual(set(args[1]), {'id', 'created', 'uri', 'match'})
        self.assertEqual((args[1]['id'], args[1]['uri'], args[1]['match']), (sub, topic, 'prefix'))
        self.assertCreated(args[1]['created'])
        self.assertEqual(evs[1:], [
            ('wamp.subscription.on_subscribe', [j1.session, sub], {}),
            ('wamp.subscription.on_subscribe', [j2.session, sub], {}),
            ('wamp.subscription.on_unsubscribe', [j1.session, sub], {}),
            ('wamp.subscription.on_unsubscribe', [j2.session, sub], {}),
            ('wamp.subscription.on_delete', [j2.session, sub], {}),
        ])
        # a subscriber that is lost: on_unsubscribe, on_delete
        raw = await self.raw_as(ROLES_PLAIN)
        sub2 = await self.raw_subscribe(raw, topic + '.lost')
        await inbox.wait(2, about(sub2), what='on_create, on_subscribe of the raw subscriber')
        raw.ws.drop()
        evs = await inbox.wait(4, about(sub2), what='on_unsubscribe, on_delete of the lost subscriber')
        self.assertEqual([e[0] for e in evs[:2]], ['wamp.subscription.on_create', 'wamp.subscription.on_subscribe'])
        self.assertEqual(evs[2:], [('wamp.subscription.on_unsubscribe', [raw.session_id, sub2], {}),
                                   ('wamp.subscription.on_delete', [raw.session_id, sub2], {})])

    # -- 6. revocation ------------------------------------------------------------------------------------

    async def test_remove_callee_revocation_announced(self):
        admin = await self.session()
        watcher = await self.session()
        inbox = await self.watch(watcher, 'wamp.registration.on_unregister', 'wamp.registration.on_delete')
        callee = await self.raw_as(ROLES_REVOCABLE)
        proc = uri()
        reg = await self.raw_register(callee, proc)
        self.assertIsNone(await self.call(admin, 'wamp.registration.remove_callee', reg, callee.session_id,
                                          reason='com.example.revoked'))
        self.assertEqual(await callee.expect(UNREGISTERED),
                         [UNREGISTERED, 0, {'registration': reg, 'reason': 'com.example.revoked'}])
        await self.assertAppError(admin.call(proc), 'wamp.error.no_such_procedure')
        await self.assertAppError(admin.call('wamp.registration.get', reg), 'wamp.error.no_such_registration')
        await self.assertAppError(admin.call('wamp.registration.remove_callee', reg, callee.session_id),
                                  'wamp.error.no_such_registration')
        evs = await inbox.wait(2, about(reg), what='on_unregister, on_delete of the revoked callee')
        self.assertEqual(evs, [('wamp.registration.on_unregister', [callee.session_id, reg], {}),
                               ('wamp.registration.on_delete', [callee.session_id, reg], {})])
        # the revoked registration is not the callee's any more; without a reason, none is sent
        callee.send([UNREGISTER, 50, reg])
        err = await callee.expect(ERROR)
        self.assertEqual((err[1], err[2], err[4]), (UNREGISTER, 50, 'wamp.error.no_such_registration'))
        reg2 = await self.raw_register(callee, proc)
        await self.call(admin, 'wamp.registration.remove_callee', reg2, callee.session_id)
        self.assertEqual(await callee.expect(UNREGISTERED), [UNREGISTERED, 0, {'registration': reg2}])
        await callee.expect_nothing(0.1)

    async def test_remove_callee_not_announced(self):
        admin = await self.session()
        callee = await self.raw_as(ROLES_PLAIN)
        other = await self.raw_as(ROLES_REVOCABLE)
        proc = uri()
        reg = await self.raw_register(callee, proc, invoke='roundrobin')
        self.assertEqual(await self.raw_register(other, proc, invoke='roundrobin'), reg)
        await self.call(admin, 'wamp.registration.remove_callee', reg, callee.session_id, reason='com.example.revoked')
        await callee.expect_nothing(0.3)  # removed silently
        self.assertEqual(await self.call(admin, 'wamp.registration.list_callees', reg), [other.session_id])
        # the other shared callee serves every call now
        for i in range(3):
            fut = asyncio.ensure_future(admin.call(proc, i))
            inv = await other.expect(INVOCATION)
            self.assertEqual(inv[4], [i])
            other.send([YIELD, inv[1], {}, [i]])
            self.assertEqual(await asyncio.wait_for(fut, T), i)
        await callee.expect_nothing(0.05)
        await other.expect_nothing(0.05)
        # a session that is no callee of the registration
        await self.assertAppError(admin.call('wamp.registration.remove_callee', reg, callee.session_id),
                                  'wamp.error.no_such_registration')

    async def test_remove_callee_autobahn(self):
        # Autobahn|Python announces registration_revocation; it takes the UNREGISTERED 0 (and only logs it)
        admin = await self.session()
        callee, jc = await self.joined()
        proc = uri()
        reg = await asyncio.wait_for(callee.register(lambda: 'x', proc), T)
        await self.call(admin, 'wamp.registration.remove_callee', reg.id, jc.session, reason='com.example.revoked')
        await self.assertAppError(admin.call(proc), 'wamp.error.no_such_procedure')
        # the callee's session is intact
        self.assertEqual((await self.call(callee, 'wamp.session.get', jc.session))['session'], jc.session)
        self.assertFalse(callee.left.done())

    async def test_remove_subscriber_revocation(self):
        admin = await self.session()
        watcher = await self.session()
        inbox = await self.watch(watcher, 'wamp.subscription.on_unsubscribe', 'wamp.subscription.on_delete')
        revocable = await self.raw_as(ROLES_REVOCABLE)
        plain = await self.raw_as(ROLES_PLAIN)
        topic = uri()
        sub = await self.raw_subscribe(revocable, topic)
        self.assertEqual(await self.raw_subscribe(plain, topic), sub)
        await self.call(admin, 'wamp.subscription.remove_subscriber', sub, revocable.session_id,
                        reason='com.example.unsubscribed')
        self.assertEqual(await revocable.expect(UNSUBSCRIBED),
                         [UNSUBSCRIBED, 0, {'subscription': sub, 'reason': 'com.example.unsubscribed'}])
        self.assertEqual(await self.call(admin, 'wamp.subscription.list_subscribers', sub), [plain.session_id])
        # the subscriber that did not announce the feature: removed silently, the subscription is deleted
        await self.call(admin, 'wamp.subscription.remove_subscriber', sub, plain.session_id)
        await plain.expect_nothing(0.3)
        await self.assertAppError(admin.call('wamp.subscription.get', sub), 'wamp.error.no_such_subscription')
        await self.assertAppError(admin.call('wamp.subscription.remove_subscriber', sub, plain.session_id),
                                  'wamp.error.no_such_subscription')
        # no more events for either
        pub = await self.raw()
        pub.send([PUBLISH, 1, {'acknowledge': True}, topic, ['after']])
        await pub.expect(PUBLISHED)
        await revocable.expect_nothing(0.2)
        await plain.expect_nothing(0.05)
        evs = await inbox.wait(3, about(sub), what='on_unsubscribe x2, on_delete')
        self.assertEqual(evs, [('wamp.subscription.on_unsubscribe', [revocable.session_id, sub], {}),
                               ('wamp.subscription.on_unsubscribe', [plain.session_id, sub], {}),
                               ('wamp.subscription.on_delete', [plain.session_id, sub], {})])
        # without a reason, none is sent
        sub2 = await self.raw_subscribe(revocable, topic + '.b')
        await self.call(admin, 'wamp.subscription.remove_subscriber', sub2, revocable.session_id)
        self.assertEqual(await revocable.expect(UNSUBSCRIBED), [UNSUBSCRIBED, 0, {'subscription': sub2}])

    # -- 7. testaments ------------------------------------------------------------------------------------

    async def test_testament_when_process_is_killed(self):
        watcher = await self.session()
        topic = uri()
        inbox = await self.watch(watcher, topic, 'wamp.session.on_leave')
        child = await asyncio.create_subprocess_exec(
            sys.executable, '-c', TESTAMENT_CHILD, harness.HERE, address('ws'), self.SER, REALM, topic,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            line = await asyncio.wait_for(child.stdout.readline(), 20)
            if not line.startswith(b'ready '):
                _, err = await asyncio.wait_for(child.communicate(), 5)
                self.fail('testament child did not get ready: {!r} {}'.format(line, err.decode(errors='replace')[-2000:]))
            sid = int(line.split()[1])
            self.assertEqual(inbox.matching(on_topic(topic)), [], 'testaments published before the session ended')
            child.kill()  # SIGKILL: no GOODBYE, no WebSocket close
            await asyncio.wait_for(child.wait(), T)
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()
        evs = await inbox.wait(3, lambda e: e[0] == topic or about(sid)(e), what='two testaments, then on_leave')
        self.assertEqual(evs[:2], [(topic, ['first', 1], {'n': 1}), (topic, ['second', 2], {'n': 2, 'tags': ['x', 'y']})])
        self.assertEqual(evs[2][0], 'wamp.session.on_leave')
        self.assertEqual(evs[2][1][0], sid)
        await asyncio.sleep(0.2)
        self.assertEqual(len(inbox.matching(on_topic(topic))), 2, 'testaments published more than once')

    async def test_testament_on_goodbye_scopes_and_options(self):
        watcher, jw = await self.joined()
        topic = uri()
        inbox = await self.watch(watcher, topic, 'wamp.session.on_leave')
        s, js = await self.joined()
        add = 'wamp.session.add_testament'
        self.assertIsNone(await self.call(s, add, topic, ['d1'], {}))
        self.assertIsNone(await self.call(s, add, topic, ['x1'], {'k': 'v'}, scope='detached'))
        self.assertIsNone(await self.call(s, add, topic, ['d2'], {}, scope='destroyed'))
        # publish_options: the watcher is not eligible for this one, but is for the next
        self.assertIsNone(await self.call(s, add, topic, ['hidden'], {}, publish_options={'eligible': [9007199254740]}))
        self.assertIsNone(await self.call(s, add, topic, ['shown'], {}, publish_options={'eligible': [jw.session]}))
        self.assertIsNone(await self.call(s, add, topic, ['x2'], {}, scope='detached'))
        self.assertIsNone(await self.call(s, add, topic))
        await asyncio.sleep(0.1)
        self.assertEqual(inbox.events, [], 'testaments published while the session is alive')
        await s.leave_wait()
        evs = await inbox.wait(7, lambda e: e[0] == topic or about(js.session)(e), what='testaments, then on_leave')
        # the detached scope first, then the destroyed one, each in the order added
        self.assertEqual(evs[:6], [(topic, ['x1'], {'k': 'v'}), (topic, ['x2'], {}), (topic, ['d1'], {}),
                                   (topic, ['d2'], {}), (topic, ['shown'], {}), (topic, [], {})])
        self.assertEqual(evs[6], ('wamp.session.on_leave', [js.session, js.authid, js.authrole], {}))

    async def test_flush_testaments(self):
        watcher = await self.session()
        topic = uri()
        inbox = await self.watch(watcher, topic, 'wamp.session.on_leave')
        s, js = await self.joined()
        add, flush = 'wamp.session.add_testament', 'wamp.session.flush_testaments'
        await self.call(s, add, topic, ['a'], {})
        await self.call(s, add, topic, ['b'], {})
        await self.call(s, add, topic, ['c'], {}, scope='detached')
        self.assertEqual(await self.call(s, flush), 2)  # default scope: destroyed
        self.assertEqual(await self.call(s, flush), 0)
        self.assertEqual(await self.call(s, flush, scope='detached'), 1)
        self.assertEqual(await self.call(s, flush, scope='detached'), 0)
        await self.call(s, add, topic, ['d'], {})
        self.assertEqual(await self.call(s, flush, scope='destroyed'), 1)
        await self.assertAppError(s.call(flush, scope='sometime'), 'wamp.error.invalid_argument')
        await s.leave_wait()
        # on_leave comes after any testament: once it is there, nothing was published
        await inbox.wait(1, about(js.session), what='on_leave')
        self.assertEqual(inbox.matching(on_topic(topic)), [])

    async def test_testament_on_kill(self):
        killer = await self.session()
        watcher = await self.session()
        topic = uri()
        inbox = await self.watch(watcher, topic)
        victim = await self.raw()
        victim.send([CALL, 1, {}, 'wamp.session.add_testament', [topic, ['killed'], {'by': 'meta'}]])
        self.assertEqual(await victim.expect(RESULT), [RESULT, 1, {}])
        await self.call(killer, 'wamp.session.kill', victim.session_id)
        await victim.expect(GOODBYE)
        (ev,) = await inbox.wait(1, on_topic(topic), what='the testament of the killed session')
        self.assertEqual(ev, (topic, ['killed'], {'by': 'meta'}))

    async def test_testament_retained(self):
        # publish_options are those of a PUBLISH: retain keeps the testament for later subscribers
        s = await self.session()
        topic = uri()
        await self.call(s, 'wamp.session.add_testament', topic, ['last words'], {'k': 1}, publish_options={'retain': True})
        await s.leave_wait()
        # the GOODBYE reply came after the session left the realm, so the testament is retained by now
        late = await self.session()
        got = []
        await asyncio.wait_for(late.subscribe(lambda *a, details=None, **kw: got.append((list(a), kw, details.retained)),
                                              topic, options=SubscribeOptions(details=True, get_retained=True)), T)
        for _ in range(50):
            if got:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
        self.assertEqual(got, [(['last words'], {'k': 1}, True)])

    async def test_testament_with_malformed_publish_options_is_refused_or_published(self):
        # A testament whose publish_options the router cannot use must not vanish silently: either
        # add_testament refuses it, or the router ignores the option it cannot use and publishes it.
        watcher = await self.session()
        topic = uri()
        inbox = await self.watch(watcher, topic, 'wamp.session.on_leave')
        s, js = await self.joined()
        try:
            await self.call(s, 'wamp.session.add_testament', topic, ['bad options'], {},
                            publish_options={'eligible': 'not a list'})
        except harness.ApplicationError as e:
            self.assertEqual(e.error, 'wamp.error.invalid_argument', e)
            return
        await s.leave_wait()
        await inbox.wait(1, about(js.session), what='on_leave')
        self.assertEqual(inbox.matching(on_topic(topic)), [(topic, ['bad options'], {})],
                         'add_testament accepted the testament, but it was not published when the session left')

    async def test_unknown_meta_procedure(self):
        s = await self.session()
        for proc in ('wamp.session.nonexistent', 'wamp.registration.frobnicate', 'wamp.foo'):
            await self.assertAppError(s.call(proc), 'wamp.error.no_such_procedure')
        # clients cannot take over a meta procedure
        await self.assertAppError(s.register(lambda: 0, 'wamp.session.count'), 'wamp.error.invalid_uri')
        self.assertIsInstance(await self.call(s, 'wamp.session.count'), int)

    async def test_testament_errors(self):
        s = await self.session()
        add = 'wamp.session.add_testament'
        for topic in ('wamp.session.on_leave', 'wamp.foo', 'wamp.x.y'):
            await self.assertAppError(s.call(add, topic, [], {}), 'wamp.error.invalid_uri')
        await self.assertAppError(s.call(add, 'not a uri', [], {}), 'wamp.error.invalid_uri')
        await self.assertAppError(s.call(add, uri(), 'notalist', {}), 'wamp.error.invalid_argument')
        await self.assertAppError(s.call(add, uri(), [], 'notadict'), 'wamp.error.invalid_argument')
        await self.assertAppError(s.call(add, uri(), [], {}, scope='forever'), 'wamp.error.invalid_argument')
        await self.assertAppError(s.call(add, uri(), [], {}, publish_options='x'), 'wamp.error.invalid_argument')
        await self.assertAppError(s.call(add), 'wamp.error.invalid_argument')
        # none of the refused ones was kept
        self.assertEqual(await self.call(s, 'wamp.session.flush_testaments'), 0)
        self.assertEqual(await self.call(s, 'wamp.session.flush_testaments', scope='detached'), 0)

    # -- 8. realm isolation -------------------------------------------------------------------------------

    async def test_meta_stays_in_its_realm(self):
        w1 = await self.session(realm=REALM)
        w2 = await self.session(realm=REALM2)
        in1 = await self.watch(w1, 'wamp.session.on_join', 'wamp.session.on_leave', 'wamp.registration.on_create')
        in2 = await self.watch(w2, 'wamp.session.on_join', 'wamp.session.on_leave', 'wamp.registration.on_create')
        s1, j1 = await self.joined(realm=REALM)
        proc = uri()
        await asyncio.wait_for(s1.register(lambda: 1, proc), T)
        await in1.wait(1, about(j1.session), what='on_join in realm1')
        # realm2 meta procedures do not see realm1 sessions or registrations
        ids2 = await self.call(w2, 'wamp.session.list')
        self.assertNotIn(j1.session, ids2)
        self.assertNotIn((await w1.joined).session, ids2)
        self.assertIn((await w2.joined).session, ids2)
        self.assertEqual(await self.call(w2, 'wamp.session.count'), len(ids2))
        await self.assertAppError(w2.call('wamp.session.get', j1.session), 'wamp.error.no_such_session')
        await self.assertAppError(w2.call('wamp.session.kill', j1.session), 'wamp.error.no_such_session')
        self.assertEqual(await self.call(w2, 'wamp.session.kill_by_authid', j1.authid), [])
        self.assertIsNone(await self.call(w2, 'wamp.registration.match', proc))
        self.assertIsNone(await self.call(w2, 'wamp.registration.lookup', proc))
        self.assertFalse(s1.left.done(), 'a realm2 kill reached a realm1 session')
        self.assertEqual((await self.call(s1, 'wamp.session.get', j1.session))['session'], j1.session)
        # a realm2 session's events reach the realm2 watcher only
        s2, j2 = await self.joined(realm=REALM2)
        await in2.wait(1, about(j2.session), what='on_join in realm2')
        await s1.leave_wait()
        await s2.leave_wait()
        await in1.wait(3, about(j1.session), what='on_join, on_create, on_leave in realm1')
        await in2.wait(2, about(j2.session), what='on_join, on_leave in realm2')
        await asyncio.sleep(0.2)
        self.assertEqual(in2.matching(about(j1.session)), [], 'realm1 meta events reached realm2')
        self.assertEqual(in1.matching(about(j2.session)), [], 'realm2 meta events reached realm1')

    # -- 9. pattern subscriptions to meta events ----------------------------------------------------------

    async def test_meta_events_by_pattern(self):
        watcher = await self.session()
        prefix = await self.watch(watcher, 'wamp.session.', match='prefix')
        wild = await self.watch(watcher, 'wamp..on_join', match='wildcard')
        s, js = await self.joined()
        (ev,) = await prefix.wait(1, about(js.session), what='on_join through a prefix subscription')
        self.assertEqual(ev[0], 'wamp.session.on_join')
        self.assertSessionDetails(ev[1][0], self.welcome_details(js))
        (ev,) = await wild.wait(1, about(js.session), what='on_join through a wildcard subscription')
        self.assertEqual(ev[0], 'wamp.session.on_join')
        await s.leave_wait()
        evs = await prefix.wait(2, about(js.session), what='on_leave through a prefix subscription')
        self.assertEqual(evs[1], ('wamp.session.on_leave', [js.session, js.authid, js.authrole], {}))
        await asyncio.sleep(0.1)
        self.assertEqual(len(wild.matching(about(js.session))), 1, 'on_leave does not match wamp..on_join')

    async def test_meta_subscriptions_are_listed(self):
        # a subscription to a meta topic is an ordinary subscription: the meta API lists it
        watcher, jw = await self.joined()
        admin = await self.session()
        sub = await asyncio.wait_for(watcher.subscribe(lambda *a, **k: None, 'wamp.session.on_join'), T)
        self.assertEqual(await self.call(admin, 'wamp.subscription.lookup', 'wamp.session.on_join'), sub.id)
        self.assertIn(jw.session, await self.call(admin, 'wamp.subscription.list_subscribers', sub.id))
        self.assertIn(sub.id, await self.call(admin, 'wamp.subscription.match', 'wamp.session.on_join'))
