"""Batched WebSocket subprotocols: wamp.2.json.batched (0x1E, and Autobahn|Python's 0x18),
wamp.2.msgpack.batched and wamp.2.cbor.batched (4-byte length prefixes), with Autobahn|Python's
own batched serializers and with hand-built batches."""

import asyncio
import json
import struct

import cbor2
import msgpack
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer
from autobahn.wamp.types import PublishOptions

from harness import T, RawWebSocket, WampCases, connect, single, uri

HELLO = [1, 'realm1', {'roles': {'subscriber': {}, 'publisher': {}}}]


def batched(name):
    return {'json': JsonSerializer, 'msgpack': MsgPackSerializer, 'cbor': CBORSerializer}[name](batched=True)


@single
class BatchedTests(WampCases):

    async def test_autobahn_batched_clients_route_rpc_and_events(self):
        for a, b in (('json', 'json'), ('msgpack', 'msgpack'), ('cbor', 'cbor'), ('json', 'msgpack'),
                     ('cbor', 'json'), ('msgpack', 'cbor')):
            callee = await connect(serializers=[batched(a)])
            caller = await connect(serializers=[batched(b)])
            try:
                self.assertEqual(callee.ws.websocket_protocol_in_use, 'wamp.2.%s.batched' % a)
                proc, topic = uri(), uri()
                await callee.register(lambda x, y: [x + y, b'\x00\xff'], proc)
                self.assertEqual(await caller.call(proc, 2, 40), [42, b'\x00\xff'])
                got = asyncio.get_running_loop().create_future()
                await callee.subscribe(lambda p: got.done() or got.set_result(p), topic)
                await caller.publish(topic, b'\x01\x02', options=PublishOptions(acknowledge=True))
                self.assertEqual(await asyncio.wait_for(got, T), b'\x01\x02')
            finally:
                await callee.close()
                await caller.close()

    async def test_json_batch_with_both_separators_in_one_frame(self):
        ws = await RawWebSocket.open(protocols=('wamp.2.json.batched',))
        try:
            topic = uri()
            # HELLO, SUBSCRIBE and an acknowledged PUBLISH in one WebSocket message, separated by
            # the spec's 0x1E and by Autobahn|Python's 0x18.
            batch = (json.dumps(HELLO) + '\x1e' + json.dumps([32, 1, {}, topic]) + '\x18' +
                     json.dumps([16, 2, {'acknowledge': True}, topic]) + '\x1e')
            ws.send(batch.encode(), False)
            seen = []
            while len(seen) < 3:
                payload, _ = await ws.recv()
                self.assertTrue(payload.endswith(b'\x1e'), payload)
                seen += [json.loads(m) for m in payload.split(b'\x1e') if m]
            self.assertEqual([m[0] for m in seen], [2, 33, 17])
        finally:
            await ws.close()

    async def test_msgpack_batch_in_one_frame(self):
        ws = await RawWebSocket.open(protocols=('wamp.2.msgpack.batched',))
        try:
            msgs = [HELLO, [32, 1, {}, uri()]]
            frame = b''.join(struct.pack('>I', len(p)) + p for p in map(msgpack.packb, msgs))
            ws.send(frame, True)
            seen = []
            while len(seen) < 2:
                payload, _ = await ws.recv()
                while payload:
                    (n,) = struct.unpack('>I', payload[:4])
                    seen.append(msgpack.unpackb(payload[4:4 + n]))
                    payload = payload[4 + n:]
            self.assertEqual([m[0] for m in seen], [2, 33])
        finally:
            await ws.close()

    async def test_cbor_batch_in_one_frame(self):
        ws = await RawWebSocket.open(protocols=('wamp.2.cbor.batched',))
        try:
            self.assertEqual(ws.protocol_in_use, 'wamp.2.cbor.batched')
            msgs = [HELLO, [32, 1, {}, uri()]]
            frame = b''.join(struct.pack('>I', len(p)) + p for p in map(cbor2.dumps, msgs))
            ws.send(frame, True)
            seen = []
            while len(seen) < 2:
                payload, binary = await ws.recv()
                self.assertTrue(binary)
                while payload:
                    (n,) = struct.unpack('>I', payload[:4])
                    seen.append(cbor2.loads(payload[4:4 + n]))
                    payload = payload[4 + n:]
            self.assertEqual([m[0] for m in seen], [2, 33])
        finally:
            await ws.close()

    async def test_truncated_msgpack_batch_is_a_protocol_violation(self):
        ws = await RawWebSocket.open(protocols=('wamp.2.msgpack.batched',))
        try:
            hello = msgpack.packb(HELLO)
            ws.send(struct.pack('>I', len(hello)) + hello + struct.pack('>I', 50) + b'abc', True)
            abort = None
            while abort is None:
                payload, _ = await ws.recv()
                while payload:
                    (n,) = struct.unpack('>I', payload[:4])
                    m = msgpack.unpackb(payload[4:4 + n])
                    payload = payload[4 + n:]
                    if m[0] == 3:
                        abort = m
            self.assertEqual(abort[2], 'wamp.error.protocol_violation')
            self.assertIn('50 bytes but only 3 follow', abort[1]['message'])
            await ws.wait_closed()
        finally:
            await ws.close()
