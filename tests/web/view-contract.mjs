#!/usr/bin/env node
// tests/web/view-contract.mjs: VIEW-side browser tests (issue 7, engineer 7b). They drive the app (kalium.wasm)
// through the contract's exported functions only (kalium_web_file_queued / kalium_web_result /
// kalium_web_progress) with results made up here, so they check what the app draws and does independently of
// the analysis worker: the PNG report, selection by keyboard, malformed results, the stored calibration.
//
//   node tests/web/view-contract.mjs [--site build/wasm/site] [--out build/e2e]
//
// Prints one line per test and "view-contract: N passed, N failed"; exits non-zero on any failure.
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
const outDir = path.resolve(repo, option('--out', 'build/e2e'));
fs.mkdirSync(outDir, { recursive: true });
const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  '--disable-quic', '--disable-default-apps', '--mute-audio',
];

const tests = [];
const test = (name, fn) => tests.push({ name, fn });
function assert(condition, message) {
  if (!condition) throw new Error(message);
}

async function openApp(browser, baseUrl, contextOptions = {}, initScript = null) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, ...contextOptions });
  const page = await context.newPage();
  const problems = [], warnings = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
    if (msg.type() === 'warning') warnings.push(msg.text());
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  if (initScript) await page.addInitScript(initScript);
  await page.goto(baseUrl);
  await page.waitForFunction(() => document.body.dataset.kaliumReady === 'true' || document.body.dataset.kaliumError, null, { timeout: 60000 });
  assert(!(await page.evaluate(() => document.body.dataset.kaliumError)), 'the app reported a fatal error');
  await page.evaluate(installFeeder);
  await frames(page, 2);
  return { context, page, problems, warnings };
}

const frames = (page, n) => page.evaluate((n) => new Promise((r) => {
  let i = 0;
  const f = () => (++i >= n ? r() : requestAnimationFrame(f));
  requestAnimationFrame(f);
}), n);
const viewState = (page) => page.evaluate(() => ({ ...document.getElementById('kalium-view').dataset }));
async function press(page, key) {
  await page.locator('#canvas').focus().catch(() => {});
  await page.keyboard.press(key);
  await frames(page, 2);
}

// In the page: window.__feed(id, {file, k, json?}) hands the app a made-up result the way the shell does
// (heap copies freed after the call): a 10 s 12-lead ECG with an R wave every 800 ms and a CAM on the T waves.
function installFeeder() {
  const M = window.Module;
  const withString = (text, fn) => {
    const size = M.lengthBytesUTF8(text) + 1;
    const ptr = M._malloc(size);
    M.stringToUTF8(text, ptr, size);
    try { fn(ptr); } finally { M._free(ptr); }
  };
  const withFloats = (array, fn) => {
    const ptr = M._malloc(array.length * 4);
    M.HEAPF32.set(array, ptr >> 2);
    try { fn(ptr); } finally { M._free(ptr); }
  };
  window.__feed = (id, o) => {
    withString(o.file, (p) => M._kalium_web_file_queued(id, p));
    const fs = 500, n = 5000, rr = 0.8;
    const g = (t, c, w) => Math.exp(-0.5 * ((t - c) / w) ** 2);
    const signal = new Float32Array(12 * n);
    for (let l = 0; l < 12; l++) for (let i = 0; i < n; i++) {
      const ph = (i / fs) % rr;
      signal[l * n + i] = 1000 * (g(ph, 0.2, 0.012) + 0.3 * g(ph, 0.45, 0.05) - 0.15 * g(ph, 0.22, 0.008));
    }
    const windowStart = [0, 0, 0, 1250, 1250, 1250, 2500, 2500, 2500, 3750, 3750, 3750];
    const cam = new Float32Array(12 * 1250);
    for (let l = 0; l < 12; l++) for (let i = 0; i < 1250; i++) cam[l * 1250 + i] = g(((windowStart[l] + i) / fs) % rr, 0.45, 0.06);
    const k = o.k;
    const group = (k > 2.5) + (k > 3.5) + (k >= 5.5) + (k >= 6.5);
    const json = o.json !== undefined ? o.json : JSON.stringify({
      id, file: o.file, error: '', format: 'made-up', patient_id: o.patient || '', start_time: o.time || '2024-05-01T08:00:00',
      duration_s: 10, fs_hz: 500, lead_names: ['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'],
      lead_derived: Array(12).fill(false), display_truncated: false, window_start: windowStart,
      k_plus: k, k_plus_display: k.toFixed(1), group, group_label: ['severe hypokalemia', 'hypokalemia', 'normokalemia', 'hyperkalemia', 'severe hyperkalemia'][group],
      group_probs: { '<=2.5': 0.05, '2.5-3.5': 0.1, '3.5-5.5': 0.6, '5.5-6.5': 0.15, '>=6.5': 0.1 },
      lead_k: Array(12).fill(k), lead_attention: Array(12).fill(1 / 12), measurements: null, cart_measurements: null,
      warnings: [], model: { name: 'made-up', sha256: '0123456789abcdef' }, infer_ms: 1,
    });
    withString(json, (j) => withFloats(signal, (s) => withFloats(cam, (c) => M._kalium_web_result(id, j, s, 12, n, c, cam.length))));
  };
}

// Width, height and the first bytes of a PNG (its signature and IHDR).
function pngInfo(bytes) {
  const signature = bytes.subarray(0, 8).toString('hex');
  return { signature, width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

async function pixelStats(page, png) {
  return page.evaluate(async (dataUrl) => {
    const img = new Image();
    img.src = dataUrl;
    await img.decode();
    const c = new OffscreenCanvas(img.width, img.height);
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, img.width, img.height).data;
    let gridMajor = 0, dark = 0, white = 0;
    for (let i = 0; i < d.length; i += 4) {
      const r = d[i], gr = d[i + 1], b = d[i + 2];
      if (Math.abs(r - 229) < 12 && Math.abs(gr - 115) < 20 && Math.abs(b - 115) < 20) gridMajor++;
      if (r + gr + b < 200) dark++;
      if (r > 250 && gr > 250 && b > 250) white++;
    }
    return { width: img.width, height: img.height, gridMajor, dark, white };
  }, 'data:image/png;base64,' + png.toString('base64'));
}

test('P saves a PNG report of the selected ECG: paper grid, black trace, the result column (saved)', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  await page.evaluate(() => window.__feed(7, { file: 'made-up-report.xml', k: 6.1 }));
  await frames(page, 3);
  const downloaded = page.waitForEvent('download', { timeout: 20000 });
  await press(page, 'p');
  const download = await downloaded;
  const file = path.join(outDir, 'view-report.png');
  await download.saveAs(file);
  const bytes = fs.readFileSync(file);
  const info = pngInfo(bytes);
  const stats = await pixelStats(page, bytes);
  await context.close();
  assert(download.suggestedFilename() === 'made-up-report-kalium-report.png', `report named ${download.suggestedFilename()}`);
  assert(info.signature === '89504e470d0a1a0a', `not a PNG (signature ${info.signature})`);
  // A4 landscape at 4.5 px/mm at least: 297 x 210 mm.
  assert(info.width >= 1336 && info.height >= 945, `report is ${info.width} x ${info.height} px`);
  assert(stats.gridMajor > 5000, `only ${stats.gridMajor} major-grid pixels: no ECG paper in the report`);
  assert(stats.dark > 3000, `only ${stats.dark} dark pixels: no trace or text in the report`);
  assert(stats.white > info.width * info.height * 0.2, 'the report page is not mostly white around the paper');
  assert(problems.length === 0, problems.join('; '));
});

test('the newest finished entry is selected; Up/Down step through the worklist (view mirror follows)', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  await page.evaluate(() => { for (const [id, k] of [[101, 3.1], [102, 4.4], [103, 6.9]]) window.__feed(id, { file: `e${id}.xml`, k }); });
  await frames(page, 3);
  const seen = [(await viewState(page)).selected];
  for (const key of ['ArrowUp', 'ArrowUp', 'ArrowUp', 'ArrowDown']) {
    await press(page, key);
    seen.push((await viewState(page)).selected);
  }
  await context.close();
  assert(seen.join(' ') === '103 102 101 101 102', `selected ${seen.join(' -> ')}, expected 103 102 101 101 102`);
  assert(problems.length === 0, problems.join('; '));
});

test('a malformed result_json fails only its entry, with the field named; the next result is shown', async ({ browser, baseUrl }) => {
  const { context, page, problems, warnings } = await openApp(browser, baseUrl);
  await page.evaluate(() => {
    window.__feed(201, { file: 'truncated.xml', k: 4, json: '{"k_plus": 4.' });
    window.__feed(202, { file: 'wrong-type.xml', k: 4, json: '{"k_plus": "high", "fs_hz": 500}' });
  });
  await frames(page, 3);
  const afterBad = await viewState(page);
  await page.evaluate(() => window.__feed(203, { file: 'fine.xml', k: 5.0 }));
  await frames(page, 3);
  const afterGood = await viewState(page);
  await page.screenshot({ path: path.join(outDir, 'view-malformed.png') });
  await context.close();
  assert(warnings.some((w) => w.includes('entry 201') && w.includes('not valid JSON')), `no warning for the truncated JSON: ${warnings.join(' | ')}`);
  assert(warnings.some((w) => w.includes('entry 202') && w.includes('k_plus: expected a number')), `no warning naming k_plus: ${warnings.join(' | ')}`);
  assert(afterBad.selected === '202' && afterGood.selected === '203', `selected ${afterBad.selected} then ${afterGood.selected}`);
  assert(problems.length === 0, problems.join('; '));
});

test('a stored screen calibration sets the paper scale; device pixel ratio 2 doubles framebuffer px per mm', async ({ browser, baseUrl }) => {
  const init = () => localStorage.setItem('kalium.css_px_per_mm', '5');
  const a = await openApp(browser, baseUrl, {}, init);
  const v1 = await viewState(a.page);
  await a.context.close();
  const b = await openApp(browser, baseUrl, { deviceScaleFactor: 2 }, init);
  const v2 = await viewState(b.page);
  await b.context.close();
  const c = await openApp(browser, baseUrl, {}, () => localStorage.setItem('kalium.css_px_per_mm', 'nonsense'));
  const v3 = await viewState(c.page);
  await c.context.close();
  assert(Math.abs(Number(v1.pxPerMm) - 5) < 1e-3, `calibrated scale ${v1.pxPerMm} px/mm at ratio 1, expected 5`);
  assert(Math.abs(Number(v2.pxPerMm) - 10) < 1e-3, `calibrated scale ${v2.pxPerMm} px/mm at ratio 2, expected 10`);
  assert(Math.abs(Number(v3.pxPerMm) - 96 / 25.4) < 1e-3, `a corrupt stored value gave ${v3.pxPerMm} px/mm, expected the 96 dpi default`);
  for (const x of [a, b, c]) assert(x.problems.length === 0, x.problems.join('; '));
});

test('S, G, L and H change speed, gain, layout and overlay in the view mirror', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  await page.evaluate(() => window.__feed(301, { file: 'keys.xml', k: 4.0 }));
  const states = [await viewState(page)];
  for (const key of ['s', 'g', 'g', 'l', 'h']) {
    await press(page, key);
    states.push(await viewState(page));
  }
  await context.close();
  const got = states.map((v) => `${v.speed}/${v.gain}/${v.layout}/${v.overlay}`).join(' ');
  const want = '25/10/3x4+II/true 50/10/3x4+II/true 50/20/3x4+II/true 50/5/3x4+II/true 50/5/6x2/true 50/5/6x2/false';
  assert(got === want, `view states ${got}; expected ${want}`);
  assert(problems.length === 0, problems.join('; '));
});

async function main() {
  const { server, url: baseUrl } = await startServer({ root: siteDir, port: 0 });
  const browser = await chromium.launch({ executablePath: process.env.KALIUM_CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
  let passed = 0, failed = 0;
  for (const t of tests) {
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
  console.log(`view-contract: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(`view-contract: cannot run: ${err.message}`);
  console.log('view-contract: 0 passed, 1 failed');
  process.exit(1);
});
