"""Payload pass-through (docs/PERFORMANCE.md, "Payload pass-through"): between two clients of the same
serializer, Arguments and ArgumentsKw travel as the bytes the sender wrote, never decoded and re-encoded
(a JSON 1E2 stays 1E2, an escaped \\u00e9 stays escaped, a MessagePack float32 stays float32); towards a
client of another serializer they are transcoded (Autobahn|Python sees the values)."""

import asyncio
import json
import struct

from harness import CALL, EVENT, PUBLISH, RESULT, YIELD, T, RawWamp, WampCases, connect, single, uri

import msgpack


@single
class PayloadPassThrough(WampCases):

    async def test_json_call_and_result_bytes_arrive_as_written(self):
        callee = await RawWamp.joined('json')
        caller = await RawWamp.joined('json')
        try:
            proc = uri()
            await callee.register(proc)
            args = '[1E2, "\\u00e9", {"z": 1, "a": 2.50}] , {"k": -0.0}'
            caller.ws.send('[{}, 7, {{}}, "{}", {}]'.format(CALL, proc, args).encode(), False)
            payload, _ = await callee.ws.recv()
            self.assertIn(args.encode(), payload)  # spliced, spacing and spelling included
            request = json.loads(payload)[1]
            callee.ws.send('[{}, {}, {{}}, [2E1, "\\u00e8"]]'.format(YIELD, request).encode(), False)
            payload, _ = await caller.ws.recv()
            self.assertTrue(payload.startswith(b'[%d,7,{},' % RESULT), payload)
            self.assertIn(b'[2E1, "\\u00e8"]', payload)
        finally:
            await callee.close()
            await caller.close()

    async def test_json_payload_is_transcoded_for_a_msgpack_callee(self):
        proc = uri()
        got = []
        callee = await connect('msgpack')
        caller = await RawWamp.joined('json')
        try:
            def echo(*args, **kwargs):
                got.append((args, kwargs))
                return list(args)
            await callee.register(echo, proc)
            caller.send([CALL, 8, {}, proc, [], {}])  # empty payload: dropped on the way
            r = await caller.expect(RESULT)
            caller.ws.send('[{}, 9, {{}}, "{}", [1E2, "\\u00e9", true], {{"k": [1]}}]'.format(CALL, proc).encode(), False)
            r = await caller.expect(RESULT)
            self.assertEqual(got[0], ((), {}))
            self.assertEqual(got[1], ((100.0, 'é', True), {'k': [1]}))
            self.assertEqual(r[1], 9)
            self.assertEqual(r[3], [[100.0, 'é', True]])  # Autobahn returns the list as one value
        finally:
            await callee.close()
            await caller.close()

    async def test_json_event_bytes_arrive_as_published_and_transcoded_elsewhere(self):
        topic = uri()
        raw_sub = await RawWamp.joined('json')
        ab_sub = await connect('cbor')
        pub = await RawWamp.joined('json')
        try:
            await raw_sub.subscribe(topic)
            got = asyncio.get_running_loop().create_future()
            await ab_sub.subscribe(lambda *a, **kw: got.done() or got.set_result((a, kw)), topic)
            pub.ws.send('[{}, 1, {{}}, "{}", [0.1E1,"x"],{{"n":null}}]'.format(PUBLISH, topic).encode(), False)
            payload, _ = await raw_sub.ws.recv()
            self.assertTrue(payload.startswith(b'[%d,' % EVENT), payload)
            self.assertTrue(payload.endswith(b'[0.1E1,"x"],{"n":null}]'), payload)
            self.assertEqual(await asyncio.wait_for(got, T), ((1.0, 'x'), {'n': None}))
        finally:
            await raw_sub.close()
            await ab_sub.close()
            await pub.close()

    async def test_msgpack_float32_stays_float32(self):
        # A decode and re-encode would widen it to float64 (0xcb): passed through, it stays 0xca.
        proc = uri()
        callee = await RawWamp.joined('msgpack')
        caller = await RawWamp.joined('msgpack')
        try:
            await callee.register(proc)
            f32 = b'\xca' + struct.pack('>f', 1.5)
            head = msgpack.packb([CALL, 3, {}, proc])  # fixarray of 4: one more element, args [f32]
            caller.ws.send(b'\x95' + head[1:] + b'\x91' + f32, True)
            payload, binary = await callee.ws.recv()
            self.assertTrue(binary)
            self.assertTrue(payload.endswith(b'\x91' + f32), payload)
            request = msgpack.unpackb(payload)[1]
            head = msgpack.packb([YIELD, request, {}])
            callee.ws.send(b'\x94' + head[1:] + b'\x91' + f32, True)
            payload, _ = await caller.ws.recv()
            self.assertEqual(msgpack.unpackb(payload)[:2], [RESULT, 3])
            self.assertTrue(payload.endswith(b'\x91' + f32), payload)
        finally:
            await callee.close()
            await caller.close()
