// The web console (issue 18, web/console/) in headless Chromium (playwright-core) against a router
// of its own: log in with a ticket, see a session opened by a test client (Autobahn|JS on Node)
// appear and disappear, see its registration, kill a session and see it gone, call a procedure
// from the panel, see message rates from /metrics; screenshots at desktop and phone widths
// (CONSOLE_SCREENSHOTS=DIR keeps them; docs/img/ has the ones of the last change).
// Last line printed is always exactly "console: N passed, M failed".
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../js/package.json'));
const { chromium } = require('playwright-core');
const autobahn = require('autobahn');

const BIN = process.env.JUNCTION_BIN || path.join(here, '..', '..', 'build', 'router', 'junction');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SHOTS = process.env.CONSOLE_SCREENSHOTS || fs.mkdtempSync(path.join(os.tmpdir(), 'junction-console-shots-'));
const STEP_MS = 10000;

const results = [];
let router = null;
let browser = null;
let dir = null;

function check(name, ok, detail = '') {
  results.push({ name, ok, detail });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ' — ' + detail : ''}`);
}

function finish() {
  const failed = results.filter((r) => !r.ok).length;
  console.log(`console: ${results.length - failed} passed, ${failed} failed`);
  process.exitCode = failed === 0 && results.length > 0 ? 0 : 1;
}

async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  if (router) router.kill('SIGTERM');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

function startRouter() {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-console-'));
  const file = path.join(dir, 'junction.json');
  fs.writeFileSync(file, JSON.stringify({
    listeners: [{ type: 'universal', port: 0 }],
    realms: [{ name: 'ops', auth: { ticket: { principals: {
      admin: { role: 'admin', ticket: 'console-ticket' },
      app: { role: 'app', ticket: 'app-ticket' } } } } }],
  }));
  const proc = spawn(BIN, ['--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  router = proc;
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the router did not start: ' + log)), 10000);
    proc.stderr.on('data', (d) => {
      log += d.toString();
      const m = /listening on universal:\/\/([\d.]+:\d+)/.exec(log);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => reject(new Error(`the router exited (${code}): ${log}`)));
  });
}

function client(hostport, authid, ticket) {
  return new Promise((resolve, reject) => {
    const conn = new autobahn.Connection({
      url: `ws://${hostport}/ws`, realm: 'ops', authmethods: ['ticket'], authid, onchallenge: () => ticket,
      max_retries: 0, use_es6_promises: true,
    });
    const c = { conn, closed: new Promise((r) => { conn.onclose = (reason, details) => { r({ reason, details }); return true; }; }) };
    conn.onopen = (s) => { c.session = s; resolve(c); };
    setTimeout(() => reject(new Error('client did not join')), STEP_MS);
    conn.open();
  });
}

async function rowsOf(page, table) {
  return page.$$eval(`#${table} tbody tr`, (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
}

async function waitFor(what, fn) {
  const deadline = Date.now() + STEP_MS;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out: ' + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main() {
  const hostport = await startRouter();
  const base = `http://${hostport}/console/`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));

  await page.goto(base);
  const realms = await page.$$eval('#realm option', (os) => os.map((o) => o.value));
  check('the page loads and lists the realms from info.json', realms.join() === 'ops', realms.join());

  await page.fill('#authid', 'admin');
  await page.fill('#ticket', 'wrong');
  await page.click('#login-form button');
  const err = await waitFor('login error', async () => (await page.isVisible('#login-error')) && page.textContent('#login-error'));
  check('a wrong ticket is refused', /authentication_failed|could not join/.test(err), err);

  await page.fill('#ticket', 'console-ticket');
  await page.click('#login-form button');
  await waitFor('ready', async () => (await page.getAttribute('body', 'data-ready')) === 'true');
  const own = await rowsOf(page, 'sessions');
  check('logged in: its own session is listed', own.length === 1 && own[0][1] === 'admin' && own[0][6] === 'you',
    JSON.stringify(own));

  // A client joins and registers: the console shows both, live.
  const app = await client(hostport, 'app', 'app-ticket');
  await app.session.register('com.demo.echo', (args, kwargs) => new autobahn.Result(args, kwargs));
  const joined = await waitFor('app row', async () => (await rowsOf(page, 'sessions')).find((r) => r[1] === 'app'));
  check('a session opened by a client appears (authid, role, transport)',
    joined[0] === String(app.session.id) && joined[2] === 'app' && /websocket/.test(joined[4]), JSON.stringify(joined));
  const reg = await waitFor('registration row', async () => (await rowsOf(page, 'registrations')).find((r) => r[0] === 'com.demo.echo'));
  check('its registration appears with its callee count', reg[3] === '1', JSON.stringify(reg));

  // Call it from the panel.
  await page.fill('#action-uri', 'com.demo.echo');
  await page.fill('#action-args', '[1, "two"]');
  await page.fill('#action-kwargs', '{"k": "v"}');
  await page.click('#action-form button');
  const result = await waitFor('result', async () => (await page.isVisible('#action-result')) && page.textContent('#action-result'));
  check('the panel calls a procedure and shows the result', result.includes('[1,"two"]') && result.includes('"k":"v"'), result);

  // Rates from /metrics (the universal port on loopback serves it).
  const rate = await waitFor('rates', async () => { const t = await page.textContent('#rate-in'); return t !== '–' && t; });
  check('message rates come from /metrics', Number(rate) >= 0, rate);

  // Some traffic for the charts, then screenshots at two widths, while there is something to see.
  const until = Date.now() + 5000;
  for (let i = 0; Date.now() < until; i++) {
    await app.session.call('com.demo.echo', [i]);
    await new Promise((r) => setTimeout(r, 10));
  }
  const calls = await waitFor('a call rate', async () => { const t = await page.textContent('#rate-calls'); return Number(t) > 0 && t; });
  check('calls per second are drawn while calls flow', Number(calls) > 0, calls);
  const realmRow = await waitFor('realms row', async () => (await rowsOf(page, 'realms')).find((r) => r[0] === 'ops' && r[1] === '2'));
  check("the router's realms are listed with their sessions, registrations and subscriptions (from /metrics)",
    realmRow[2] === '1', JSON.stringify(realmRow));
  const subs = await rowsOf(page, 'subscriptions');
  check("the console's own wamp.* meta subscriptions are not listed", !subs.some((r) => r[0].startsWith('wamp.')),
    JSON.stringify(subs));
  await page.screenshot({ path: path.join(SHOTS, 'console-desktop.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(200);
  await page.screenshot({ path: path.join(SHOTS, 'console-phone.png'), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check('phone width: the page fits the screen (no sideways scrolling)', overflow <= 0, `overflow ${overflow}px`);
  await page.setViewportSize({ width: 1280, height: 800 });

  // The client leaves: its row and registration go.
  app.conn.close();
  await waitFor('app gone', async () => !(await rowsOf(page, 'sessions')).some((r) => r[1] === 'app'));
  const regsAfter = await waitFor('registration gone', async () => {
    const rows = await rowsOf(page, 'registrations');
    return !rows.some((r) => r[0] === 'com.demo.echo') && rows;
  });
  check('a session that leaves disappears, with its registration', Array.isArray(regsAfter));

  // Kill: another client, killed from the console.
  const victim = await client(hostport, 'app', 'app-ticket');
  const id = String(victim.session.id);
  await waitFor('victim row', async () => (await rowsOf(page, 'sessions')).some((r) => r[0] === id));
  await page.click(`button.kill[data-session="${id}"]`);
  const closed = await Promise.race([victim.closed, new Promise((r) => setTimeout(() => r(null), STEP_MS))]);
  await waitFor('victim gone', async () => !(await rowsOf(page, 'sessions')).some((r) => r[0] === id));
  check('kill ends the session (the client is told wamp.close.killed) and its row goes',
    closed !== null && /killed/.test(JSON.stringify(closed)), JSON.stringify(closed));

  check('no errors in the page', pageErrors.length === 0, pageErrors.join('; '));
  console.log(`screenshots in ${SHOTS}`);
}

const watchdog = setTimeout(async () => {
  check('the run finished in time', false, 'over 90 s');
  await cleanup();
  finish();
  process.exit(1);
}, 90000);
watchdog.unref();

main().catch((e) => check('the console run', false, e.stack || String(e)))
  .finally(async () => { await cleanup(); finish(); });
