"""Bad input: every row of conformance/malformed_frames.json, sent over a raw WebSocket, and again as a
RawSocket message frame over TCP (MalformedTests_rs) and over the Unix socket (MalformedTests_unix).

For each row: two bystander sessions join (a JSON callee with a procedure, a MessagePack caller), the
offending connection sends the row's frame, and the router must
  1. answer with ABORT [3, {"message": ...}, "wamp.error.protocol_violation"] in the connection's serializer,
     the message containing the row's expected substring (case-insensitive),
  2. then close that connection,
  3. while the bystanders stay joined and can still call each other.
"""

import asyncio
import json
import os

from harness import (ABORT, CONFORMANCE_DIR, HELLO, PLAIN_TRANSPORTS, REALM, SUBSCRIBE, SUBSCRIBED, T,
                     TransportClosed, WampCases, each_transport, uri)

CLOSE_WAIT = min(T, 2.0)
TABLE_PATH = os.path.join(CONFORMANCE_DIR, 'malformed_frames.json')
with open(TABLE_PATH, encoding='utf-8') as f:
    TABLE = json.load(f)['cases']


def frame_of(row):
    if row['serializer'] == 'json':
        return row['frame'].encode('utf-8'), False
    return bytes.fromhex(row['frame_hex']), True


class MalformedBase(WampCases):

    async def _bystanders(self):
        callee = await self.session('json')
        caller = await self.session('msgpack')
        proc = uri('com.conformance.bystander')
        await asyncio.wait_for(callee.register(lambda x: ['echo', x], proc), T)
        return callee, caller, proc

    async def _check_bystanders(self, callee, caller, proc):
        for s in (callee, caller):
            self.assertFalse(s.left.done(), 'a bystander session was ended: {!r}'.format(
                s.left.result() if s.left.done() and not s.left.exception() else s.left))
        res = await asyncio.wait_for(caller.call(proc, 'ping'), T)
        self.assertEqual(res, ['echo', 'ping'])

    async def _expect_abort(self, r, row_name, expect_reason, expect_message):
        try:
            msg = await r.recv()
        except TransportClosed:
            self.fail('{}: router closed the connection without ABORT (close frame {})'.format(
                row_name, r.ws.close_frame))
        except asyncio.TimeoutError:
            self.fail('{}: no reaction from the router within {}s'.format(row_name, T))
        self.assertIsInstance(msg, list, '{}: reply {!r}'.format(row_name, msg))
        self.assertTrue(msg and msg[0] == ABORT, '{}: expected ABORT, got {!r}'.format(row_name, msg))
        self.assertGreaterEqual(len(msg), 3, msg)
        details, reason = msg[1], msg[2]
        self.assertIsInstance(details, dict, msg)
        self.assertEqual(reason, expect_reason, '{}: ABORT {!r}'.format(row_name, msg))
        text = details.get('message')
        self.assertIsInstance(text, str, '{}: ABORT.Details.message missing: {!r}'.format(row_name, msg))
        self.assertIn(expect_message.lower(), text.lower(),
                      '{}: ABORT message {!r} does not mention {!r}'.format(row_name, text, expect_message))
        # then the router closes the connection (no further messages)
        try:
            extra = await r.recv(CLOSE_WAIT)
            self.fail('{}: router sent {!r} after ABORT'.format(row_name, extra))
        except TransportClosed:
            pass
        except asyncio.TimeoutError:
            self.fail('{}: router did not close the connection within {}s after ABORT'.format(row_name, CLOSE_WAIT))
        return msg


def _make_row_test(row):
    async def test(self):
        callee, caller, proc = await self._bystanders()
        r = await self.raw(row['serializer'], join=False)
        if row.get('hello_first'):
            await r.hello(REALM)
        payload, binary = frame_of(row)
        r.ws.send(payload, binary)
        await self._expect_abort(r, row['name'], row['expect_reason'], row['expect_message'])
        await self._check_bystanders(callee, caller, proc)
    test.__name__ = 'test_' + row['name']
    test.__doc__ = None
    return test


class MalformedTests(MalformedBase):

    async def test_registrations_disposed_after_violation(self):
        for ser in ('json', 'msgpack', 'cbor'):
            bystander = await self.session(ser)
            bad = await self.raw(ser)
            proc, topic = uri(), uri()
            await bad.register(proc)
            await bad.subscribe(topic)
            bad.send([])
            await self._expect_abort(bad, 'empty array after REGISTER (' + ser + ')',
                                     'wamp.error.protocol_violation', 'empty')
            await self.assertAppError(bystander.call(proc), 'wamp.error.no_such_procedure')
            await asyncio.wait_for(bystander.register(lambda: 'mine now', proc), T)
            self.assertEqual(await asyncio.wait_for(bystander.call(proc), T), 'mine now')

    async def test_violation_aborts_pending_call_of_offender_only(self):
        # a callee that violates the protocol while a call to it is outstanding: the caller gets canceled
        caller = await self.session('msgpack')
        bad = await self.raw('json')
        proc = uri()
        await bad.register(proc)
        fut = asyncio.ensure_future(caller.call(proc, 1))
        inv = await bad.expect(68)
        self.assertEqual(inv[4], [1])
        bad.send([7, 0, 0])
        await self._expect_abort(bad, 'code 7 with pending invocation', 'wamp.error.protocol_violation',
                                 'unknown message type 7')
        await self.assertAppError(fut, 'wamp.error.canceled')

    async def test_two_bad_clients_at_once(self):
        callee, caller, proc = await self._bystanders()
        bads = [await self.raw(ser, join=False) for ser in ('json', 'msgpack', 'cbor') for _ in range(4)]
        for b in bads:
            payload = {'json': b'[]', 'msgpack': b'\x90', 'cbor': b'\x80'}[b.ser]
            b.ws.send(payload, b.ser != 'json')
        for b in bads:
            await self._expect_abort(b, 'concurrent empty array', 'wamp.error.protocol_violation', 'empty')
        await self._check_bystanders(callee, caller, proc)

    async def test_valid_hello_still_works_after_violations(self):
        # sanity: a fresh connection after all the abuse joins fine
        r = await self.raw('json', join=False)
        r.send([HELLO, REALM, {'roles': {'subscriber': {}}}])
        w = await r.expect(2)
        self.assertIdRange(w[1])
        r.send([SUBSCRIBE, 1, {}, uri()])
        await r.expect(SUBSCRIBED)

    async def test_table_is_well_formed(self):
        names = set()
        for row in TABLE:
            self.assertIn(row['serializer'], ('json', 'msgpack', 'cbor'), row)
            self.assertNotIn(row['name'], names)
            names.add(row['name'])
            self.assertTrue(row['expect_reason'] and row['expect_message'], row)
            frame_of(row)


for _row in TABLE:
    setattr(MalformedTests, 'test_' + _row['name'], _make_row_test(_row))

# Plain transports only (the table runs over wss / rss too, RawWamp speaks TLS, but it doubles the run time
# for no parser coverage: TLS is below the framing).
MalformedTests = each_transport(MalformedTests, transports=PLAIN_TRANSPORTS)
