'use strict';
// Authentication with Autobahn|JS (issue 13): ticket, WAMP-CRA (unsalted and salted, with
// autobahn.auth_cra) and cryptosign (autobahn.auth_cryptosign over tweetnacl) against a router of
// this file's own, started from a config file whose stored secrets come from
// `junction --make-secret`. Over the suite's scheme: ws://, or wss:// when the suite runs over TLS
// (the router then uses the conformance run's certificate, next to NODE_EXTRA_CA_CERTS).
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const nacl = require('tweetnacl');
const h = require('./helpers');

const T = { timeout: 30000 };
const BIN = process.env.JUNCTION_BIN || path.join(__dirname, '..', '..', '..', 'build', 'router', 'junction');
const SEED = Buffer.from('4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510', 'hex');
const OTHER_SEED = Buffer.from('6e1fde9cf9e2359a87420b65a87dc0c66136e66945196ba2475990d8a0c3a25b', 'hex');

function makeSecret(method, secret) {
  const out = execFileSync(BIN, ['--make-secret', method], { input: secret + '\n' }).toString();
  return JSON.parse('{' + out + '}');
}

let router;
let url;
let dir;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-js-auth-'));
  const device = nacl.sign.keyPair.fromSeed(SEED);
  const listener = { type: 'ws', port: 0 };
  if (h.URL.startsWith('wss://') && process.env.NODE_EXTRA_CA_CERTS) {
    const pki = path.dirname(process.env.NODE_EXTRA_CA_CERTS);
    Object.assign(listener, { type: 'wss', tls: { cert: path.join(pki, 'server.pem'), key: path.join(pki, 'server.key') } });
  }
  const config = {
    listeners: [listener],
    auth_throttle: { failures: 1000 },
    realms: [{
      name: 'secure',
      auth: {
        ticket: { principals: {
          joe: { role: 'user', ticket: 'joes-ticket' },
          svc: { role: 'backend', ...makeSecret('ticket', 'svc-ticket') },
        } },
        wampcra: { principals: {
          peter: { role: 'crauser', secret: 'p3t3r' },
          sally: { role: 'saltuser', ...makeSecret('wampcra', 's4lly') },
        } },
        cryptosign: { principals: {
          'device-1': { role: 'device', authorized_keys: [Buffer.from(device.publicKey).toString('hex')] },
        } },
      },
    }],
  };
  const file = path.join(dir, 'junction.json');
  fs.writeFileSync(file, JSON.stringify(config));
  router = spawn(BIN, ['--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  url = await new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error('the router did not start: ' + log)), 10000);
    router.stderr.on('data', (d) => {
      log += d.toString();
      const m = /listening on (wss?:\/\/\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    router.on('exit', (code) => reject(new Error(`the router exited (${code}): ${log}`)));
  });
});

after(() => {
  if (router) router.kill('SIGTERM');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

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
