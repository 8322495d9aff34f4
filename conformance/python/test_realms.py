"""Realm isolation: nothing registered or subscribed in one realm is visible in another.

Every case runs per plain transport (WebSocket, RawSocket TCP, RawSocket Unix) x serializer; not over TLS
(wss / rss), which adds nothing to realm routing and costs run time."""

import asyncio

from autobahn.wamp.types import PublishOptions

from harness import PLAIN_TRANSPORTS, REALM, REALM2, T, WampCases, each_transport_and_serializer, uri

ACK = PublishOptions(acknowledge=True)


@each_transport_and_serializer(transports=PLAIN_TRANSPORTS)
class RealmTests(WampCases):

    async def test_rpc_isolated(self):
        r1 = await self.session(realm=REALM)
        r2 = await self.session(realm=REALM2)
        self.assertEqual(r2.realm, REALM2)
        proc = uri()
        await asyncio.wait_for(r1.register(lambda: 'realm1', proc), T)
        await self.assertAppError(r2.call(proc), 'wamp.error.no_such_procedure')
        # same URI may be registered independently in the other realm
        await asyncio.wait_for(r2.register(lambda: 'realm2', proc), T)
        other1 = await self.session(realm=REALM)
        other2 = await self.session(realm=REALM2)
        self.assertEqual(await asyncio.wait_for(other1.call(proc), T), 'realm1')
        self.assertEqual(await asyncio.wait_for(other2.call(proc), T), 'realm2')

    async def test_pubsub_isolated(self):
        topic = uri()
        got1, got2 = asyncio.Queue(), asyncio.Queue()
        sub1 = await self.session(realm=REALM)
        sub2 = await self.session(realm=REALM2)
        s1 = await asyncio.wait_for(sub1.subscribe(lambda x: got1.put_nowait(x), topic), T)
        await asyncio.wait_for(sub2.subscribe(lambda x: got2.put_nowait(x), topic), T)
        pub2 = await self.session(realm=REALM2)
        await asyncio.wait_for(pub2.publish(topic, 'in realm2', options=ACK), T)
        self.assertEqual(await asyncio.wait_for(got2.get(), T), 'in realm2')
        with self.assertRaises(asyncio.TimeoutError, msg='event published in realm2 leaked into realm1'):
            await asyncio.wait_for(got1.get(), 0.3)
        # positive control in realm1
        pub1 = await self.session(realm=REALM)
        await asyncio.wait_for(pub1.publish(topic, 'in realm1', options=ACK), T)
        self.assertEqual(await asyncio.wait_for(got1.get(), T), 'in realm1')
        with self.assertRaises(asyncio.TimeoutError, msg='event published in realm1 leaked into realm2'):
            await asyncio.wait_for(got2.get(), 0.3)
        self.assertIsNotNone(s1.id)
