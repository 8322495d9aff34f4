"""Authorization with Autobahn|Python (issue 14), over JSON and MessagePack: principals of two static
roles allowed and denied call, register, subscribe and publish on exact, prefix and wildcard rules; a
denied PUBLISH with and without acknowledge; an anonymous session that may not call wamp.session.kill;
a dynamic authorizer (an Autobahn|Python component in another realm) that allows, denies, answers
cache: true (the router stops asking: its calls are counted) and times out; a reload that revokes a
subscription the new roles forbid."""

import asyncio
import copy

from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions, SubscribeOptions, RegisterOptions

from harness import (SUBSCRIBE, SUBSCRIBED, UNSUBSCRIBED, HELLO, WELCOME, T, RawWamp, ModuleRouter, RouterProcess, WampCases,
                     connect, each_serializer, http_get, single, split_url, uri)

ROLES = [
    {'name': 'frontend', 'permissions': [
        {'uri': 'com.app.', 'match': 'prefix', 'allow': {'call': True, 'subscribe': True}},
        {'uri': 'com.app.admin.', 'match': 'prefix', 'allow': {}},
        {'uri': 'com.feed..news', 'match': 'wildcard', 'allow': {'publish': True, 'subscribe': True}},
    ]},
    {'name': 'backend', 'permissions': [
        {'uri': 'com.app.', 'match': 'prefix', 'allow': {'register': True, 'publish': True}},
        {'uri': 'com.app.admin.reset', 'match': 'exact', 'allow': {'register': True, 'call': True}},
    ]},
    {'name': 'anonymous', 'permissions': [
        {'uri': 'com.app.public', 'match': 'exact', 'allow': {'subscribe': True}},
        {'uri': 'wamp.session.count', 'match': 'exact', 'allow': {'call': True}},
    ]},
    {'name': 'guest', 'authorizer': 'com.test.authorize', 'authorizer_realm': 'authrealm'},
]


def config(roles=ROLES):
    principals = {name: {'role': role, 'ticket': name + '-ticket'}
                  for name, role in (('alice', 'frontend'), ('bob', 'backend'), ('gina', 'guest'))}
    return {
        'listeners': [{'type': 'universal', 'port': 0}],
        'auth_throttle': {'failures': 1000},
        'realms': [
            {'name': 'app', 'auth': {'ticket': {'principals': principals}, 'anonymous': {}},
             'roles': copy.deepcopy(roles), 'authorization': {'authorizer_timeout_ms': 500}},
            {'name': 'authrealm'},
        ],
    }


AuthzRouter = ModuleRouter(config=config)


def tearDownModule():
    AuthzRouter.stop()


class AuthzCases(WampCases):

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.r = AuthzRouter.get()
        host, port, _ = split_url(self.r.urls['universal'])
        self.host, self.port = host, port
        self.ws = 'ws://{}:{}/ws'.format(host, port)
        self.rs = 'rs://{}:{}'.format(host, port)

    async def as_user(self, name, url=None, realm='app'):
        s = await connect(self.SER, realm=realm, url=url or self.ws,
                          join_kwargs={'authmethods': ['ticket'], 'authid': name},
                          on_challenge=lambda session, c: name + '-ticket')
        self._closers.append(s)
        return s

    async def anonymous(self, realm='app'):
        s = await connect(self.SER, realm=realm, url=self.ws)
        self._closers.append(s)
        return s

    async def denied(self, awaitable, what):
        e = await self.assertAppError(awaitable, 'wamp.error.not_authorized')
        self.assertIn(what, e.args[0])
        return e

    async def metric(self, name):
        _, _, body = await http_get(self.host, self.port, '/metrics')
        for line in body.decode().splitlines():
            if line.startswith(name + ' '):
                return float(line.rsplit(' ', 1)[1])
        return 0.0


@each_serializer
class StaticRoles(AuthzCases):

    async def test_register_and_call_by_role(self):
        bob = await self.as_user('bob', url=self.rs)
        alice = await self.as_user('alice')
        proc = uri('com.app.rpc')
        await bob.register(lambda x: x + 1, proc)
        self.assertEqual(await alice.call(proc, 1), 2)                        # frontend: call com.app.*
        await self.denied(alice.register(lambda: 0, uri('com.app.rpc')), "role 'frontend' may not register")
        await self.denied(bob.call(proc, 1), "role 'backend' may not call")   # backend: no call
        # The longer prefix wins: frontend may not call com.app.admin.*, but backend's exact rule
        # lets it register and call com.app.admin.reset.
        await bob.register(lambda: 'reset', 'com.app.admin.reset')
        await self.denied(alice.call('com.app.admin.reset'), "may not call 'com.app.admin.reset'")
        self.assertEqual(await bob.call('com.app.admin.reset'), 'reset')

    async def test_subscribe_and_publish_with_prefix_and_wildcard_rules(self):
        alice = await self.as_user('alice')
        bob = await self.as_user('bob')
        got = asyncio.get_running_loop().create_future()
        topic = uri('com.app.t')
        await alice.subscribe(lambda v: got.done() or got.set_result(v), topic)  # prefix: subscribe
        await bob.publish(topic, 7, options=PublishOptions(acknowledge=True))    # prefix: publish
        self.assertEqual(await asyncio.wait_for(got, T), 7)
        await self.denied(alice.publish(topic, options=PublishOptions(acknowledge=True)),
                          "role 'frontend' may not publish '" + topic + "'")
        await self.denied(bob.subscribe(lambda: None, topic), "role 'backend' may not subscribe")
        # The wildcard rule: any middle component.
        feed = 'com.feed.' + topic.rsplit('.', 1)[-1] + '.news'
        mine = asyncio.get_running_loop().create_future()
        await alice.subscribe(lambda v: mine.done() or mine.set_result(v), feed)
        await alice.publish(feed, 8, options=PublishOptions(acknowledge=True, exclude_me=False))
        self.assertEqual(await asyncio.wait_for(mine, T), 8)
        await self.denied(alice.publish('com.feed.a.b.news', options=PublishOptions(acknowledge=True)),
                          'may not publish')  # one component more: no match
        await self.denied(bob.publish(feed, options=PublishOptions(acknowledge=True)), 'may not publish')

    async def test_denied_publish_without_acknowledge_is_dropped_and_counted(self):
        alice = await self.as_user('alice')
        bob = await self.as_user('bob')
        events = []
        topic = 'com.app.drop'
        await alice.subscribe(lambda *a: events.append(a), topic)
        before = await self.metric('junction_authorization_denied_total{realm="app",action="publish"}')
        alice.publish(topic, 1)  # frontend may not publish here: no reply, no event
        await bob.publish(topic, 2, options=PublishOptions(acknowledge=True))  # a marker that arrives after
        for _ in range(50):
            if events:
                break
            await asyncio.sleep(0.02)
        self.assertEqual(events, [(2,)])
        after = await self.metric('junction_authorization_denied_total{realm="app",action="publish"}')
        self.assertEqual(after, before + 1)

    async def test_anonymous_may_not_kill_sessions(self):
        anon = await self.anonymous()
        victim = await self.as_user('alice')
        await self.denied(anon.call('wamp.session.kill', victim.joined.result().session),
                          "role 'anonymous' may not call 'wamp.session.kill'")
        self.assertGreaterEqual(await anon.call('wamp.session.count'), 2)  # allowed
        await self.denied(anon.subscribe(lambda: None, 'wamp.session.on_join'), 'may not subscribe')
        await anon.subscribe(lambda: None, 'com.app.public')


@each_serializer
class DynamicAuthorizer(AuthzCases):

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.asked = []
        self.component = await self.anonymous(realm='authrealm')

        async def authorize(session, uri_, action, options):
            self.asked.append((session['authrole'], uri_, action))
            if uri_.endswith('.slow'):
                await asyncio.sleep(2)
            if uri_.endswith('.cached'):
                return {'allow': True, 'cache': True, 'ttl': 60}
            return uri_.startswith('com.app.ok')
        self.registration = await self.component.register(authorize, 'com.test.authorize')

    async def asyncTearDown(self):
        try:
            await self.registration.unregister()
        finally:
            await super().asyncTearDown()

    async def test_allows_denies_and_sees_the_session(self):
        gina = await self.as_user('gina')
        await gina.subscribe(lambda: None, 'com.app.ok.topic')
        await self.denied(gina.subscribe(lambda: None, 'com.app.no.topic'), "role 'guest' may not subscribe")
        self.assertEqual(self.asked[-2:], [('guest', 'com.app.ok.topic', 'subscribe'),
                                           ('guest', 'com.app.no.topic', 'subscribe')])

    async def test_cached_answers_stop_the_router_asking(self):
        gina = await self.as_user('gina')
        got = []
        await gina.subscribe(lambda v: got.append(v), 'com.app.x.cached')
        await gina.publish('com.app.x.cached', 1, options=PublishOptions(acknowledge=True, exclude_me=False))
        asked = len(self.asked)
        for i in range(5):  # the same (role, uri, action): answered from the cache
            await gina.publish('com.app.x.cached', i, options=PublishOptions(acknowledge=True, exclude_me=False))
        other = await self.as_user('gina', url=self.rs)  # another session of the role: cached too
        await other.publish('com.app.x.cached', 9, options=PublishOptions(acknowledge=True))
        self.assertEqual(len(self.asked), asked)
        self.assertGreaterEqual(await self.metric('junction_authorizer_cache_hits_total{realm="app"}'), 6)

    async def test_a_slow_authorizer_means_denied(self):
        gina = await self.as_user('gina')
        await self.denied(gina.call('com.app.ok.slow'), 'may not call')
        self.assertGreaterEqual(await self.metric('junction_authorizer_calls_total{realm="app",outcome="timeout"}'), 1)

    async def test_messages_behind_a_pending_authorization_keep_their_order(self):
        gina = await self.as_user('gina')
        results = await asyncio.gather(
            gina.subscribe(lambda: None, 'com.app.ok.one'),
            gina.subscribe(lambda: None, 'com.app.no.two'),
            gina.subscribe(lambda: None, 'com.app.ok.three'),
            return_exceptions=True)
        self.assertFalse(isinstance(results[0], Exception))
        self.assertIsInstance(results[1], ApplicationError)
        self.assertFalse(isinstance(results[2], Exception))
        self.assertEqual([a[1] for a in self.asked[-3:]], ['com.app.ok.one', 'com.app.no.two', 'com.app.ok.three'])


@single
class ReloadRevokes(AuthzCases):

    async def test_a_reload_revokes_a_subscription_the_new_roles_forbid(self):
        router = RouterProcess(config=config()).start()
        try:
            host, port, _ = split_url(router.urls['universal'])
            raw = await RawWamp.open('json', 'ws://{}:{}/ws'.format(host, port))
            self._closers.append(raw)
            raw.send([HELLO, 'app', {'roles': {'subscriber': {'features': {'subscription_revocation': True}}}}])
            await raw.expect(WELCOME)
            raw.send([SUBSCRIBE, 1, {}, 'com.app.public'])
            sub = (await raw.expect(SUBSCRIBED))[2]
            roles = copy.deepcopy(ROLES)
            roles[2]['permissions'] = [p for p in roles[2]['permissions'] if p['uri'] != 'com.app.public']
            router.reload(config(roles))
            router.wait_for_log('subscriptions the new roles forbid revoked')
            revoked = await raw.expect(UNSUBSCRIBED)
            self.assertEqual(revoked[1], 0)
            self.assertEqual(revoked[2], {'subscription': sub, 'reason': 'wamp.error.not_authorized'})
        finally:
            router.stop()
