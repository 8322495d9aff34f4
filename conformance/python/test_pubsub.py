"""Broker: SUBSCRIBE/UNSUBSCRIBE/PUBLISH/EVENT, acknowledge, publisher exclusion, shared subscription ids.

Every case runs per transport (WebSocket, RawSocket TCP, RawSocket Unix) x serializer."""

import asyncio

from autobahn.wamp.types import PublishOptions, SubscribeOptions

from harness import (ERROR, EVENT, PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, T, UNSUBSCRIBE, UNSUBSCRIBED,
                     Inbox, WampCases, each_transport_and_serializer, uri)

ACK = PublishOptions(acknowledge=True)


@each_transport_and_serializer
class PubSubTests(WampCases):

    async def _subscriber(self, topic, **kw):
        s = await self.session(**kw)
        inbox = Inbox()
        sub = await asyncio.wait_for(s.subscribe(inbox.handler, topic, options=SubscribeOptions(details=True)), T)
        return s, inbox, sub

    async def test_publish_without_acknowledge(self):
        topic = uri()
        _, inbox, sub = await self._subscriber(topic)
        pub = await self.session()
        self.assertIsNone(pub.publish(topic, 1, 'two', [3], k={'v': None}))
        args, kwargs, details = await inbox.get()
        self.assertEqual(list(args), [1, 'two', [3]])
        self.assertEqual(kwargs, {'k': {'v': None}})
        self.assertEqual(details.subscription.id, sub.id)
        self.assertIdRange(details.publication, 'EVENT.Publication')

    async def test_publish_without_payload(self):
        topic = uri()
        _, inbox, _ = await self._subscriber(topic)
        pub = await self.session()
        pub.publish(topic)
        args, kwargs, _ = await inbox.get()
        self.assertEqual((list(args), kwargs), ([], {}))

    async def test_publish_with_acknowledge(self):
        topic = uri()
        _, inbox, _ = await self._subscriber(topic)
        pub = await self.session()
        publication = await asyncio.wait_for(pub.publish(topic, 'x', options=ACK), T)
        self.assertIsNotNone(publication, 'acknowledge:true must yield PUBLISHED')
        self.assertIdRange(publication.id, 'PUBLISHED.Publication')
        args, _, details = await inbox.get()
        self.assertEqual(list(args), ['x'])
        self.assertEqual(details.publication, publication.id, 'EVENT and PUBLISHED must carry the same publication id')
        # no subscribers at all: still acknowledged
        p2 = await asyncio.wait_for(pub.publish(uri(), options=ACK), T)
        self.assertIdRange(p2.id)
        self.assertNotEqual(p2.id, publication.id)

    async def test_publish_raw_layout(self):
        topic = uri()
        sub = await self.raw()
        pub = await self.raw()
        sid = await sub.subscribe(topic)
        self.assertIdRange(sid, 'Subscription')
        pub.send([PUBLISH, 5, {'acknowledge': True}, topic, ['a'], {'b': 2}])
        published = await pub.expect(PUBLISHED)
        self.assertEqual(len(published), 3)
        self.assertEqual(published[1], 5)
        self.assertIdRange(published[2])
        ev = await sub.expect(EVENT)
        self.assertEqual(ev[1], sid)
        self.assertEqual(ev[2], published[2])
        self.assertIsInstance(ev[3], dict)
        self.assertEqual(ev[4:], [['a'], {'b': 2}])
        # without payload the EVENT has no payload elements; without acknowledge there is no PUBLISHED
        pub.send([PUBLISH, 6, {}, topic])
        ev = await sub.expect(EVENT)
        self.assertEqual(len(ev), 4, 'EVENT should omit empty payload: {!r}'.format(ev))
        await pub.expect_nothing(0.3)

    async def test_exclude_me_default(self):
        topic = uri()
        me, my_inbox, _ = await self._subscriber(topic)
        _, other_inbox, _ = await self._subscriber(topic)
        await asyncio.wait_for(me.publish(topic, 'hello', options=ACK), T)
        args, _, _ = await other_inbox.get()
        self.assertEqual(list(args), ['hello'])
        await my_inbox.assert_empty(self)
        # exclude_me=false (Options key of the basic PUBLISH) is not required here; default only

    async def test_same_subscription_id_for_all_subscribers(self):
        topic = uri()
        _, in1, s1 = await self._subscriber(topic)
        _, in2, s2 = await self._subscriber(topic)
        self.assertIdRange(s1.id)
        self.assertEqual(s1.id, s2.id, 'subscribers of one topic must share the subscription id')
        _, _, s3 = await self._subscriber(uri())
        self.assertNotEqual(s1.id, s3.id, 'different topics must have different subscription ids')
        pub = await self.session()
        pub.publish(topic, 1)
        for inbox in (in1, in2):
            args, _, details = await inbox.get()
            self.assertEqual(list(args), [1])
            self.assertEqual(details.subscription.id, s1.id)

    async def test_repeated_subscribe_returns_existing_id(self):
        topic = uri()
        r = await self.raw()
        pub = await self.raw()
        first = await r.subscribe(topic)
        second = await r.subscribe(topic)
        self.assertEqual(first, second, 'repeated SUBSCRIBE must return the existing subscription id')
        pub.send([PUBLISH, 1, {}, topic, ['once']])
        ev = await r.expect(EVENT)
        self.assertEqual(ev[4], ['once'])
        await r.expect_nothing(0.3)  # one subscription -> one EVENT
        # one UNSUBSCRIBE removes it
        self.assertEqual(await r.request([UNSUBSCRIBE, 10, first], UNSUBSCRIBED), [UNSUBSCRIBED, 10])
        pub.send([PUBLISH, 2, {}, topic, ['gone']])
        await r.expect_nothing(0.3)

    async def test_unsubscribe_stops_events(self):
        topic = uri()
        _, in1, s1 = await self._subscriber(topic)
        _, in2, _ = await self._subscriber(topic)
        await asyncio.wait_for(s1.unsubscribe(), T)
        pub = await self.session()
        await asyncio.wait_for(pub.publish(topic, 'after', options=ACK), T)
        args, _, _ = await in2.get()
        self.assertEqual(list(args), ['after'])
        await in1.assert_empty(self)

    async def test_no_such_subscription(self):
        topic = uri()
        owner = await self.raw()
        other = await self.raw()
        pub = await self.raw()
        sid = await owner.subscribe(topic)
        # an id nobody has
        err = await other.request([UNSUBSCRIBE, 1, 4242424242], UNSUBSCRIBED)
        self.assertEqual(err[:3], [ERROR, UNSUBSCRIBE, 1], err)
        self.assertEqual(err[4], 'wamp.error.no_such_subscription')
        # another session's subscription (the id exists, but this session is not subscribed)
        err = await other.request([UNSUBSCRIBE, 2, sid], UNSUBSCRIBED)
        self.assertEqual(err[:3], [ERROR, UNSUBSCRIBE, 2], err)
        self.assertEqual(err[4], 'wamp.error.no_such_subscription')
        pub.send([PUBLISH, 1, {}, topic, ['still']])
        ev = await owner.expect(EVENT)
        self.assertEqual(ev[4], ['still'])
        # unsubscribing twice
        self.assertEqual(await owner.request([UNSUBSCRIBE, 5, sid], UNSUBSCRIBED), [UNSUBSCRIBED, 5])
        err = await owner.request([UNSUBSCRIBE, 6, sid], UNSUBSCRIBED)
        self.assertEqual(err[:3], [ERROR, UNSUBSCRIBE, 6], err)
        self.assertEqual(err[4], 'wamp.error.no_such_subscription')

    async def test_invalid_topic_uri(self):
        r = await self.raw()
        for i, bad in enumerate(('com..empty', 'com.with space', 'com.hash#tag', '')):
            err = await r.request([SUBSCRIBE, 100 + i, {}, bad], SUBSCRIBED)
            self.assertEqual(err[:3], [ERROR, SUBSCRIBE, 100 + i], 'SUBSCRIBE {!r}: {!r}'.format(bad, err))
            self.assertEqual(err[4], 'wamp.error.invalid_uri')
            err = await r.request([PUBLISH, 200 + i, {'acknowledge': True}, bad], PUBLISHED)
            self.assertEqual(err[:3], [ERROR, PUBLISH, 200 + i], 'PUBLISH {!r}: {!r}'.format(bad, err))
            self.assertEqual(err[4], 'wamp.error.invalid_uri')
        await r.subscribe(uri())

    async def test_event_order_from_one_publisher(self):
        topic = uri()
        _, inbox, _ = await self._subscriber(topic)
        pub = await self.session()
        n = 100
        for i in range(n):
            pub.publish(topic, i)
        got = [(await inbox.get())[0][0] for _ in range(n)]
        self.assertEqual(got, list(range(n)), 'events arrived out of publish order')

    async def test_fanout_to_many_subscribers(self):
        topic = uri()
        subs = [await self._subscriber(topic) for _ in range(10)]
        pub = await self.session()
        await asyncio.wait_for(pub.publish(topic, 'all', options=ACK), T)
        for _, inbox, _ in subs:
            args, _, _ = await inbox.get()
            self.assertEqual(list(args), ['all'])

    async def test_subscriber_disconnect_cleanup(self):
        topic = uri()
        gone, gone_inbox, _ = await self._subscriber(topic)
        _, inbox, _ = await self._subscriber(topic)
        gone.drop()
        await asyncio.wait_for(asyncio.shield(gone.disconnected), T)
        pub = await self.session()
        for i in range(3):
            await asyncio.wait_for(pub.publish(topic, i, options=ACK), T)
            args, _, _ = await inbox.get()
            self.assertEqual(list(args), [i])

    async def test_subscribe_raw_layout(self):
        r = await self.raw()
        r.send([SUBSCRIBE, 77, {}, uri()])
        m = await r.expect(SUBSCRIBED)
        self.assertEqual(len(m), 3, m)
        self.assertEqual(m[1], 77)
        self.assertIdRange(m[2])
