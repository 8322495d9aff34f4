"""Broker, Advanced Profile (issue 5): subscriber black/white listing, publisher exclusion and
identification, pattern-based subscriptions, event retention.

Autobahn|Python where it can say it; the raw client where it cannot (Autobahn|Python 22.7.1's
PublishOptions has no disclose_me, and it validates option types before sending, so malformed
options need raw frames). Feature tests, so WebSocket only, JSON and MessagePack
(@each_serializer); the transport matrix is covered by test_pubsub. Subscription revocation needs
the meta API to be triggered from outside and is covered by the unit tests."""

import asyncio

from autobahn.wamp.types import PublishOptions, SubscribeOptions

from harness import (ERROR, EVENT, PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, T, WampCases,
                     Inbox, each_serializer, uri)

DETAILS = SubscribeOptions(details=True)


@each_serializer
class PubSubAdvancedTests(WampCases):

    async def _subscriber(self, topic, options=DETAILS):
        s = await self.session()
        inbox = Inbox()
        sub = await asyncio.wait_for(s.subscribe(inbox.handler, topic, options=options), T)
        return s, inbox, sub

    async def _subscribers(self, topic, n):
        return [await self._subscriber(topic) for _ in range(n)]

    @staticmethod
    def _info(session):
        """SessionDetails of a joined Autobahn session (session id, authid, authrole)."""
        return session.joined.result()

    async def _received(self, subs, expected):
        """The subscribers in `expected` (indices) got exactly one event each; the others none."""
        for i, (_, inbox, _) in enumerate(subs):
            if i in expected:
                args, _, _ = await inbox.get()
                self.assertEqual(list(args), ['x'], 'subscriber {}'.format(i))
        for i, (_, inbox, _) in enumerate(subs):
            await inbox.assert_empty(self, 0.3 if i not in expected else 0.05)

    # --- 1. subscriber black/white listing ------------------------------------------------------

    async def test_exclude_session_ids(self):
        topic = uri()
        subs = await self._subscribers(topic, 3)
        pub = await self.session()
        excluded = [self._info(subs[1][0]).session]
        await asyncio.wait_for(pub.publish(topic, 'x', options=PublishOptions(acknowledge=True, exclude=excluded)), T)
        await self._received(subs, {0, 2})

    async def test_eligible_session_ids(self):
        topic = uri()
        subs = await self._subscribers(topic, 3)
        pub = await self.session()
        eligible = [self._info(subs[0][0]).session, self._info(subs[2][0]).session]
        await asyncio.wait_for(pub.publish(topic, 'x', options=PublishOptions(acknowledge=True, eligible=eligible)), T)
        await self._received(subs, {0, 2})

    async def test_exclude_and_eligible_authid(self):
        topic = uri()
        subs = await self._subscribers(topic, 3)
        pub = await self.session()
        authids = [self._info(s).authid for s, _, _ in subs]
        self.assertEqual(len(set(authids)), 3, 'anonymous sessions should have distinct authids: {}'.format(authids))
        await asyncio.wait_for(pub.publish(topic, 'x', options=PublishOptions(
            acknowledge=True, exclude_authid=[authids[0]])), T)
        await self._received(subs, {1, 2})
        await asyncio.wait_for(pub.publish(topic, 'x', options=PublishOptions(
            acknowledge=True, eligible_authid=[authids[1]])), T)
        await self._received(subs, {1})

    async def test_exclude_and_eligible_authrole(self):
        topic = uri()
        subs = await self._subscribers(topic, 2)
        pub = await self.session()
        role = self._info(subs[0][0]).authrole
        self.assertEqual(role, 'anonymous')
        # every anonymous session has the same authrole
        await asyncio.wait_for(pub.publish(topic, 'x', options=PublishOptions(
            acknowledge=True, exclude_authrole=['anonymous'])), T)
        await self._received(subs, set())
        await asyncio.wait_for(pub.publish(topic, 'x', options=PublishOptions(
            acknowledge=True, eligible_authrole=['nobody'])), T)
        await self._received(subs, set())
        await asyncio.wait_for(pub.publish(topic, 'x', options=PublishOptions(
            acknowledge=True, eligible_authrole=['anonymous', 'nobody'])), T)
        await self._received(subs, {0, 1})

    async def test_black_and_white_lists_combine_with_and(self):
        topic = uri()
        subs = await self._subscribers(topic, 4)
        pub = await self.session()
        ids = [self._info(s).session for s, _, _ in subs]
        authids = [self._info(s).authid for s, _, _ in subs]
        await asyncio.wait_for(pub.publish(topic, 'x', options=PublishOptions(
            acknowledge=True, eligible=ids[:3], exclude=[ids[1]], exclude_authid=[authids[2]],
            eligible_authrole=['anonymous'])), T)
        await self._received(subs, {0})

    async def test_malformed_lists_are_refused(self):
        topic = uri()
        _, inbox, _ = await self._subscriber(topic)
        r = await self.raw()
        bad = [('exclude', 'not a list'), ('exclude', ['1']), ('exclude', [-5]), ('eligible', [1.5]),
               ('exclude_authid', [1]), ('exclude_authrole', 'anonymous'), ('eligible_authid', {}),
               ('eligible_authrole', [None]), ('exclude_me', 'no')]
        for i, (key, v) in enumerate(bad):
            req = 100 + i
            err = await r.request([PUBLISH, req, {'acknowledge': True, key: v}, topic, ['bad']], PUBLISHED)
            self.assertEqual(err[:3], [ERROR, PUBLISH, req], '{}={!r}: {!r}'.format(key, v, err))
            self.assertEqual(err[4], 'wamp.error.invalid_argument', '{}={!r}'.format(key, v))
            # without acknowledge: dropped silently
            r.send([PUBLISH, 200 + i, {key: v}, topic, ['bad']])
        await inbox.assert_empty(self)
        await r.expect_nothing(0.2)
        # the session still works
        r.send([PUBLISH, 300, {}, topic, ['good']])
        args, _, _ = await inbox.get()
        self.assertEqual(list(args), ['good'])

    # --- 2. publisher exclusion and identification --------------------------------------------

    async def test_exclude_me_false_delivers_to_publisher(self):
        topic = uri()
        me, my_inbox, sub = await self._subscriber(topic)
        _, other_inbox, _ = await self._subscriber(topic)
        pub = await asyncio.wait_for(me.publish(topic, 'mine', options=PublishOptions(acknowledge=True, exclude_me=False)), T)
        args, _, details = await my_inbox.get()
        self.assertEqual(list(args), ['mine'])
        self.assertEqual(details.subscription.id, sub.id)
        self.assertEqual(details.publication, pub.id)
        args, _, _ = await other_inbox.get()
        self.assertEqual(list(args), ['mine'])
        # exclude_me=True is the default and explicit
        await asyncio.wait_for(me.publish(topic, 'again', options=PublishOptions(acknowledge=True, exclude_me=True)), T)
        args, _, _ = await other_inbox.get()
        self.assertEqual(list(args), ['again'])
        await my_inbox.assert_empty(self)

    async def test_disclose_me(self):
        topic = uri()
        _, inbox, _ = await self._subscriber(topic)
        r = await self.raw()
        r.send([PUBLISH, 1, {}, topic, ['anonymous']])
        _, _, details = await inbox.get()
        self.assertIsNone(details.publisher, 'publisher disclosed without disclose_me')
        published = await r.request([PUBLISH, 2, {'acknowledge': True, 'disclose_me': True}, topic, ['disclosed']],
                                    PUBLISHED)
        self.assertEqual(published[0], PUBLISHED, published)
        args, _, details = await inbox.get()
        self.assertEqual(list(args), ['disclosed'])
        self.assertEqual(details.publisher, r.session_id)
        self.assertEqual(details.publisher_authid, r.welcome[2]['authid'])
        self.assertEqual(details.publisher_authrole, r.welcome[2]['authrole'])
        self.assertEqual(details.publication, published[2])

    async def test_disclose_me_raw_event_layout(self):
        topic = uri()
        sub = await self.raw()
        pub = await self.raw()
        sid = await sub.subscribe(topic)
        pub.send([PUBLISH, 1, {'disclose_me': True, 'exclude_me': False}, topic])
        ev = await sub.expect(EVENT)
        self.assertEqual(ev[1], sid)
        self.assertEqual(ev[3], {'publisher': pub.session_id, 'publisher_authid': pub.welcome[2]['authid'],
                                 'publisher_authrole': pub.welcome[2]['authrole']})

    # --- 3. pattern-based subscriptions ---------------------------------------------------------

    async def test_prefix_subscription(self):
        base = uri()
        _, inbox, sub = await self._subscriber(base, SubscribeOptions(match='prefix', details=True))
        _, exact_inbox, exact = await self._subscriber(base)
        self.assertNotEqual(sub.id, exact.id, 'prefix and exact subscriptions to one URI must differ')
        pub = await self.session()
        for topic in (base, base + '.a', base + '.a.b', base + 'x'):
            await asyncio.wait_for(pub.publish(topic, topic, options=PublishOptions(acknowledge=True)), T)
            args, _, details = await inbox.get()
            self.assertEqual(list(args), [topic])
            self.assertEqual(details.subscription.id, sub.id)
            self.assertEqual(details.topic, topic, 'EVENT.Details.topic must be the published topic')
        await asyncio.wait_for(pub.publish(base[:-1], 'shorter', options=PublishOptions(acknowledge=True)), T)
        await inbox.assert_empty(self)
        args, _, _ = await exact_inbox.get()
        self.assertEqual(list(args), [base])
        await exact_inbox.assert_empty(self, 0.05)

    async def test_wildcard_subscription(self):
        base = uri()
        pattern = base + '..status'
        _, inbox, sub = await self._subscriber(pattern, SubscribeOptions(match='wildcard', details=True))
        pub = await self.session()
        for topic in (base + '.a.status', base + '.b.status'):
            await asyncio.wait_for(pub.publish(topic, topic, options=PublishOptions(acknowledge=True)), T)
            args, _, details = await inbox.get()
            self.assertEqual(list(args), [topic])
            self.assertEqual(details.subscription.id, sub.id)
            self.assertEqual(details.topic, topic)
        for topic in (base + '.status', base + '.a.b.status', base + '.a.status.x', base + '.a.other'):
            await asyncio.wait_for(pub.publish(topic, topic, options=PublishOptions(acknowledge=True)), T)
        await inbox.assert_empty(self)

    async def test_one_event_per_matching_subscription(self):
        base = uri()
        topic = base + '.a.b'
        s = await self.session()
        inboxes = [Inbox() for _ in range(3)]
        subs = [await asyncio.wait_for(s.subscribe(inbox.handler, t, options=SubscribeOptions(match=m, details=True)), T)
                for inbox, (t, m) in zip(inboxes, ((topic, 'exact'), (base, 'prefix'), (base + '..b', 'wildcard')))]
        self.assertEqual(len({x.id for x in subs}), 3)
        pub = await self.session()
        published = await asyncio.wait_for(pub.publish(topic, 'x', options=PublishOptions(acknowledge=True)), T)
        for inbox, sub in zip(inboxes, subs):
            args, _, details = await inbox.get()
            self.assertEqual(list(args), ['x'])
            self.assertEqual(details.subscription.id, sub.id)
            self.assertEqual(details.publication, published.id, 'the same publication id for every subscription')
            await inbox.assert_empty(self, 0.1)

    async def test_pattern_subscription_ids_are_shared(self):
        base = uri()
        _, _, s1 = await self._subscriber(base, SubscribeOptions(match='prefix'))
        _, _, s2 = await self._subscriber(base, SubscribeOptions(match='prefix'))
        _, _, w = await self._subscriber(base + '.', SubscribeOptions(match='wildcard'))
        self.assertEqual(s1.id, s2.id, 'subscribers of one (topic, match) share its subscription id')
        self.assertNotEqual(s1.id, w.id)

    async def test_pattern_subscribe_errors(self):
        r = await self.raw()
        base = uri()
        err = await r.request([SUBSCRIBE, 1, {'match': 'regex'}, base], SUBSCRIBED)
        self.assertEqual(err[:3], [ERROR, SUBSCRIBE, 1], err)
        self.assertEqual(err[4], 'wamp.error.invalid_argument')
        err = await r.request([SUBSCRIBE, 2, {'match': 'prefix'}, base + '..x'], SUBSCRIBED)
        self.assertEqual(err[4], 'wamp.error.invalid_uri', err)
        err = await r.request([SUBSCRIBE, 3, {}, base + '..x'], SUBSCRIBED)
        self.assertEqual(err[4], 'wamp.error.invalid_uri', err)
        ok = await r.request([SUBSCRIBE, 4, {'match': 'wildcard'}, base + '..x'], SUBSCRIBED)
        self.assertEqual(ok[:2], [SUBSCRIBED, 4], ok)
        ok = await r.request([SUBSCRIBE, 5, {'match': 'prefix'}, base + '.'], SUBSCRIBED)
        self.assertEqual(ok[:2], [SUBSCRIBED, 5], ok)

    # --- 4. event retention ---------------------------------------------------------------------

    async def test_retained_event_for_late_subscriber(self):
        topic = uri()
        pub = await self.session()
        await asyncio.wait_for(pub.publish(topic, 'old', options=PublishOptions(acknowledge=True, retain=True)), T)
        latest = await asyncio.wait_for(pub.publish(topic, 'latest', k=1, options=PublishOptions(acknowledge=True, retain=True)), T)
        await asyncio.wait_for(pub.publish(topic, 'not retained', options=PublishOptions(acknowledge=True)), T)
        _, inbox, sub = await self._subscriber(topic, SubscribeOptions(get_retained=True, details=True))
        args, kwargs, details = await inbox.get()
        self.assertEqual((list(args), kwargs), (['latest'], {'k': 1}))
        self.assertTrue(details.retained, 'EVENT.Details.retained must be true')
        self.assertEqual(details.publication, latest.id)
        self.assertEqual(details.subscription.id, sub.id)
        await inbox.assert_empty(self)
        # without get_retained: nothing
        _, plain, _ = await self._subscriber(topic)
        await plain.assert_empty(self)
        # live events are not marked retained
        await asyncio.wait_for(pub.publish(topic, 'live', options=PublishOptions(acknowledge=True)), T)
        args, _, details = await plain.get()
        self.assertEqual(list(args), ['live'])
        self.assertFalse(details.retained)

    async def test_retained_events_for_pattern_subscription(self):
        base = uri()
        pub = await self.session()
        topics = [base + '.a.v', base + '.b.v', base + '.b.w']
        for t in topics:
            await asyncio.wait_for(pub.publish(t, t, options=PublishOptions(acknowledge=True, retain=True)), T)
        _, inbox, sub = await self._subscriber(base, SubscribeOptions(match='prefix', get_retained=True, details=True))
        got = set()
        for _ in topics:
            args, _, details = await inbox.get()
            self.assertTrue(details.retained)
            self.assertEqual(details.subscription.id, sub.id)
            self.assertEqual(list(args), [details.topic])
            got.add(details.topic)
        self.assertEqual(got, set(topics))
        await inbox.assert_empty(self)
        _, winbox, _ = await self._subscriber(base + '..v', SubscribeOptions(match='wildcard', get_retained=True, details=True))
        got = set()
        for _ in range(2):
            _, _, details = await winbox.get()
            got.add(details.topic)
        self.assertEqual(got, {base + '.a.v', base + '.b.v'})
        await winbox.assert_empty(self)

    async def test_retained_event_honours_its_black_list(self):
        topic = uri()
        excluded = await self.session()
        pub = await self.session()
        await asyncio.wait_for(pub.publish(topic, 'x', options=PublishOptions(
            acknowledge=True, retain=True, exclude=[self._info(excluded).session])), T)
        inbox = Inbox()
        await asyncio.wait_for(excluded.subscribe(inbox.handler, topic, options=SubscribeOptions(get_retained=True)), T)
        await inbox.assert_empty(self)
        _, other, _ = await self._subscriber(topic, SubscribeOptions(get_retained=True, details=True))
        args, _, details = await other.get()
        self.assertEqual(list(args), ['x'])
        self.assertTrue(details.retained)
        # the publisher itself: exclude_me applies to the retained event too
        mine = Inbox()
        await asyncio.wait_for(pub.subscribe(mine.handler, topic, options=SubscribeOptions(get_retained=True)), T)
        await mine.assert_empty(self)

    async def test_retained_raw_order_subscribed_then_event(self):
        topic = uri()
        pub = await self.raw()
        published = await pub.request([PUBLISH, 1, {'acknowledge': True, 'retain': True}, topic, [1], {'a': 'b'}], PUBLISHED)
        self.assertEqual(published[0], PUBLISHED, published)
        sub = await self.raw()
        sub.send([SUBSCRIBE, 7, {'get_retained': True}, topic])
        subscribed = await sub.expect(SUBSCRIBED)
        self.assertEqual(subscribed[1], 7)
        ev = await sub.expect(EVENT)
        self.assertEqual(ev[1], subscribed[2])
        self.assertEqual(ev[2], published[2])
        self.assertEqual(ev[3], {'retained': True})
        self.assertEqual(ev[4:], [[1], {'a': 'b'}])
        await sub.expect_nothing(0.2)
