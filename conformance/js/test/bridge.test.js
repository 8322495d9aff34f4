'use strict';
// The HTTP bridge (issue 18, docs/BRIDGE.md) with an Autobahn|JS callee: curl (Debian) calls the
// procedures it serves — args and kwargs, its errors, a timeout, progressive results as
// Server-Sent Events — against a router of this file's own, over the suite's scheme (http:// for
// ws://, https:// with the conformance run's CA for wss://).
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const crypto = require('node:crypto');
const h = require('./helpers');

const T = { timeout: 30000 };
const TOKEN = 'js-bridge-token-' + crypto.randomBytes(16).toString('hex');

let router;
let base;
let callee;

before(async () => {
  router = await h.startRouter({
    realms: [{
      name: 'bridged',
      http_bridge: {
        path: '/bridge/bridged',
        tokens: [{ token_sha256: crypto.createHash('sha256').update(TOKEN).digest('hex'), authid: 'curl', authrole: 'anonymous' }],
      },
    }],
  });
  const u = new URL(router.url);
  base = (u.protocol === 'wss:' ? 'https://' : 'http://') + u.host + '/bridge/bridged';
  callee = await h.connect('json', { url: router.url, realm: 'bridged' });
  const s = callee.session;
  await s.register('com.js.add', (args, kwargs) => new h.autobahn.Result([args[0] + args[1]], { by: 'js' }));
  await s.register('com.js.fail', (args) => { throw new h.autobahn.Error('com.js.error', ['nope', args[0]], { code: 7 }); });
  await s.register('com.js.slow', () => new Promise((resolve) => setTimeout(() => resolve('late'), 3000)));
  await s.register('com.js.ticks', (args, kwargs, details) => {
    for (let i = 1; i <= args[0]; i++) if (details.progress) details.progress([i]);
    return 'done';
  });
});

after(async () => {
  if (callee) await h.leave(callee).catch(() => {});
  if (router) router.stop();
});

// curl POSTs `body` to base + path; resolves {status, json, text}.
function curl(path, body, extra = []) {
  const args = ['-sS', '-w', '\n%{http_code}', '-H', 'Authorization: Bearer ' + TOKEN,
    '-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body), ...extra];
  if (base.startsWith('https:') && process.env.NODE_EXTRA_CA_CERTS) args.push('--cacert', process.env.NODE_EXTRA_CA_CERTS);
  args.push(base + path);
  return new Promise((resolve, reject) => {
    execFile('curl', args, { timeout: 20000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`curl failed: ${err.message} ${stderr}`));
      const cut = stdout.lastIndexOf('\n');
      const text = stdout.slice(0, cut);
      let json = null;
      try { json = JSON.parse(text); } catch (_) { /* an event stream */ }
      resolve({ status: Number(stdout.slice(cut + 1)), json, text });
    });
  });
}

describe('HTTP bridge → Autobahn|JS callee', () => {
  test('args and kwargs both ways', T, async () => {
    const r = await curl('/call', { procedure: 'com.js.add', args: [20, 22] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { args: [42], kwargs: { by: 'js' } });
  });

  test("the callee's error: its URI, args and kwargs, status 500", T, async () => {
    const r = await curl('/call', { procedure: 'com.js.fail', args: ['x'] });
    assert.equal(r.status, 500, r.text);
    assert.deepEqual(r.json, { error: 'com.js.error', args: ['nope', 'x'], kwargs: { code: 7 } });
  });

  test('a call past its timeout is 504 wamp.error.timeout', T, async () => {
    const r = await curl('/call', { procedure: 'com.js.slow', options: { timeout: 300 } });
    assert.equal(r.status, 504, r.text);
    assert.equal(r.json.error, 'wamp.error.timeout');
  });

  test('progressive results as Server-Sent Events', T, async () => {
    const r = await curl('/call', { procedure: 'com.js.ticks', args: [3] }, ['-N', '-H', 'Accept: text/event-stream']);
    assert.equal(r.status, 200, r.text);
    const events = r.text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
    assert.deepEqual(events, [
      { args: [1], kwargs: {}, progress: true },
      { args: [2], kwargs: {}, progress: true },
      { args: [3], kwargs: {}, progress: true },
      { args: ['done'], kwargs: {}, progress: false },
    ]);
  });

  test('without the token: 401', T, async () => {
    const args = ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Content-Type: application/json',
      '--data-binary', '{"procedure":"com.js.add","args":[1,2]}'];
    if (base.startsWith('https:') && process.env.NODE_EXTRA_CA_CERTS) args.push('--cacert', process.env.NODE_EXTRA_CA_CERTS);
    args.push(base + '/call');
    const status = await new Promise((resolve, reject) => execFile('curl', args, (e, out) => (e ? reject(e) : resolve(out))));
    assert.equal(status, '401');
  });
});
