'use strict';
// Authentication with Autobahn|JS (issue 13): ticket, WAMP-CRA (unsalted and salted, with
// autobahn.auth_cra) and cryptosign (autobahn.auth_cryptosign over tweetnacl) against a router of
// this file's own, started from a config file whose stored secrets come from
// `junction --make-secret`. Over the suite's scheme: ws://, or wss:// when the suite runs over TLS
// (the router then uses the conformance run's certificate, next to NODE_EXTRA_CA_CERTS).
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const nacl = require('tweetnacl');
const h = require('./helpers');

const T = { timeout: 30000 };
const SEED = Buffer.from('4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510', 'hex');
const OTHER_SEED = Buffer.from('6e1fde9cf9e2359a87420b65a87dc0c66136e66945196ba2475990d8a0c3a25b', 'hex');

let router;
let url;

before(async () => {
  const device = nacl.sign.keyPair.fromSeed(SEED);
  router = await h.startRouter({
    auth_throttle: { failures: 1000 },
    realms: [{
      name: 'secure',
      auth: {
        ticket: { principals: {
          joe: { role: 'user', ticket: 'joes-ticket' },
          svc: { role: 'backend', ...h.makeSecret('ticket', 'svc-ticket') },
        } },
        wampcra: { principals: {
          peter: { role: 'crauser', secret: 'p3t3r' },
          sally: { role: 'saltuser', ...h.makeSecret('wampcra', 's4lly') },
        } },
        cryptosign: { principals: {
          'device-1': { role: 'device', authorized_keys: [Buffer.from(device.publicKey).toString('hex')] },
        } },
      },
    }],
  });
  url = router.url;
});

after(() => { if (router) router.stop(); });

function cra(secret) {
  return (session, method, extra) => {
    assert.equal(method, 'wampcra');
    let key = secret;
    if (extra.salt) key = h.autobahn.auth_cra.derive_key(secret, extra.salt, extra.iterations, extra.keylen);
    return h.autobahn.auth_cra.sign(key, extra.challenge);
  };
}

function cryptosign(seed) {
  const pair = nacl.sign.keyPair.fromSeed(seed);
  return {
    authextra: { pubkey: h.autobahn.auth_cryptosign.public_key(pair) },
    onchallenge: (session, method, extra) => h.autobahn.auth_cryptosign.sign_challenge(pair, extra),
  };
}

async function refused(name, opts) {
  const e = await h.connect(name, { url, realm: 'secure', ...opts }).then(
    (x) => { h.leave(x); throw new Error('joined, but should have been refused'); },
    (err) => err);
  assert.ok(e.closeDetails, `refused without ABORT details: ${e.message}`);
  return e.closeDetails;
}

for (const s of h.SERIALIZERS) {
  describe(`authentication over ${s.protocol}`, () => {
    test('ticket, in clear and hashed: the principal\'s authid and role', T, async () => {
      const a = await h.connect(s.name, { url, realm: 'secure', authmethods: ['ticket'], authid: 'joe',
                                          onchallenge: () => 'joes-ticket' });
      const b = await h.connect(s.name, { url, realm: 'secure', authmethods: ['ticket'], authid: 'svc',
                                          onchallenge: () => 'svc-ticket' });
      try {
        assert.deepEqual([a.details.authid, a.details.authrole, a.details.authmethod, a.details.authprovider],
                         ['joe', 'user', 'ticket', 'static']);
        assert.equal(b.details.authrole, 'backend');
      } finally {
        await h.closeAll(a, b);
      }
    });

    test('a wrong ticket and an unknown authid get the same ABORT', T, async () => {
      const wrong = await refused(s.name, { authmethods: ['ticket'], authid: 'svc', onchallenge: () => 'guess' });
      const unknown = await refused(s.name, { authmethods: ['ticket'], authid: 'nobody', onchallenge: () => 'guess' });
      assert.equal(wrong.reason, 'wamp.error.authentication_failed');
      assert.equal(wrong.message, 'authentication failed');
      assert.deepEqual([unknown.reason, unknown.message], [wrong.reason, wrong.message]);
    });

    test('WAMP-CRA unsalted and salted', T, async () => {
      const a = await h.connect(s.name, { url, realm: 'secure', authmethods: ['wampcra'], authid: 'peter',
                                          onchallenge: cra('p3t3r') });
      const b = await h.connect(s.name, { url, realm: 'secure', authmethods: ['wampcra'], authid: 'sally',
                                          onchallenge: cra('s4lly') });
      try {
        assert.equal(a.details.authrole, 'crauser');
        assert.equal(b.details.authrole, 'saltuser');
        assert.equal(b.details.authmethod, 'wampcra');
      } finally {
        await h.closeAll(a, b);
      }
      const bad = await refused(s.name, { authmethods: ['wampcra'], authid: 'sally', onchallenge: cra('wrong') });
      assert.equal(bad.reason, 'wamp.error.authentication_failed');
    });

    test('cryptosign with an authorized key; another key is refused', T, async () => {
      const a = await h.connect(s.name, { url, realm: 'secure', authmethods: ['cryptosign'], ...cryptosign(SEED) });
      try {
        assert.deepEqual([a.details.authid, a.details.authrole, a.details.authmethod], ['device-1', 'device', 'cryptosign']);
      } finally {
        await h.closeAll(a);
      }
      const bad = await refused(s.name, { authmethods: ['cryptosign'], ...cryptosign(OTHER_SEED) });
      assert.equal(bad.reason, 'wamp.error.authentication_failed');
    });

    test('no method in common: ABORT wamp.error.no_auth_method', T, async () => {
      const e = await refused(s.name, { authmethods: ['anonymous'] });
      assert.equal(e.reason, 'wamp.error.no_auth_method');
    });
  });
}
