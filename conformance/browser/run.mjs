// Browser conformance runner: serves index.html + page-test.js + the
// autobahn-browser bundle on loopback, drives Debian's Chromium headless via
// playwright-core, and turns window.__results into counted tests.
// Last line printed is always exactly "browser: N passed, M failed".
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../js/package.json'));
const { chromium } = require('playwright-core');

const WS_URL = process.env.JUNCTION_URL || 'ws://127.0.0.1:8080/ws';
const REALM = process.env.JUNCTION_REALM || 'realm1';
const REALM2 = process.env.JUNCTION_REALM2 || 'realm2';
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const TOTAL_MS = 55000; // hard ceiling for the whole run
const PAGE_MS = 40000;  // how long the page may take to finish its checks

const FILES = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/page-test.js': ['page-test.js', 'text/javascript; charset=utf-8'],
  '/vendor/autobahn.min.js': [require.resolve('autobahn-browser/autobahn.min.js'), 'text/javascript; charset=utf-8'],
};

let browserCtx = null;
let server = null;
let userDataDir = null;
let finished = false;

async function cleanup() {
  if (browserCtx) { const c = browserCtx; browserCtx = null; await c.close().catch(() => {}); }
  if (server) { const s = server; server = null; s.closeAllConnections?.(); await new Promise((r) => s.close(() => r())); }
  if (userDataDir) { fs.rmSync(userDataDir, { recursive: true, force: true }); userDataDir = null; }
}

function finish(passed, failed) {
  if (finished) return;
  finished = true;
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
}

const watchdog = setTimeout(async () => {
  console.error(`browser suite exceeded ${TOTAL_MS} ms, aborting`);
  await Promise.race([cleanup(), new Promise((r) => setTimeout(r, 3000))]);
  finish(0, 1);
  process.exit(1);
}, TOTAL_MS);
watchdog.unref();

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => { await cleanup(); finish(0, 1); process.exit(1); });
}

async function main() {
  server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    const f = FILES[u.pathname];
    if (u.pathname === '/favicon.ico') { res.writeHead(204).end(); return; }
    if (!f) { res.writeHead(404).end('not found'); return; }
    const p = path.isAbsolute(f[0]) ? f[0] : path.join(here, f[0]);
    res.writeHead(200, { 'content-type': f[1], 'cache-control': 'no-store' });
    fs.createReadStream(p).pipe(res);
  });
  await new Promise((r, j) => server.listen(0, '127.0.0.1', r).on('error', j));
  const port = server.address().port;

  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-chromium-'));
  browserCtx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    ignoreHTTPSErrors: true,
    args: ['--no-sandbox', '--ignore-certificate-errors', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 20000,
  });
  const page = browserCtx.pages()[0] || await browserCtx.newPage();
  // autobahn logs every closed connection as a warning; show everything else
  const noise = /^(connection closed|auto-reconnect disabled!|giving up trying to auto-reconnect!)/;
  page.on('console', (m) => {
    if ((m.type() === 'error' || m.type() === 'warning') && !noise.test(m.text())) console.log(`[page ${m.type()}] ${m.text()}`);
  });
  page.on('pageerror', (e) => console.log(`[page exception] ${e.message}`));

  const q = new URLSearchParams({ url: WS_URL, realm: REALM, realm2: REALM2 });
  // Ticket authentication over wss:// when conformance/run serves a ticket realm (its test CA is
  // not one Chromium trusts: certificate errors are ignored for this throwaway PKI only).
  if (process.env.JUNCTION_WSS && process.env.JUNCTION_SECURE_REALM) {
    q.set('wss', process.env.JUNCTION_WSS);
    q.set('secure', process.env.JUNCTION_SECURE_REALM);
    q.set('ticket', process.env.JUNCTION_TICKET);
  }
  const pageUrl = `http://127.0.0.1:${port}/index.html?${q}`;
  console.log(`browser: ${await browserCtx.browser()?.version?.() ?? 'chromium'} loading ${pageUrl}`);
  await page.goto(pageUrl, { timeout: 15000 });

  let timedOut = false;
  try {
    await page.waitForFunction(() => window.__done === true, null, { timeout: PAGE_MS, polling: 100 });
  } catch (e) {
    timedOut = true;
    console.log(`page did not finish within ${PAGE_MS} ms: ${e.message.split('\n')[0]}`);
  }
  const { plan, results, pageError } = await page.evaluate(() => ({
    plan: window.__plan || [], results: window.__results || [], pageError: window.__pageError || null,
  }));

  let passed = 0, failed = 0;
  const byName = new Map(results.map((r) => [r.name, r]));
  for (const name of plan) {
    const r = byName.get(name);
    if (r && r.ok) { passed++; console.log(`ok   ${name}`); }
    else { failed++; console.log(`FAIL ${name}${r ? ' -- ' + r.detail : ' -- did not run' + (timedOut ? ' (page timed out)' : '')}`); }
  }
  for (const r of results) if (!plan.includes(r.name)) { failed++; console.log(`FAIL unexpected result ${r.name}`); }
  if (plan.length === 0) { failed++; console.log('FAIL page published no test plan (bundle or script did not load)'); }
  if (pageError) { failed++; console.log(`FAIL page error: ${pageError}`); }
  return [passed, failed];
}

let outcome = [0, 1];
try {
  outcome = await main();
} catch (e) {
  console.log(`browser runner error: ${e && e.stack || e}`);
  outcome = [0, 1];
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
finish(...outcome);
