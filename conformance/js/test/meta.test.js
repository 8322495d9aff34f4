'use strict';
// WAMP meta API with Autobahn|JS 22.11.1 (reference §2.12, §2.19-2.22): wamp.session.* procedures (count, list,
// get, kill, kill_by_authid, kill_by_authrole, kill_all, add_testament, flush_testaments), wamp.registration.* and
// wamp.subscription.* procedures, remove_callee / remove_subscriber and how Autobahn|JS takes the revocation
// (it announces registration_revocation and subscription_revocation: the Registration / Subscription object
// becomes inactive and its on_unregister / on_unsubscribe promise resolves with the reason), the meta events,
// and testaments (a child Node process killed with SIGKILL, a GOODBYE, flush_testaments).
//
// kill_by_authrole and kill_all run in JUNCTION_REALM2 and count relative to the sessions listed just before
// (tests run one at a time, so only sessions other tests leaked can be there besides ours).
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const h = require('./helpers');

const T = { timeout: 30000 };
const QUIET_MS = 300; // how long we wait to be sure something does NOT arrive
const SESSION_KEYS = ['session', 'authid', 'authrole', 'authmethod', 'authprovider'];
const ISO8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const UNKNOWN_ID = 4242424242;

// A child process: joins, adds two testaments on argv[3], prints "ready <session id>", then waits for SIGKILL.
const TESTAMENT_CHILD = `
const h = require(process.argv[1]);
(async () => {
  const x = await h.connect(process.argv[2]);
  const topic = process.argv[3];
  await x.session.call('wamp.session.add_testament', [topic, ['first', 1], { n: 1 }]);
  await x.session.call('wamp.session.add_testament', [topic, ['second', 2], { n: 2, tags: ['x', 'y'] }]);
  console.log('ready ' + x.session.id);
  setInterval(() => {}, 1000);
})().catch((e) => { console.log('failed ' + h.describeErr(e)); process.exit(1); });
`;

// Events of any number of subscriptions, in arrival order, as {topic, args, kwargs}; topic is the event's
// (details.topic) or else the subscription's.
class Inbox {
  constructor() {
    this.events = [];
    this.waiters = [];
    this.handler = (args, kwargs, details, sub) => {
      this.events.push({ topic: details.topic || sub.topic, args, kwargs });
      for (const w of this.waiters.splice(0)) w();
    };
  }

  matching(pred) {
    return this.events.filter(pred);
  }

  // The first n events for which pred holds, once there are n.
  async wait(n, pred, what = 'events', timeoutMs = h.STEP_MS) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.matching(pred);
      if (got.length >= n) return got.slice(0, n);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`waited ${timeoutMs} ms for ${n} ${what}, got ${got.length}: ${JSON.stringify(got)}; all: ${JSON.stringify(this.events)}`);
      }
      await new Promise((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }
}

// pred: the event's first or second positional argument is one of ids, or a details dict whose session / id is.
function about(...ids) {
  const set = new Set(ids);
  return (e) => (e.args || []).slice(0, 2).some((a) => (a !== null && typeof a === 'object'
    ? set.has(a.session) || set.has(a.id) : set.has(a)));
}

const onTopic = (topic) => (e) => e.topic === topic;

async function call(handle, proc, args, kwargs, options) {
  return h.withTimeout(handle.session.call(proc, args, kwargs, options), h.STEP_MS, `call ${proc} ${JSON.stringify(args || [])}`);
}

async function watch(handle, topics, options) {
  const inbox = new Inbox();
  for (const t of topics) {
    await h.withTimeout(handle.session.subscribe(t, inbox.handler, options), h.STEP_MS, `subscribe ${t}`);
  }
  return inbox;
}

function welcomeDetails(handle) {
  const d = handle.details;
  return { session: handle.session.id, authid: d.authid, authrole: d.authrole, authmethod: d.authmethod, authprovider: d.authprovider };
}

function assertSessionDetails(got, expected) {
  assert.equal(typeof got, 'object', JSON.stringify(got));
  assert.deepEqual(Object.fromEntries(SESSION_KEYS.map((k) => [k, got[k]])), expected);
  const extra = Object.keys(got).filter((k) => !SESSION_KEYS.includes(k) && k !== 'transport');
  assert.deepEqual(extra, [], `unexpected session details keys ${extra}`);
}

function assertCreated(created) {
  assert.match(created, ISO8601);
  const age = Math.abs(Date.now() - Date.parse(created));
  assert.ok(age < 120000, `created ${created} is not about now`);
}

function closedWith(handle, what) {
  return h.withTimeout(handle.closed, h.STEP_MS, `${what}: session ${handle.session && handle.session.id} closing`);
}

for (const s of h.SERIALIZERS) {
  describe(`meta API over ${s.protocol}`, () => {
    // -- 1. session count / list / get ---------------------------------------------------------------------

    test('wamp.session.count / list with and without authrole filter, wamp.session.get, no_such_session', T, async () => {
      const a = await h.connect(s.name);
      const b = await h.connect(s.name);
      try {
        const ids = await call(a, 'wamp.session.list');
        assert.ok(Array.isArray(ids));
        assert.equal(new Set(ids).size, ids.length, `duplicates in ${ids}`);
        assert.ok(ids.includes(a.session.id) && ids.includes(b.session.id), `${ids} lacks our sessions`);
        for (const i of ids) assert.ok(h.isWampId(i), `session id ${i}`);
        assert.equal(await call(a, 'wamp.session.count'), ids.length);
        assert.deepEqual([...await call(a, 'wamp.session.list', [['anonymous']])].sort(), [...ids].sort());
        assert.equal(await call(a, 'wamp.session.count', [['anonymous']]), ids.length);
        assert.deepEqual(await call(a, 'wamp.session.list', [['nobody']]), []);
        assert.equal(await call(a, 'wamp.session.count', [['nobody']]), 0);
        assertSessionDetails(await call(a, 'wamp.session.get', [b.session.id]), welcomeDetails(b));
        assertSessionDetails(await call(b, 'wamp.session.get', [a.session.id]), welcomeDetails(a));
        assert.ok(!ids.includes(UNKNOWN_ID));
        await h.expectWampError(a.session.call('wamp.session.get', [UNKNOWN_ID]), 'wamp.error.no_such_session', 'get of an unknown id');
        const bid = b.session.id;
        await h.leave(b);
        await h.expectWampError(a.session.call('wamp.session.get', [bid]), 'wamp.error.no_such_session', 'get of a session that left');
        assert.ok(!(await call(a, 'wamp.session.list')).includes(bid));
        h.assertNoInternalErrors(assert, a, b);
      } finally {
        await h.closeAll(a, b);
      }
    });

    // -- 2. kill -------------------------------------------------------------------------------------------

    test('wamp.session.kill: the target is closed with the reason and message, on_leave, its registrations go', T, async () => {
      const killer = await h.connect(s.name);
      const watcher = await h.connect(s.name);
      const victim = await h.connect(s.name);
      try {
        const inbox = await watch(watcher, ['wamp.session.on_leave']);
        const proc = h.uniq('victim_proc');
        await h.withTimeout(victim.session.register(proc, () => 'alive'), h.STEP_MS, 'register');
        assert.equal(await call(killer, proc), 'alive');
        const vid = victim.session.id;
        const vd = welcomeDetails(victim);
        assert.equal(await call(killer, 'wamp.session.kill', [vid], { reason: 'com.example.go_away', message: 'maintenance' }) ?? null, null,
          'wamp.session.kill returns nothing');
        const info = await closedWith(victim, 'killed');
        assert.equal(info.reason, 'closed');
        assert.equal(info.details.reason, 'com.example.go_away');
        assert.equal(info.details.message, 'maintenance');
        assert.equal(victim.conn.isOpen, false);
        const [ev] = await inbox.wait(1, about(vid), 'on_leave of the victim');
        assert.deepEqual(ev, { topic: 'wamp.session.on_leave', args: [vid, vd.authid, vd.authrole], kwargs: {} });
        await h.expectWampError(killer.session.call(proc), 'wamp.error.no_such_procedure', 'call of the victim\'s procedure');
        await h.expectWampError(killer.session.call('wamp.session.get', [vid]), 'wamp.error.no_such_session', 'get of the victim');
        await h.expectWampError(killer.session.call('wamp.session.kill', [vid]), 'wamp.error.no_such_session', 'second kill');
        // own session; a bad reason
        await h.expectWampError(killer.session.call('wamp.session.kill', [killer.session.id]), 'wamp.error.no_such_session', 'kill of own session');
        await h.expectWampError(killer.session.call('wamp.session.kill', [watcher.session.id], { reason: 'not a uri' }), 'wamp.error.invalid_uri', 'kill with a bad reason');
        assert.equal(watcher.session.isOpen, true);
        h.assertNoInternalErrors(assert, killer, watcher, victim);
      } finally {
        await h.closeAll(killer, watcher, victim);
      }
    });

    test('wamp.session.kill without a reason: wamp.close.killed', T, async () => {
      const killer = await h.connect(s.name);
      const victim = await h.connect(s.name);
      try {
        await call(killer, 'wamp.session.kill', [victim.session.id]);
        const info = await closedWith(victim, 'killed');
        assert.equal(info.details.reason, 'wamp.close.killed');
        assert.equal(info.details.message, '');
        h.assertNoInternalErrors(assert, killer, victim);
      } finally {
        await h.closeAll(killer, victim);
      }
    });

    test('wamp.session.kill_by_authid: returns the killed ids, spares the caller', T, async () => {
      const killer = await h.connect(s.name);
      const victim = await h.connect(s.name);
      const bystander = await h.connect(s.name);
      try {
        assert.deepEqual(await call(killer, 'wamp.session.kill_by_authid', [killer.details.authid]), []);
        assert.deepEqual(await call(killer, 'wamp.session.kill_by_authid', ['no-such-authid']), []);
        const vid = victim.session.id;
        assert.deepEqual(await call(killer, 'wamp.session.kill_by_authid', [victim.details.authid], { message: 'by authid' }), [vid]);
        const info = await closedWith(victim, 'killed by authid');
        assert.deepEqual([info.details.reason, info.details.message], ['wamp.close.killed', 'by authid']);
        await h.sleep(QUIET_MS);
        assert.equal(bystander.session.isOpen, true);
        assert.equal(killer.session.isOpen, true);
        const ids = await call(killer, 'wamp.session.list');
        assert.ok(!ids.includes(vid));
        assert.ok(ids.includes(bystander.session.id) && ids.includes(killer.session.id));
        h.assertNoInternalErrors(assert, killer, victim, bystander);
      } finally {
        await h.closeAll(killer, victim, bystander);
      }
    });

    test('wamp.session.kill_by_authrole and kill_all (realm2): counts exclude the caller', T, async () => {
      const admin = await h.connect(s.name, { realm: h.REALM2 });
      const victims = [];
      try {
        for (let i = 0; i < 3; i++) victims.push(await h.connect(s.name, { realm: h.REALM2 }));
        const before = await call(admin, 'wamp.session.list');
        for (const v of [admin, ...victims]) assert.ok(before.includes(v.session.id));
        assert.equal(await call(admin, 'wamp.session.kill_by_authrole', ['nobody']), 0);
        assert.equal(await call(admin, 'wamp.session.kill_by_authrole', ['anonymous'], { reason: 'com.example.purge', message: 'role purge' }),
          before.length - 1);
        for (const v of victims) {
          const info = await closedWith(v, 'killed by authrole');
          assert.deepEqual([info.details.reason, info.details.message], ['com.example.purge', 'role purge']);
        }
        assert.deepEqual(await call(admin, 'wamp.session.list'), [admin.session.id]);
        assert.equal(await call(admin, 'wamp.session.count'), 1);
        const more = [];
        for (let i = 0; i < 2; i++) more.push(await h.connect(s.name, { realm: h.REALM2 }));
        victims.push(...more);
        assert.equal(await call(admin, 'wamp.session.kill_all'), 2);
        for (const v of more) assert.equal((await closedWith(v, 'killed by kill_all')).details.reason, 'wamp.close.killed');
        assert.equal(await call(admin, 'wamp.session.count'), 1);
        assert.equal(await call(admin, 'wamp.session.kill_all'), 0);
        h.assertNoInternalErrors(assert, admin, ...victims);
      } finally {
        await h.closeAll(admin, ...victims);
      }
    });

    // -- 3. on_join ----------------------------------------------------------------------------------------

    test('wamp.session.on_join carries the joiner\'s details; on_leave [session, authid, authrole]', T, async () => {
      const watcher = await h.connect(s.name);
      let joiner;
      try {
        const inbox = await watch(watcher, ['wamp.session.on_join', 'wamp.session.on_leave']);
        joiner = await h.connect(s.name);
        const id = joiner.session.id;
        const [ev] = await inbox.wait(1, about(id), 'on_join');
        assert.equal(ev.topic, 'wamp.session.on_join');
        assert.equal(ev.args.length, 1);
        assert.deepEqual(ev.kwargs, {});
        assertSessionDetails(ev.args[0], welcomeDetails(joiner));
        const d = welcomeDetails(joiner);
        await h.leave(joiner);
        const evs = await inbox.wait(2, about(id), 'on_leave');
        assert.deepEqual(evs[1], { topic: 'wamp.session.on_leave', args: [id, d.authid, d.authrole], kwargs: {} });
        h.assertNoInternalErrors(assert, watcher, joiner);
      } finally {
        await h.closeAll(watcher, joiner);
      }
    });

    // -- 4. registration meta API ----------------------------------------------------------------------------

    test('wamp.registration.list / lookup / match / get / list_callees / count_callees, no_such_registration', T, async () => {
      const callee = await h.connect(s.name);
      const callee2 = await h.connect(s.name);
      const admin = await h.connect(s.name);
      try {
        const b = h.uniq('reg');
        const exact = await callee.session.register(`${b}.x.y`, () => 'e', { invoke: 'roundrobin' });
        assert.equal((await callee2.session.register(`${b}.x.y`, () => 'e2', { invoke: 'roundrobin' })).id, exact.id);
        const prefix = await callee.session.register(`${b}.x`, () => 'p', { match: 'prefix' });
        const wild = await callee.session.register(`${b}..y`, () => 'w', { match: 'wildcard' });
        const listing = await call(admin, 'wamp.registration.list');
        assert.deepEqual(Object.keys(listing).sort(), ['exact', 'prefix', 'wildcard']);
        assert.ok(listing.exact.includes(exact.id) && !listing.prefix.includes(exact.id) && !listing.wildcard.includes(exact.id));
        assert.ok(listing.prefix.includes(prefix.id) && !listing.exact.includes(prefix.id));
        assert.ok(listing.wildcard.includes(wild.id) && !listing.exact.includes(wild.id));
        const lk = 'wamp.registration.lookup';
        assert.equal(await call(admin, lk, [`${b}.x.y`]), exact.id);
        assert.equal(await call(admin, lk, [`${b}.x`, { match: 'prefix' }]), prefix.id);
        assert.equal(await call(admin, lk, [`${b}..y`, { match: 'wildcard' }]), wild.id);
        assert.equal(await call(admin, lk, [`${b}.x`]), null);
        assert.equal(await call(admin, lk, [`${b}.x.y`, { match: 'wildcard' }]), null);
        const m = 'wamp.registration.match';
        assert.equal(await call(admin, m, [`${b}.x.y`]), exact.id);
        assert.equal(await call(admin, m, [`${b}.x.z`]), prefix.id);
        assert.equal(await call(admin, m, [`${b}.q.y`]), wild.id);
        assert.equal(await call(admin, m, [`${b}.q.z`]), null);
        const g = await call(admin, 'wamp.registration.get', [exact.id]);
        assert.deepEqual(Object.keys(g).sort(), ['created', 'id', 'invoke', 'match', 'uri']);
        assert.deepEqual([g.id, g.uri, g.match, g.invoke], [exact.id, `${b}.x.y`, 'exact', 'roundrobin']);
        assertCreated(g.created);
        const gp = await call(admin, 'wamp.registration.get', [prefix.id]);
        assert.deepEqual([gp.id, gp.uri, gp.match, gp.invoke], [prefix.id, `${b}.x`, 'prefix', 'single']);
        assert.deepEqual((await call(admin, 'wamp.registration.list_callees', [exact.id])).sort(),
          [callee.session.id, callee2.session.id].sort());
        assert.equal(await call(admin, 'wamp.registration.count_callees', [exact.id]), 2);
        await exact.unregister();
        assert.deepEqual(await call(admin, 'wamp.registration.list_callees', [exact.id]), [callee2.session.id]);
        assert.equal(await call(admin, 'wamp.registration.count_callees', [exact.id]), 1);
        for (const p of ['get', 'list_callees', 'count_callees']) {
          await h.expectWampError(admin.session.call(`wamp.registration.${p}`, [UNKNOWN_ID]), 'wamp.error.no_such_registration', p);
        }
        h.assertNoInternalErrors(assert, callee, callee2, admin);
      } finally {
        await h.closeAll(callee, callee2, admin);
      }
    });

    test('registration events: on_create, on_register x2, on_unregister x2, on_delete in order', T, async () => {
      const watcher = await h.connect(s.name);
      const c1 = await h.connect(s.name);
      const c2 = await h.connect(s.name);
      try {
        const inbox = await watch(watcher, ['wamp.registration.'], { match: 'prefix' });
        const proc = h.uniq('shared');
        const r1 = await c1.session.register(proc, () => 1, { invoke: 'random' });
        const r2 = await c2.session.register(proc, () => 2, { invoke: 'random' });
        assert.equal(r1.id, r2.id);
        const reg = r1.id;
        const c2id = c2.session.id;
        await r1.unregister();
        await h.leave(c2); // the last callee leaves: on_unregister, on_delete
        const evs = await inbox.wait(6, about(reg), 'registration meta events');
        await h.sleep(QUIET_MS);
        assert.equal(inbox.matching(about(reg)).length, 6);
        assert.equal(evs[0].topic, 'wamp.registration.on_create');
        assert.equal(evs[0].args[0], c1.session.id);
        const d = evs[0].args[1];
        assert.deepEqual([d.id, d.uri, d.match, d.invoke], [reg, proc, 'exact', 'random']);
        assertCreated(d.created);
        assert.deepEqual(evs.slice(1), [
          { topic: 'wamp.registration.on_register', args: [c1.session.id, reg], kwargs: {} },
          { topic: 'wamp.registration.on_register', args: [c2id, reg], kwargs: {} },
          { topic: 'wamp.registration.on_unregister', args: [c1.session.id, reg], kwargs: {} },
          { topic: 'wamp.registration.on_unregister', args: [c2id, reg], kwargs: {} },
          { topic: 'wamp.registration.on_delete', args: [c2id, reg], kwargs: {} },
        ]);
        h.assertNoInternalErrors(assert, watcher, c1, c2);
      } finally {
        await h.closeAll(watcher, c1, c2);
      }
    });

    // -- 5. subscription meta API ----------------------------------------------------------------------------

    test('wamp.subscription.list / lookup / match (a list) / get / list_subscribers / count_subscribers', T, async () => {
      const s1 = await h.connect(s.name);
      const s2 = await h.connect(s.name);
      const admin = await h.connect(s.name);
      try {
        const b = h.uniq('sub');
        const noop = () => {};
        const exact = await s1.session.subscribe(`${b}.x.y`, noop);
        assert.equal((await s2.session.subscribe(`${b}.x.y`, noop)).id, exact.id);
        const prefix = await s1.session.subscribe(`${b}.x`, noop, { match: 'prefix' });
        const wild = await s1.session.subscribe(`${b}..y`, noop, { match: 'wildcard' });
        const listing = await call(admin, 'wamp.subscription.list');
        assert.deepEqual(Object.keys(listing).sort(), ['exact', 'prefix', 'wildcard']);
        assert.ok(listing.exact.includes(exact.id) && !listing.prefix.includes(exact.id));
        assert.ok(listing.prefix.includes(prefix.id) && !listing.wildcard.includes(prefix.id));
        assert.ok(listing.wildcard.includes(wild.id) && !listing.exact.includes(wild.id));
        const lk = 'wamp.subscription.lookup';
        assert.equal(await call(admin, lk, [`${b}.x.y`]), exact.id);
        assert.equal(await call(admin, lk, [`${b}.x`, { match: 'prefix' }]), prefix.id);
        assert.equal(await call(admin, lk, [`${b}..y`, { match: 'wildcard' }]), wild.id);
        assert.equal(await call(admin, lk, [`${b}.x`]), null);
        const m = 'wamp.subscription.match';
        assert.deepEqual((await call(admin, m, [`${b}.x.y`])).sort(), [exact.id, prefix.id, wild.id].sort());
        assert.deepEqual(await call(admin, m, [`${b}.x.q`]), [prefix.id]);
        assert.deepEqual(await call(admin, m, [`${b}.q.y`]), [wild.id]);
        assert.equal(await call(admin, m, [`${b}.q.q`]), null);
        const g = await call(admin, 'wamp.subscription.get', [prefix.id]);
        assert.deepEqual(Object.keys(g).sort(), ['created', 'id', 'match', 'uri']);
        assert.deepEqual([g.id, g.uri, g.match], [prefix.id, `${b}.x`, 'prefix']);
        assertCreated(g.created);
        assert.deepEqual((await call(admin, 'wamp.subscription.list_subscribers', [exact.id])).sort(),
          [s1.session.id, s2.session.id].sort());
        assert.equal(await call(admin, 'wamp.subscription.count_subscribers', [exact.id]), 2);
        await exact.unsubscribe();
        assert.deepEqual(await call(admin, 'wamp.subscription.list_subscribers', [exact.id]), [s2.session.id]);
        assert.equal(await call(admin, 'wamp.subscription.count_subscribers', [exact.id]), 1);
        for (const p of ['get', 'list_subscribers', 'count_subscribers']) {
          await h.expectWampError(admin.session.call(`wamp.subscription.${p}`, [UNKNOWN_ID]), 'wamp.error.no_such_subscription', p);
        }
        h.assertNoInternalErrors(assert, s1, s2, admin);
      } finally {
        await h.closeAll(s1, s2, admin);
      }
    });

    test('subscription events: on_create, on_subscribe x2, on_unsubscribe x2, on_delete in order', T, async () => {
      const watcher = await h.connect(s.name);
      const s1 = await h.connect(s.name);
      const s2 = await h.connect(s.name);
      try {
        const inbox = await watch(watcher, ['wamp.subscription.on_create', 'wamp.subscription.on_subscribe',
          'wamp.subscription.on_unsubscribe', 'wamp.subscription.on_delete']);
        const topic = h.uniq('watched');
        const a = await s1.session.subscribe(topic, () => {}, { match: 'wildcard' });
        const b = await s2.session.subscribe(topic, () => {}, { match: 'wildcard' });
        assert.equal(a.id, b.id);
        const sub = a.id;
        await b.unsubscribe();
        await a.unsubscribe();
        const evs = await inbox.wait(6, about(sub), 'subscription meta events');
        await h.sleep(QUIET_MS);
        assert.equal(inbox.matching(about(sub)).length, 6);
        assert.equal(evs[0].topic, 'wamp.subscription.on_create');
        assert.equal(evs[0].args[0], s1.session.id);
        const d = evs[0].args[1];
        assert.deepEqual([d.id, d.uri, d.match], [sub, topic, 'wildcard']);
        assertCreated(d.created);
        const [i1, i2] = [s1.session.id, s2.session.id];
        assert.deepEqual(evs.slice(1), [
          { topic: 'wamp.subscription.on_subscribe', args: [i1, sub], kwargs: {} },
          { topic: 'wamp.subscription.on_subscribe', args: [i2, sub], kwargs: {} },
          { topic: 'wamp.subscription.on_unsubscribe', args: [i2, sub], kwargs: {} },
          { topic: 'wamp.subscription.on_unsubscribe', args: [i1, sub], kwargs: {} },
          { topic: 'wamp.subscription.on_delete', args: [i1, sub], kwargs: {} },
        ]);
        h.assertNoInternalErrors(assert, watcher, s1, s2);
      } finally {
        await h.closeAll(watcher, s1, s2);
      }
    });

    // -- 6. revocation ---------------------------------------------------------------------------------------

    test('remove_callee: Autobahn|JS gets the revocation, its registration becomes inactive, calls fail', T, async () => {
      const admin = await h.connect(s.name);
      const callee = await h.connect(s.name);
      const watcher = await h.connect(s.name);
      try {
        const inbox = await watch(watcher, ['wamp.registration.on_unregister', 'wamp.registration.on_delete']);
        const proc = h.uniq('revoked');
        const reg = await callee.session.register(proc, () => 'x');
        assert.equal(await call(admin, proc), 'x');
        const revoked = h.withTimeout(reg.on_unregister, h.STEP_MS, 'registration.on_unregister');
        assert.equal(await call(admin, 'wamp.registration.remove_callee', [reg.id, callee.session.id], { reason: 'com.example.revoked' }) ?? null,
          null, 'remove_callee returns nothing');
        assert.equal(await revoked, 'com.example.revoked');
        assert.equal(reg.active, false);
        assert.equal(callee.session.registrations.some((r) => r.id === reg.id), false);
        await h.expectWampError(admin.session.call(proc), 'wamp.error.no_such_procedure', 'call after revocation');
        await h.expectWampError(admin.session.call('wamp.registration.remove_callee', [reg.id, callee.session.id]),
          'wamp.error.no_such_registration', 'second remove_callee');
        const evs = await inbox.wait(2, about(reg.id), 'on_unregister, on_delete');
        assert.deepEqual(evs, [
          { topic: 'wamp.registration.on_unregister', args: [callee.session.id, reg.id], kwargs: {} },
          { topic: 'wamp.registration.on_delete', args: [callee.session.id, reg.id], kwargs: {} },
        ]);
        // without a reason: the promise resolves with none; the session stays usable
        const reg2 = await callee.session.register(proc, () => 'y');
        const revoked2 = h.withTimeout(reg2.on_unregister, h.STEP_MS, 'registration.on_unregister');
        await call(admin, 'wamp.registration.remove_callee', [reg2.id, callee.session.id]);
        assert.equal(await revoked2, undefined);
        assert.equal(reg2.active, false);
        assert.equal(callee.session.isOpen, true);
        const reg3 = await callee.session.register(proc, () => 'z');
        assert.equal(await call(admin, proc), 'z');
        assert.ok(reg3.active);
        h.assertNoInternalErrors(assert, admin, callee, watcher);
      } finally {
        await h.closeAll(admin, callee, watcher);
      }
    });

    test('remove_subscriber: Autobahn|JS gets the revocation, its subscription becomes inactive, no more events', T, async () => {
      const admin = await h.connect(s.name);
      const sub1 = await h.connect(s.name);
      const sub2 = await h.connect(s.name);
      try {
        const topic = h.uniq('revoked_topic');
        const c1 = h.collector();
        const c2 = h.collector();
        const a = await sub1.session.subscribe(topic, c1.handler);
        const b = await sub2.session.subscribe(topic, c2.handler);
        assert.equal(a.id, b.id);
        const revoked = h.withTimeout(a.on_unsubscribe, h.STEP_MS, 'subscription.on_unsubscribe');
        await call(admin, 'wamp.subscription.remove_subscriber', [a.id, sub1.session.id], { reason: 'com.example.unsubscribed' });
        assert.equal(await revoked, 'com.example.unsubscribed');
        assert.equal(a.active, false);
        assert.deepEqual(await call(admin, 'wamp.subscription.list_subscribers', [a.id]), [sub2.session.id]);
        await h.withTimeout(admin.session.publish(topic, ['after'], {}, { acknowledge: true }), h.STEP_MS, 'publish');
        assert.deepEqual((await c2.next(h.STEP_MS, 'event at the remaining subscriber')).args, ['after']);
        await h.sleep(QUIET_MS);
        assert.equal(c1.events.length, 0, 'the revoked subscriber still got an event');
        assert.equal(sub1.session.isOpen, true);
        await h.expectWampError(admin.session.call('wamp.subscription.remove_subscriber', [a.id, sub1.session.id]),
          'wamp.error.no_such_subscription', 'second remove_subscriber');
        h.assertNoInternalErrors(assert, admin, sub1, sub2);
      } finally {
        await h.closeAll(admin, sub1, sub2);
      }
    });

    // -- 7. testaments ---------------------------------------------------------------------------------------

    test('testaments of a process killed with SIGKILL are published in order, then on_leave', T, async () => {
      const watcher = await h.connect(s.name);
      const topic = h.uniq('testament');
      const child = spawn(process.execPath, ['-e', TESTAMENT_CHILD, path.join(__dirname, 'helpers.js'), s.name, topic],
        { stdio: ['ignore', 'pipe', 'pipe'] });
      try {
        const inbox = await watch(watcher, [topic, 'wamp.session.on_leave']);
        let out = '';
        let err = '';
        child.stderr.on('data', (d) => { err += d; });
        const line = await h.withTimeout(new Promise((resolve, reject) => {
          child.stdout.on('data', (d) => {
            out += d;
            if (out.includes('\n')) resolve(out.split('\n')[0]);
          });
          child.on('exit', (code) => reject(new Error(`child exited ${code}: ${out} ${err}`)));
        }), 20000, 'testament child getting ready');
        assert.match(line, /^ready \d+$/, `child said ${line}; stderr ${err}`);
        const sid = Number(line.split(' ')[1]);
        assert.deepEqual(inbox.matching(onTopic(topic)), [], 'testaments published while the session lives');
        const exited = new Promise((r) => child.on('exit', (code, signal) => r(signal)));
        child.kill('SIGKILL');
        assert.equal(await h.withTimeout(exited, h.STEP_MS, 'child exit'), 'SIGKILL');
        const evs = await inbox.wait(3, (e) => e.topic === topic || about(sid)(e), 'two testaments, then on_leave');
        assert.deepEqual(evs.slice(0, 2), [
          { topic, args: ['first', 1], kwargs: { n: 1 } },
          { topic, args: ['second', 2], kwargs: { n: 2, tags: ['x', 'y'] } },
        ]);
        assert.equal(evs[2].topic, 'wamp.session.on_leave');
        assert.equal(evs[2].args[0], sid);
        h.assertNoInternalErrors(assert, watcher);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await h.closeAll(watcher);
      }
    });

    test('testaments: GOODBYE publishes them (detached scope first), flush_testaments drops them, wamp.* refused', T, async () => {
      const watcher = await h.connect(s.name);
      const a = await h.connect(s.name);
      const b = await h.connect(s.name);
      try {
        const topic = h.uniq('testament');
        const inbox = await watch(watcher, [topic, 'wamp.session.on_leave']);
        const add = 'wamp.session.add_testament';
        const flush = 'wamp.session.flush_testaments';
        await call(a, add, [topic, ['d1'], { k: 1 }]);
        await call(a, add, [topic, ['x1'], {}], { scope: 'detached' });
        await call(a, add, [topic, ['d2'], {}], { scope: 'destroyed' });
        const aid = a.session.id;
        await h.leave(a);
        const evs = await inbox.wait(4, (e) => e.topic === topic || about(aid)(e), 'testaments of a, then on_leave');
        assert.deepEqual(evs.map((e) => [e.topic, e.args, e.kwargs]), [
          [topic, ['x1'], {}], [topic, ['d1'], { k: 1 }], [topic, ['d2'], {}],
          ['wamp.session.on_leave', [aid, a.details.authid, a.details.authrole], {}],
        ]);
        // flushed testaments are not published
        await call(b, add, [topic, ['never'], {}]);
        await call(b, add, [topic, ['never'], {}]);
        await call(b, add, [topic, ['never'], {}], { scope: 'detached' });
        assert.equal(await call(b, flush), 2);
        assert.equal(await call(b, flush, [], { scope: 'detached' }), 1);
        assert.equal(await call(b, flush), 0);
        for (const t of ['wamp.session.on_leave', 'wamp.anything']) {
          await h.expectWampError(b.session.call(add, [t, [], {}]), 'wamp.error.invalid_uri', `testament on ${t}`);
        }
        await h.expectWampError(b.session.call(add, [topic, [], {}], { scope: 'never' }), 'wamp.error.invalid_argument', 'bad scope');
        const bid = b.session.id;
        await h.leave(b);
        await inbox.wait(1, about(bid), 'on_leave of b');
        assert.deepEqual(inbox.matching((e) => e.topic === topic && e.args[0] === 'never'), []);
        h.assertNoInternalErrors(assert, watcher, a, b);
      } finally {
        await h.closeAll(watcher, a, b);
      }
    });

    // -- 8. realm isolation ----------------------------------------------------------------------------------

    test('meta procedures and events stay in their realm', T, async () => {
      const w1 = await h.connect(s.name);
      const w2 = await h.connect(s.name, { realm: h.REALM2 });
      let j1;
      let j2;
      try {
        const in1 = await watch(w1, ['wamp.session.on_join']);
        const in2 = await watch(w2, ['wamp.session.on_join']);
        j1 = await h.connect(s.name);
        await in1.wait(1, about(j1.session.id), 'on_join in realm1');
        const ids2 = await call(w2, 'wamp.session.list');
        assert.ok(!ids2.includes(j1.session.id) && !ids2.includes(w1.session.id));
        assert.ok(ids2.includes(w2.session.id));
        assert.equal(await call(w2, 'wamp.session.count'), ids2.length);
        await h.expectWampError(w2.session.call('wamp.session.get', [j1.session.id]), 'wamp.error.no_such_session', 'cross-realm get');
        await h.expectWampError(w2.session.call('wamp.session.kill', [j1.session.id]), 'wamp.error.no_such_session', 'cross-realm kill');
        j2 = await h.connect(s.name, { realm: h.REALM2 });
        await in2.wait(1, about(j2.session.id), 'on_join in realm2');
        await h.sleep(QUIET_MS);
        assert.deepEqual(in2.matching(about(j1.session.id)), [], 'a realm1 on_join reached realm2');
        assert.deepEqual(in1.matching(about(j2.session.id)), [], 'a realm2 on_join reached realm1');
        assert.equal(j1.session.isOpen, true);
        h.assertNoInternalErrors(assert, w1, w2, j1, j2);
      } finally {
        await h.closeAll(w1, w2, j1, j2);
      }
    });

    // -- 9. meta events by pattern ---------------------------------------------------------------------------

    test('a prefix subscription on wamp.session. gets on_join with details.topic', T, async () => {
      const watcher = await h.connect(s.name);
      let joiner;
      try {
        const inbox = await watch(watcher, ['wamp.session.'], { match: 'prefix' });
        joiner = await h.connect(s.name);
        const [ev] = await inbox.wait(1, about(joiner.session.id), 'on_join by prefix');
        assert.equal(ev.topic, 'wamp.session.on_join');
        assertSessionDetails(ev.args[0], welcomeDetails(joiner));
        h.assertNoInternalErrors(assert, watcher, joiner);
      } finally {
        await h.closeAll(watcher, joiner);
      }
    });
  });
}
