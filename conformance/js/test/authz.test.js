'use strict';
// Authorization with Autobahn|JS (issue 14): principals of two static roles allowed and denied
// call, register, subscribe and publish on exact, prefix and wildcard rules; a denied PUBLISH with
// acknowledge; an anonymous session that may not call wamp.session.kill. A router of this file's
// own (helpers.startRouter), its principals logging in with tickets.
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const T = { timeout: 30000 };
let router;

before(async () => {
  router = await h.startRouter({
    auth_throttle: { failures: 1000 },
    realms: [{
      name: 'app',
      auth: {
        anonymous: {},
        ticket: { principals: { alice: { role: 'frontend', ticket: 'a' }, bob: { role: 'backend', ticket: 'b' } } },
      },
      roles: [
        { name: 'frontend', permissions: [
          { uri: 'com.app.', match: 'prefix', allow: { call: true, subscribe: true } },
          { uri: 'com.app.private', match: 'exact', allow: {} },
          { uri: 'com.feed..news', match: 'wildcard', allow: { publish: true, subscribe: true } },
        ] },
        { name: 'backend', permissions: [
          { uri: 'com.app.', match: 'prefix', allow: { register: true, publish: true } },
        ] },
        { name: 'anonymous', permissions: [
          { uri: 'wamp.session.count', match: 'exact', allow: { call: true } },
        ] },
      ],
    }],
  });
});

after(() => { if (router) router.stop(); });

function as(name, ser, ticket) {
  return h.connect(ser, { url: router.url, realm: 'app', authmethods: ['ticket'], authid: name, onchallenge: () => ticket });
}

async function expectDenied(promise, text) {
  const e = await h.expectWampError(promise, 'wamp.error.not_authorized', text);
  assert.ok(String(e.args[0]).includes(text), `denial message ${JSON.stringify(e.args)} lacks "${text}"`);
}

for (const s of h.SERIALIZERS) {
  describe(`authorization over ${s.protocol}`, () => {
    test('register, call, subscribe and publish follow each role\'s rules', T, async () => {
      const alice = await as('alice', s.name, 'a');
      const bob = await as('bob', s.name, 'b');
      try {
        const proc = h.uniq('com.app.rpc').replace(/^com\.junction\.conformance\./, 'com.app.');
        await bob.session.register(proc, ([x]) => x * 2);
        assert.equal(await alice.session.call(proc, [21]), 42);
        await expectDenied(alice.session.register(h.uniq('x').replace(/^com\.junction\.conformance\./, 'com.app.'), () => 1),
          "role 'frontend' may not register");
        await expectDenied(bob.session.call(proc, [1]), "role 'backend' may not call");
        await expectDenied(alice.session.call('com.app.private'), "may not call 'com.app.private'");  // exact beats prefix

        const events = h.collector();
        await alice.session.subscribe('com.app.ticker', events.handler);
        await bob.session.publish('com.app.ticker', [1], {}, { acknowledge: true });
        assert.deepEqual((await events.next()).args, [1]);
        await expectDenied(alice.session.publish('com.app.ticker', [2], {}, { acknowledge: true }),
          "role 'frontend' may not publish");
        await expectDenied(bob.session.subscribe('com.app.ticker', () => {}), "role 'backend' may not subscribe");

        const feed = h.collector();
        await alice.session.subscribe('com.feed.sport.news', feed.handler);  // wildcard
        await alice.session.publish('com.feed.sport.news', [3], {}, { acknowledge: true, exclude_me: false });
        assert.deepEqual((await feed.next()).args, [3]);
        await expectDenied(bob.session.publish('com.feed.sport.news', [4], {}, { acknowledge: true }), 'may not publish');
      } finally {
        await h.closeAll(alice, bob);
      }
    });

    test('an anonymous session may count sessions but not kill them', T, async () => {
      const anon = await h.connect(s.name, { url: router.url, realm: 'app' });
      const victim = await as('alice', s.name, 'a');
      try {
        assert.ok(await anon.session.call('wamp.session.count') >= 2);
        await expectDenied(anon.session.call('wamp.session.kill', [victim.session.id]),
          "role 'anonymous' may not call 'wamp.session.kill'");
        assert.equal(victim.session.isOpen, true);
      } finally {
        await h.closeAll(anon, victim);
      }
    });
  });
}
