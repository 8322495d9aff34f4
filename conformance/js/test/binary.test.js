'use strict';
// Binary payloads between JSON clients ("\u0000" + base64 strings) and msgpack
// clients (bin type), both ways, through RPC and PubSub.
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');
const { autobahn } = h;

const T = { timeout: 30000 };

const ALL = Buffer.from(Array.from({ length: 256 }, (_, i) => i)); // every byte value, starts with 0x00
const SMALL = Buffer.from([0xff, 0x00, 0xfe]);
const EMPTY = Buffer.alloc(0);
const LARGE = Buffer.from(Array.from({ length: 70000 }, (_, i) => (i * 31 + 7) & 0xff)); // > 64 KiB
const U8 = new Uint8Array([1, 2, 3, 250]); // a plain Uint8Array, not a Buffer

function assertBytes(actual, expected, what) {
  if (!(actual instanceof Uint8Array)) {
    const j = JSON.stringify(actual) || String(actual);
    assert.fail(`${what}: expected bytes, got ${typeof actual} ${j.length > 100 ? j.slice(0, 100) + '...' : j}`);
  }
  assert.equal(actual.length, expected.length, `${what}: length`);
  assert.ok(Buffer.from(actual).equals(Buffer.from(expected)), `${what}: bytes differ`);
}

function checkPayload(args, kwargs, where) {
  assertBytes(args[0], ALL, `${where} args[0]`);
  assertBytes(args[1], EMPTY, `${where} args[1] (empty)`);
  assertBytes(args[2], U8, `${where} args[2] (Uint8Array)`);
  assert.equal(args[3], 'plain string', `${where} args[3] must stay a string`);
  assertBytes(kwargs.blob, SMALL, `${where} kwargs.blob`);
  assertBytes(kwargs.nested.list[0], LARGE, `${where} kwargs.nested.list[0] (70000 bytes)`);
  assert.equal(kwargs.nested.list[1], 7, `${where} kwargs.nested.list[1]`);
}

const ARGS = () => [ALL, EMPTY, U8, 'plain string'];
const KWARGS = () => ({ blob: SMALL, nested: { list: [LARGE, 7] } });

for (const from of h.SERIALIZERS) {
  for (const to of h.SERIALIZERS) {
    describe(`binary ${from.name} -> ${to.name}`, () => {
      test(`rpc: ${from.name} caller and ${to.name} callee exchange bytes intact both ways`, T, async () => {
        const callee = await h.connect(to.name);
        const caller = await h.connect(from.name);
        try {
          const proc = h.uniq('bytes');
          let calleeErr = null;
          await h.withTimeout(callee.session.register(proc, (args, kwargs) => {
            try {
              checkPayload(args, kwargs, `INVOCATION at ${to.name} callee`);
            } catch (e) {
              calleeErr = e;
            }
            const rev = Buffer.from(ALL).reverse();
            return new autobahn.Result([rev, EMPTY, U8, 'plain string'], { blob: SMALL, nested: { list: [LARGE, 7] }, rev });
          }), h.STEP_MS, `register ${proc}`);
          const res = await h.withTimeout(caller.session.call(proc, ARGS(), KWARGS()), 10000, `call ${proc}`);
          if (calleeErr) throw calleeErr;
          assert.ok(res instanceof autobahn.Result, `expected autobahn.Result, got ${typeof res}`);
          const rev = Buffer.from(ALL).reverse();
          assertBytes(res.args[0], rev, `RESULT at ${from.name} caller args[0]`);
          assertBytes(res.args[1], EMPTY, `RESULT at ${from.name} caller args[1]`);
          assertBytes(res.args[2], U8, `RESULT at ${from.name} caller args[2]`);
          assert.equal(res.args[3], 'plain string');
          assertBytes(res.kwargs.blob, SMALL, `RESULT at ${from.name} caller kwargs.blob`);
          assertBytes(res.kwargs.nested.list[0], LARGE, `RESULT at ${from.name} caller kwargs.nested.list[0]`);
          assertBytes(res.kwargs.rev, rev, `RESULT at ${from.name} caller kwargs.rev`);

          // bytes inside a callee ERROR too
          const perr = h.uniq('bytes_error');
          await h.withTimeout(callee.session.register(perr, () => {
            throw new autobahn.Error('com.example.error.binary', [SMALL], { blob: ALL });
          }), h.STEP_MS, `register ${perr}`);
          const e = await h.expectWampError(caller.session.call(perr), 'com.example.error.binary', `call ${perr}`);
          assertBytes(e.args[0], SMALL, `ERROR at ${from.name} caller args[0]`);
          assertBytes(e.kwargs.blob, ALL, `ERROR at ${from.name} caller kwargs.blob`);
          h.assertNoInternalErrors(assert, callee, caller);
        } finally {
          await h.closeAll(callee, caller);
        }
      });

      test(`pubsub: ${from.name} publisher to ${to.name} subscriber keeps bytes intact`, T, async () => {
        const sub = await h.connect(to.name);
        const pub = await h.connect(from.name);
        try {
          const topic = h.uniq('bytes_topic');
          const c = h.collector();
          await h.withTimeout(sub.session.subscribe(topic, c.handler), h.STEP_MS, 'subscribe');
          await h.withTimeout(pub.session.publish(topic, ARGS(), KWARGS(), { acknowledge: true }), h.STEP_MS, 'publish');
          const ev = await c.next(10000, `EVENT at ${to.name} subscriber`);
          checkPayload(ev.args, ev.kwargs, `EVENT at ${to.name} subscriber`);
          h.assertNoInternalErrors(assert, sub, pub);
        } finally {
          await h.closeAll(sub, pub);
        }
      });
    });
  }
}
