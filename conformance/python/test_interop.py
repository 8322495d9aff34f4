"""JSON <-> MessagePack bridging: binary payloads survive the trip in both directions.

JSON carries bytes as "\\u0000" + base64 (WAMP binary convention); MessagePack carries them as bin.
Per-serializer variants: SER is the serializer of the caller/publisher; the peers use both.
"""

import asyncio

from autobahn.wamp.types import CallResult, PublishOptions

from harness import T, WampCases, each_serializer, uri

BLOB = bytes(range(256)) + b'\x00\xff' * 100
SMALL = b'\x00\x01binary\xfe'


def other(ser):
    return 'msgpack' if ser == 'json' else 'json'


@each_serializer
class InteropTests(WampCases):

    async def test_rpc_binary_across_serializers(self):
        for callee_ser in ('json', 'msgpack'):
            callee = await self.session(callee_ser)
            caller = await self.session(self.SER)
            proc = uri()
            seen = []

            def handler(blob, items, **kw):
                seen.append((blob, items, kw))
                return CallResult(blob[::-1], [blob, 'text'], back=kw["extra"], n=len(blob))

            await asyncio.wait_for(callee.register(handler, proc), T)
            res = await asyncio.wait_for(caller.call(proc, BLOB, [SMALL, "x", 1], extra=SMALL), T)
            where = '{} caller -> {} callee'.format(self.SER, callee_ser)
            self.assertEqual(len(seen), 1, where)
            blob, items, kw = seen[0]
            self.assertIsInstance(blob, bytes, where + ': callee got {!r} instead of bytes'.format(type(blob)))
            self.assertEqual(blob, BLOB, where)
            self.assertEqual(items, [SMALL, 'x', 1], where)
            self.assertEqual(kw, {"extra": SMALL}, where)
            self.assertEqual(list(res.results), [BLOB[::-1], [BLOB, 'text']], where + ' (result)')
            self.assertEqual(res.kwresults, {'back': SMALL, 'n': len(BLOB)}, where + ' (result)')
            self.assertIsInstance(res.results[0], bytes)

    async def test_error_binary_across_serializers(self):
        from autobahn.wamp.exception import ApplicationError
        callee = await self.session(other(self.SER))
        caller = await self.session(self.SER)
        proc = uri()

        def failing():
            raise ApplicationError('com.conformance.error.binary', SMALL, raw=BLOB)

        await asyncio.wait_for(callee.register(failing, proc), T)
        e = await self.assertAppError(caller.call(proc), 'com.conformance.error.binary')
        self.assertEqual(list(e.args), [SMALL])
        self.assertEqual(e.kwargs, {'raw': BLOB})

    async def test_events_binary_to_json_and_msgpack_subscribers(self):
        topic = uri()
        inboxes = {}
        for ser in ('json', 'msgpack'):
            s = await self.session(ser)
            q = asyncio.Queue()
            inboxes[ser] = q
            await asyncio.wait_for(s.subscribe(lambda *a, q=q, **k: q.put_nowait((a, k)), topic), T)
        pub = await self.session(self.SER)
        await asyncio.wait_for(pub.publish(topic, BLOB, {'inner': SMALL}, options=PublishOptions(acknowledge=True),
                                           raw=SMALL), T)
        for ser, q in inboxes.items():
            args, kwargs = await asyncio.wait_for(q.get(), T)
            where = '{} publisher -> {} subscriber'.format(self.SER, ser)
            self.assertEqual(len(args), 2, where)
            self.assertIsInstance(args[0], bytes, where)
            self.assertEqual(args[0], BLOB, where)
            self.assertEqual(args[1], {'inner': SMALL}, where)
            self.assertEqual(kwargs, {'raw': SMALL}, where)

    async def test_plain_values_across_serializers(self):
        # non-binary values must also survive conversion unchanged
        callee = await self.session(other(self.SER))
        caller = await self.session(self.SER)
        proc = uri()
        await asyncio.wait_for(callee.register(lambda *a, **k: CallResult(*a, **k), proc), T)
        args = [0, -1, 2 ** 53, -(2 ** 31), 1.5, 'ünïcödé', '', [], {}, [[[]]], True, False, None]
        kwargs = {'k': 'v', 'list': [1, 'a'], 'e': {}}
        res = await asyncio.wait_for(caller.call(proc, *args, **kwargs), T)
        self.assertEqual(list(res.results), args)
        self.assertEqual(res.kwresults, kwargs)
        for a, b in zip(res.results, args):
            self.assertIs(type(a), type(b), 'type changed: {!r} -> {!r}'.format(b, a))
