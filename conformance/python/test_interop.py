"""JSON <-> MessagePack <-> CBOR bridging: payloads survive the trip between every pair of serializers.

JSON carries bytes as "\\u0000" + base64 (WAMP binary convention); MessagePack carries them as bin, CBOR as
byte strings. InteropTests runs per transport x serializer: SER is the serializer of the caller/publisher;
the peers use every serializer, over the same transport. CrossTransportTests puts the two peers on
different transports (a JSON WebSocket client and a MessagePack RawSocket client, CBOR on either side, and
more pairs) in one realm.
"""

import asyncio
import base64

from autobahn.wamp.types import CallResult, PublishOptions

from harness import (CALL, EVENT, INVOCATION, PUBLISH, PUBLISHED, RESULT, SERIALIZERS, YIELD, T, WampCases,
                     each_transport_and_serializer, make_case, uri)

BLOB = bytes(range(256)) + b'\x00\xff' * 100
SMALL = b'\x00\x01binary\xfe'


def others(ser):
    return [s for s in SERIALIZERS if s != ser]


@each_transport_and_serializer
class InteropTests(WampCases):

    async def test_rpc_binary_across_serializers(self):
        for callee_ser in SERIALIZERS:
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
        for callee_ser in others(self.SER):
            callee = await self.session(callee_ser)
            caller = await self.session(self.SER)
            proc = uri()

            def failing():
                raise ApplicationError('com.conformance.error.binary', SMALL, raw=BLOB)

            await asyncio.wait_for(callee.register(failing, proc), T)
            e = await self.assertAppError(caller.call(proc), 'com.conformance.error.binary')
            self.assertEqual(list(e.args), [SMALL], callee_ser)
            self.assertEqual(e.kwargs, {'raw': BLOB}, callee_ser)

    async def test_events_binary_to_subscribers_of_every_serializer(self):
        topic = uri()
        inboxes = {}
        for ser in SERIALIZERS:
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
        # non-binary values must also survive conversion unchanged: unicode, integers to the edges of
        # 64 bits (beyond 2^53 JSON carries them as exact integer literals), floats, nested maps
        args = [0, -1, 2 ** 53, 2 ** 53 + 1, 2 ** 63, 2 ** 64 - 1, -(2 ** 31), -(2 ** 63), 1.5, -0.25, 1.0,
                'ünïcödé 中文 😀', '', [], {}, [[[]]], True, False, None]
        kwargs = {'k': 'v', 'list': [1, 'a'], 'e': {}, 'ключ': {'nested': {'deeper': [{'x': 2 ** 60}]}}}
        for callee_ser in others(self.SER):
            callee = await self.session(callee_ser)
            caller = await self.session(self.SER)
            proc = uri()
            await asyncio.wait_for(callee.register(lambda *a, **k: CallResult(*a, **k), proc), T)
            where = '{} caller -> {} callee'.format(self.SER, callee_ser)
            res = await asyncio.wait_for(caller.call(proc, *args, **kwargs), T)
            self.assertEqual(list(res.results), args, where)
            self.assertEqual(res.kwresults, kwargs, where)
            for a, b in zip(res.results, args):
                self.assertIs(type(a), type(b), '{}: type changed: {!r} -> {!r}'.format(where, b, a))


def json_bytes(b):
    """How JSON carries bytes: a string of NUL + base64."""
    return '\0' + base64.b64encode(b).decode('ascii')


def wire_bytes(ser, b):
    return json_bytes(b) if ser == 'json' else b  # MessagePack bin, CBOR byte string


class CrossTransportTests(WampCases):
    """Peer A and peer B, each (transport, serializer), in one realm of one router."""

    A = ('ws', 'json')
    B = ('rs', 'msgpack')

    def _where(self):
        return '{}/{} <-> {}/{}'.format(*self.A, *self.B)

    async def _pair(self):
        a = await self.session(self.A[1], transport=self.A[0])
        b = await self.session(self.B[1], transport=self.B[0])
        self.assertEqual(a.serializer_id, self.A[1])
        self.assertEqual(b.serializer_id, self.B[1])
        return a, b

    async def test_call_each_other_with_bytes(self):
        a, b = await self._pair()
        for callee, caller, what in ((a, b, 'B calls A'), (b, a, 'A calls B')):
            proc = uri()
            seen = []

            def handler(blob, **kw):
                seen.append((blob, kw))
                return CallResult(blob[::-1], [blob], tag=kw.get('tag'))

            await asyncio.wait_for(callee.register(handler, proc), T)
            res = await asyncio.wait_for(caller.call(proc, BLOB, tag=SMALL), T)
            where = '{} ({})'.format(what, self._where())
            self.assertEqual(len(seen), 1, where)
            self.assertIsInstance(seen[0][0], bytes, where)
            self.assertEqual(seen[0], (BLOB, {'tag': SMALL}), where)
            self.assertEqual(list(res.results), [BLOB[::-1], [BLOB]], where)
            self.assertIsInstance(res.results[0], bytes, where)
            self.assertEqual(res.kwresults, {'tag': SMALL}, where)

    async def test_events_with_bytes_both_ways(self):
        a, b = await self._pair()
        for sub, pub, what in ((a, b, 'B publishes to A'), (b, a, 'A publishes to B')):
            topic = uri()
            got = asyncio.Queue()
            await asyncio.wait_for(sub.subscribe(lambda *args, **kw: got.put_nowait((args, kw)), topic), T)
            publication = await asyncio.wait_for(
                pub.publish(topic, BLOB, [SMALL], options=PublishOptions(acknowledge=True), raw=SMALL), T)
            args, kwargs = await asyncio.wait_for(got.get(), T)
            where = '{} ({})'.format(what, self._where())
            self.assertIsNotNone(publication, where)
            self.assertIsInstance(args[0], bytes, where)
            self.assertEqual(list(args), [BLOB, [SMALL]], where)
            self.assertEqual(kwargs, {'raw': SMALL}, where)

    async def test_error_with_bytes(self):
        from autobahn.wamp.exception import ApplicationError
        a, b = await self._pair()
        proc = uri()

        def failing():
            raise ApplicationError('com.conformance.error.binary', SMALL, raw=BLOB)

        await asyncio.wait_for(b.register(failing, proc), T)
        e = await self.assertAppError(a.call(proc), 'com.conformance.error.binary')
        self.assertEqual(list(e.args), [SMALL])
        self.assertEqual(e.kwargs, {'raw': BLOB})

    async def test_raw_wire_encoding(self):
        # byte level: each side sees bytes in its own serializer's form (JSON "\u0000"+base64, MessagePack bin)
        (ta, sa), (tb, sb) = self.A, self.B
        a = await self.raw(sa, transport=ta)
        b = await self.raw(sb, transport=tb)
        proc, topic = uri(), uri()
        await b.register(proc)
        a.send([CALL, 1, {}, proc, [wire_bytes(sa, SMALL)], {'k': wire_bytes(sa, BLOB)}])
        inv = await b.expect(INVOCATION)
        self.assertEqual(inv[4:], [[wire_bytes(sb, SMALL)], {'k': wire_bytes(sb, BLOB)}], self._where())
        b.send([YIELD, inv[1], {}, [wire_bytes(sb, BLOB)]])
        res = await a.expect(RESULT)
        self.assertEqual(res[1], 1)
        self.assertEqual(res[3:], [[wire_bytes(sa, BLOB)]], self._where())
        await a.subscribe(topic)
        b.send([PUBLISH, 1, {'acknowledge': True}, topic, [wire_bytes(sb, SMALL)]])
        await b.expect(PUBLISHED)
        ev = await a.expect(EVENT)
        self.assertEqual(ev[4:], [[wire_bytes(sa, SMALL)]], self._where())


# the pairs: the one the issue asks for (JSON WebSocket <-> MessagePack RawSocket) on TCP and on the Unix
# socket, the serializers the other way round, and RawSocket TCP <-> RawSocket Unix
CROSS_PAIRS = [
    (('ws', 'json'), ('rs', 'msgpack')),
    (('ws', 'json'), ('unix', 'msgpack')),
    (('ws', 'msgpack'), ('rs', 'json')),
    (('rs', 'json'), ('unix', 'msgpack')),
    (('ws', 'cbor'), ('rs', 'json')),
    (('ws', 'json'), ('rs', 'cbor')),
    (('ws', 'msgpack'), ('rs', 'cbor')),
    (('rs', 'cbor'), ('unix', 'msgpack')),
]
for _a, _b in CROSS_PAIRS:
    _name = 'CrossTransportTests_{}_{}__{}_{}'.format(*_a, *_b)
    globals()[_name] = make_case(CrossTransportTests, _name, {'A': _a, 'B': _b})
