#!/usr/bin/env node
// tests/web/e2e.mjs: browser end-to-end tests of the built site (build/wasm/site) in Debian's Chromium,
// headless, WebGL2 through SwiftShader, driven by playwright-core (which never downloads a browser).
//
//   node tests/web/e2e.mjs [--site build/wasm/site] [--out build/e2e] [--cli build/native/bin/kalium] [--only TEXT]
//
// Prints one line per test and a last line "e2e: N passed, N failed"; exits non-zero on any failure.
// Screenshots are saved under --out. K+ shown by the page is compared with the native CLI's
// (`kalium predict` on the same file): --cli, else $KALIUM_CLI, else build/native/bin/kalium (scripts/test
// builds it before this runs). --only runs the tests whose name contains TEXT.
import { execFileSync } from 'node:child_process';
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
const cliPath = path.resolve(repo, option('--cli', process.env.KALIUM_CLI || 'build/native/bin/kalium'));
const only = option('--only', '');
fs.mkdirSync(outDir, { recursive: true });

const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  '--disable-quic', '--disable-default-apps', '--mute-audio',
];
const READY_TIMEOUT_MS = 60000;
const ANALYSIS_TIMEOUT_MS = 30000;  // one file: reading + preparing + ~0.3-1 s of inference on a shared machine

// ---- a tiny test runner ---------------------------------------------------------------------------------
const tests = [];
const test = (name, fn) => tests.push({ name, fn });
function assert(condition, message) {
  if (!condition) throw new Error(message);
}

// Opens the app in a fresh context and records console errors, page errors and every request.
async function openApp(browser, baseUrl, contextOptions = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...contextOptions });
  const page = await context.newPage();
  const problems = [];
  const requests = [];
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`); });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  // the context's requests include the analysis worker's and the service worker's
  context.on('request', (req) => requests.push(req.url()));
  await page.goto(baseUrl);
  await waitReady(page, problems);
  return { context, page, problems, requests };
}

// The app drew its first frame and the analysis worker has loaded the model.
async function waitReady(page, problems) {
  try {
    await page.waitForFunction(() => (document.body.dataset.kaliumReady === 'true' && document.body.dataset.kaliumWorkerReady === 'true') ||
      document.body.dataset.kaliumError || document.body.dataset.kaliumWorkerError, null, { timeout: READY_TIMEOUT_MS });
  } catch (err) {
    throw new Error(`app not ready after ${READY_TIMEOUT_MS} ms; ${problems.join('; ') || 'no console output'}`);
  }
  const error = await page.evaluate(() => document.body.dataset.kaliumError || document.body.dataset.kaliumWorkerError || '');
  assert(!error, `app reported a fatal error: ${error}`);
  // Let a few frames render.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
}

// Pixel statistics of a PNG screenshot, decoded by the browser itself (no image library needed).
async function pixelStats(page, png) {
  return page.evaluate(async (dataUrl) => {
    const img = new Image();
    img.src = dataUrl;
    await img.decode();
    const c = new OffscreenCanvas(img.width, img.height);
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, img.width, img.height).data;
    const colours = new Set();
    let gridMajor = 0, gridMinor = 0, dark = 0;
    for (let i = 0; i < d.length; i += 4) {
      const r = d[i], gr = d[i + 1], b = d[i + 2];
      colours.add((r << 16) | (gr << 8) | b);
      // The paper grid's line colours (paper-grid.frag): major (229,115,115), minor (248,199,199).
      if (Math.abs(r - 229) < 12 && Math.abs(gr - 115) < 20 && Math.abs(b - 115) < 20) gridMajor++;
      if (Math.abs(r - 248) < 6 && Math.abs(gr - 199) < 10 && Math.abs(b - 199) < 10) gridMinor++;
      if (r + gr + b < 300) dark++;  // text (anti-aliased glyphs included)
    }
    return { width: img.width, height: img.height, colours: colours.size, gridMajor, gridMinor, dark };
  }, 'data:image/png;base64,' + png.toString('base64'));
}

async function canvasSize(page) {
  return page.evaluate(() => {
    const c = document.getElementById('canvas');
    return { width: c.width, height: c.height, cssWidth: c.clientWidth, cssHeight: c.clientHeight,
             dpr: window.devicePixelRatio };
  });
}

// ---- the tests ------------------------------------------------------------------------------------------
test('page loads with no console errors and is cross-origin isolated', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  const isolated = await page.evaluate(() => window.crossOriginIsolated);
  await page.waitForTimeout(500);
  await context.close();
  assert(problems.length === 0, problems.join('; '));
  assert(isolated === true, 'page is not cross-origin isolated (COOP/COEP headers missing)');
});

test('canvas shows the rendered UI with the paper grid (screenshot saved)', async ({ browser, baseUrl }) => {
  const { context, page } = await openApp(browser, baseUrl);
  const png = await page.screenshot({ path: path.join(outDir, 'app.png') });
  const stats = await pixelStats(page, png);
  await context.close();
  assert(stats.width === 1280 && stats.height === 800, `screenshot is ${stats.width}x${stats.height}`);
  assert(stats.colours > 50, `only ${stats.colours} distinct colours: the canvas looks blank`);
  assert(stats.dark > 500, `only ${stats.dark} dark (text) pixels: no text rendered`);
  assert(stats.gridMajor > 500, `only ${stats.gridMajor} major-grid pixels: the paper-grid shader did not draw`);
  assert(stats.gridMinor > 500, `only ${stats.gridMinor} minor-grid pixels: the paper-grid shader did not draw`);
});

test('canvas fills the window and follows resizes', async ({ browser, baseUrl }) => {
  const { context, page } = await openApp(browser, baseUrl);
  const before = await canvasSize(page);
  await page.setViewportSize({ width: 900, height: 640 });
  await page.waitForFunction(() => document.getElementById('canvas').width === 900, null, { timeout: 5000 })
    .catch(() => {});
  const after = await canvasSize(page);
  await context.close();
  assert(before.width === 1280 && before.height === 800, `canvas ${before.width}x${before.height}, expected 1280x800`);
  assert(after.width === 900 && after.height === 640, `after resize canvas ${after.width}x${after.height}, expected 900x640`);
});

test('HiDPI: the canvas backing store follows devicePixelRatio 2', async ({ browser, baseUrl }) => {
  const { context, page } = await openApp(browser, baseUrl, { viewport: { width: 800, height: 600 }, deviceScaleFactor: 2 });
  await page.waitForFunction(() => document.getElementById('canvas').width === 1600, null, { timeout: 5000 })
    .catch(() => {});
  const size = await canvasSize(page);
  const png = await page.screenshot({ path: path.join(outDir, 'app-hidpi.png') });
  const stats = await pixelStats(page, png);
  await context.close();
  assert(size.dpr === 2, `devicePixelRatio ${size.dpr}`);
  assert(size.width === 1600 && size.height === 1200, `canvas ${size.width}x${size.height}, expected 1600x1200`);
  assert(stats.dark > 2000, `only ${stats.dark} text pixels at 2x`);
});

test('a file given to input#kalium-open reaches the analysis as bytes and is listed', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  const before = await page.screenshot();
  const bytes = Buffer.from('kalium e2e test file\n'.repeat(100));
  await page.setInputFiles('#kalium-open', { name: 'picked-ecg.xml', mimeType: 'text/xml', buffer: bytes });
  const item = page.locator('#kalium-worklist tbody tr[data-file="picked-ecg.xml"]:not([data-state="working"])');
  await item.waitFor({ state: 'attached', timeout: ANALYSIS_TIMEOUT_MS });
  const size = await item.getAttribute('data-size-bytes');
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
  const after = await page.screenshot({ path: path.join(outDir, 'app-file-opened.png') });
  await context.close();
  assert(Number(size) === bytes.length, `app received ${size} bytes, expected ${bytes.length}`);
  assert(!before.equals(after), 'the canvas did not change after opening a file');
  assert(problems.length === 0, problems.join('; '));
});

test('a file dropped on the canvas reaches the analysis and the page stays', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  const dataTransfer = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(4321).fill(7)], 'dropped.hea'));
    return dt;
  });
  await page.dispatchEvent('#canvas', 'dragover', { dataTransfer });
  await page.dispatchEvent('#canvas', 'drop', { dataTransfer });
  const item = page.locator('#kalium-worklist tbody tr[data-file="dropped.hea"]:not([data-state="working"])');
  await item.waitFor({ state: 'attached', timeout: ANALYSIS_TIMEOUT_MS });
  const size = await item.getAttribute('data-size-bytes');
  const url = page.url();
  await context.close();
  assert(Number(size) === 4321, `app received ${size} bytes, expected 4321`);
  assert(url === baseUrl, `page navigated to ${url}`);
  assert(problems.length === 0, problems.join('; '));
});

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

const sharedSamples = path.resolve(repo, '..', 'shared', 'ecg', 'samples');

test('a WFDB record dropped as .hea + .dat is read as one 12-lead ECG', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  await dropFiles(page, {
    '1.hea': fs.readFileSync(path.join(sharedSamples, 'wfdb/ludb_1/1.hea')),
    '1.dat': fs.readFileSync(path.join(sharedSamples, 'wfdb/ludb_1/1.dat')),
  });
  const item = page.locator('#kalium-worklist tbody tr[data-file="1.hea"]:not([data-state="working"])');
  await item.waitFor({ state: 'attached', timeout: ANALYSIS_TIMEOUT_MS });
  const attrs = await item.evaluate((el) => ({ ...el.dataset }));
  const count = await page.locator('#kalium-worklist tbody tr').count();
  await page.screenshot({ path: path.join(outDir, 'app-wfdb-read.png') });
  await context.close();
  assert(attrs.format === 'wfdb', `format '${attrs.format}', error '${attrs.error}'`);
  assert(attrs.leads === '12', `leads ${attrs.leads}`);
  assert(attrs.error === '', `error '${attrs.error}'`);
  assert(count === 1, `${count} entries: the .dat should be part of the .hea's record`);
  assert(problems.length === 0, problems.join('; '));
});

test('a non-ECG file is refused with a message and the next file still reads', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
  await page.setInputFiles('#kalium-open', { name: 'photo.png', mimeType: 'image/png', buffer: png });
  const bad = page.locator('#kalium-worklist tbody tr[data-file="photo.png"]:not([data-state="working"])');
  await bad.waitFor({ state: 'attached', timeout: ANALYSIS_TIMEOUT_MS });
  const error = await bad.getAttribute('data-error');
  await page.setInputFiles('#kalium-open', path.join(sharedSamples, 'ge-muse-xml/braveheart_example1.xml'));
  const good = page.locator('#kalium-worklist tbody tr[data-file="braveheart_example1.xml"]:not([data-state="working"])');
  await good.waitFor({ state: 'attached', timeout: ANALYSIS_TIMEOUT_MS });
  const attrs = await good.evaluate((el) => ({ ...el.dataset }));
  await context.close();
  assert(error.includes('photo.png') && error.includes('not an ECG format'), `error message: '${error}'`);
  assert(attrs.format === 'ge-muse-xml' && attrs.leads === '12', `then: ${JSON.stringify(attrs)}`);
  assert(problems.length === 0, problems.join('; '));
});

test('every request stays on the page\'s own origin', async ({ browser, baseUrl }) => {
  const { context, page, requests } = await openApp(browser, baseUrl);
  await page.setInputFiles('#kalium-open', { name: 'private.xml', mimeType: 'text/xml', buffer: Buffer.from('<x/>') });
  await page.locator('#kalium-worklist tbody tr[data-file="private.xml"]:not([data-state="working"])').waitFor({ state: 'attached', timeout: ANALYSIS_TIMEOUT_MS });
  await context.close();
  const origin = new URL(baseUrl).origin;
  const foreign = requests.filter((u) => !u.startsWith(origin + '/') && !u.startsWith('data:') && !u.startsWith('blob:'));
  assert(requests.length > 0, 'no requests recorded');
  assert(foreign.length === 0, `requests left the origin: ${foreign.join(', ')}`);
});

// ---- analysis, worklist, export, offline (DATA side of the app contract) --------------------------------

// Waits until entry `file` of the worklist has finished; returns its row's data attributes.
async function finishedRow(page, file, timeout = ANALYSIS_TIMEOUT_MS) {
  const row = page.locator(`#kalium-worklist tbody tr[data-file="${file}"]:not([data-state="working"])`).first();
  await row.waitFor({ state: 'attached', timeout });
  return row.evaluate((el) => ({ ...el.dataset, cells: Array.from(el.cells).map((c) => c.textContent) }));
}

async function resultBox(page) {
  return page.evaluate(() => {
    const el = document.getElementById('kalium-result');
    return { ...el.dataset, text: el.textContent, live: el.getAttribute('aria-live') };
  });
}

// `kalium predict` on the same file, natively (the reference the browser must match).
const cliCache = new Map();
function cliPredict(file) {
  if (!cliCache.has(file)) {
    assert(fs.existsSync(cliPath), `${cliPath} does not exist: build the native CLI first (cmake --build --preset native)`);
    let out;
    try {
      out = execFileSync(cliPath, ['predict', '--format', 'json', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      out = err.stdout;  // exit status 1 with a per-file error still prints the JSON
    }
    cliCache.set(file, JSON.parse(out)[0]);
  }
  return cliCache.get(file);
}

// A small RFC 4180 parser (quoted fields, doubled quotes, CRLF), enough to read the export back.
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

const FOUR_FORMATS = [
  { label: 'Philips XML', files: ['philips-xml/sierra_1_04_ad4d3d80-d165_1-04_orig.xml'] },
  { label: 'GE MUSE XML', files: ['ge-muse-xml/braveheart_example1.xml'] },
  { label: 'WFDB pair', files: ['wfdb/ludb_1/1.hea', 'wfdb/ludb_1/1.dat'] },
  { label: 'HL7 aECG', files: ['hl7-aecg/hl7_2003-12_Example_aECG.xml'] },
];

test('Philips XML, GE MUSE XML, a WFDB pair and HL7 aECG each show the K+ of `kalium predict` (screenshot saved)', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  const report = [];
  for (const sample of FOUR_FORMATS) {
    const files = Object.fromEntries(sample.files.map((f) => [path.basename(f), fs.readFileSync(path.join(sharedSamples, f))]));
    await dropFiles(page, files);
    const name = path.basename(sample.files[0]);
    const row = await finishedRow(page, name);
    await page.waitForFunction((n) => document.getElementById('kalium-result').dataset.file === n, name, { timeout: 5000 });
    const shown = await resultBox(page);
    const native = cliPredict(path.join(sharedSamples, sample.files[0]));
    const web = await page.evaluate((n) => window.kalium.results().find((r) => r && r.file === n), name);
    report.push(`${sample.label}: page ${shown.kPlus} (${web && web.k_plus}), CLI ${native.k_plus_display} (${native.k_plus})`);
    assert(row.error === '' && shown.error === '', `${sample.label}: error '${row.error || shown.error}'`);
    assert(shown.kPlus === native.k_plus_display, `${sample.label}: page shows ${shown.kPlus}, kalium predict ${native.k_plus_display}`);
    assert(row.kPlus === native.k_plus_display, `${sample.label}: worklist shows ${row.kPlus}`);
    assert(shown.group === native.group_label, `${sample.label}: group ${shown.group}, CLI ${native.group_label}`);
    assert(Math.abs(web.k_plus - native.k_plus) < 1e-3, `${sample.label}: K+ ${web.k_plus} vs CLI ${native.k_plus}`);
    assert(shown.live === 'polite' && shown.text.includes(native.k_plus_display), `${sample.label}: sentence '${shown.text}'`);
    // the arrays the app receives: 12 leads at 500 Hz, the CAMs 12 x 1250
    assert(web.lead_k.length === 12 && web.lead_attention.length === 12 && web.window_start.length === 12,
      `${sample.label}: lead arrays ${web.lead_k.length}/${web.lead_attention.length}/${web.window_start.length}`);
    // kalium's own measurements beside the cart's: the heart rates agree where the file has the cart's
    assert(web.measurements && Number.isFinite(web.measurements.hr_bpm), `${sample.label}: no measurements (${JSON.stringify(web.measurement_warnings)})`);
    if (web.cart_measurements && Number.isFinite(web.cart_measurements.hr_bpm))
      assert(Math.abs(web.measurements.hr_bpm - web.cart_measurements.hr_bpm) < 3,
        `${sample.label}: heart rate ${web.measurements.hr_bpm} vs the cart's ${web.cart_measurements.hr_bpm}`);
  }
  await page.screenshot({ path: path.join(outDir, 'app-four-formats.png') });
  await context.close();
  console.log('        ' + report.join('\n        '));
  assert(problems.length === 0, problems.join('; '));
});

// 20 entries: the 19 PhysioNet Challenge 2021 records (.hea + .mat) and one GE MUSE XML, in one drop.
function batchOf20() {
  const dir = path.join(sharedSamples, 'wfdb/challenge2021');
  const files = {};
  for (const f of fs.readdirSync(dir).sort()) files[f] = fs.readFileSync(path.join(dir, f));
  files['braveheart_example2.xml'] = fs.readFileSync(path.join(sharedSamples, 'ge-muse-xml/braveheart_example2.xml'));
  return files;
}

test('a batch of 20 files fills the worklist; CSV and JSON exports download and parse with 20 rows', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  const files = batchOf20();
  const entries = Object.keys(files).filter((f) => !f.endsWith('.mat'));
  assert(entries.length === 20, `the batch has ${entries.length} entries`);
  await dropFiles(page, files);
  await page.waitForFunction(() => document.querySelectorAll('#kalium-worklist tbody tr').length === 20 &&
    !document.querySelector('#kalium-worklist tbody tr[data-state="working"]'), null, { timeout: 20 * ANALYSIS_TIMEOUT_MS });
  const rows = await page.evaluate(() => Array.from(document.querySelectorAll('#kalium-worklist tbody tr')).map((r) => ({ ...r.dataset })));
  await page.screenshot({ path: path.join(outDir, 'app-worklist-20.png') });
  const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.evaluate(() => window.kalium.exportResults('csv'))]);
  const csvText = fs.readFileSync(await csvDownload.path(), 'utf8');
  const [jsonDownload] = await Promise.all([page.waitForEvent('download'), page.evaluate(() => window.kalium.exportResults('json'))]);
  const json = JSON.parse(fs.readFileSync(await jsonDownload.path(), 'utf8'));
  await context.close();
  const failed = rows.filter((r) => r.state !== 'done');
  assert(failed.length === 0, `entries failed: ${failed.map((r) => `${r.file}: ${r.error}`).join('; ')}`);
  assert(rows.map((r) => r.file).join() === entries.join(), `worklist order ${rows.map((r) => r.file).join()}`);
  const csv = parseCsv(csvText);
  const header = csv[0];
  assert(csvDownload.suggestedFilename().endsWith('.csv'), `CSV file name ${csvDownload.suggestedFilename()}`);
  assert(csv.length === 21, `CSV has ${csv.length - 1} data rows, expected 20`);
  assert(csv.every((r) => r.length === header.length), 'CSV rows do not all have the header\'s column count');
  const kCol = header.indexOf('k_plus_display'), fileCol = header.indexOf('file');
  for (let i = 0; i < 20; i++) {
    assert(csv[i + 1][fileCol] === rows[i].file, `CSV row ${i + 1} file ${csv[i + 1][fileCol]}`);
    assert(csv[i + 1][kCol] === rows[i].kPlus, `CSV row ${i + 1} K+ ${csv[i + 1][kCol]} vs worklist ${rows[i].kPlus}`);
    // the K+ range of the model's distribution holds the estimate
    const [k, lo, hi] = ['k_plus', 'k_range_low', 'k_range_high'].map((c) => Number(csv[i + 1][header.indexOf(c)]));
    assert(Number.isFinite(lo) && lo <= k && k <= hi, `CSV row ${i + 1}: K+ ${k} outside its range ${lo}-${hi}`);
  }
  assert(json.kalium_results.length === 20 && json.kalium_results.every((r) => r.k_plus_display), 'JSON export: 20 results with K+');
  assert(json.kalium_results.every((r) => Array.isArray(r.k_plus_range) && r.group_probs_balanced && /emergency/.test(r.population)),
    'JSON export: every result has its K+ range, balanced probabilities and population');
  assert(problems.length === 0, problems.join('; '));
});

test('a broken file shows its error message and the next file still works', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  const philips = fs.readFileSync(path.join(sharedSamples, 'philips-xml/sierra_1_04_ad4d3d80-d165_1-04_orig.xml'));
  await dropFiles(page, { 'truncated.xml': philips.subarray(0, 3000) });
  const bad = await finishedRow(page, 'truncated.xml');
  const badShown = await resultBox(page);
  await page.screenshot({ path: path.join(outDir, 'app-broken-file.png') });
  // a WFDB header whose signal file is too short
  const hea = fs.readFileSync(path.join(sharedSamples, 'wfdb/ludb_1/1.hea'));
  const dat = fs.readFileSync(path.join(sharedSamples, 'wfdb/ludb_1/1.dat'));
  await dropFiles(page, { '1.hea': hea, '1.dat': dat.subarray(0, 1000) });
  const short = await finishedRow(page, '1.hea');
  await page.setInputFiles('#kalium-open', path.join(sharedSamples, 'ge-muse-xml/braveheart_example1.xml'));
  const good = await finishedRow(page, 'braveheart_example1.xml');
  const goodShown = await resultBox(page);
  await context.close();
  assert(bad.state === 'failed' && bad.error.includes('truncated.xml'), `broken file: state ${bad.state}, error '${bad.error}'`);
  assert(badShown.file === 'truncated.xml' && badShown.error === bad.error && badShown.kPlus === '' &&
    badShown.text.includes(bad.error), `#kalium-result for the broken file: ${JSON.stringify(badShown)}`);
  assert(short.state === 'failed' && short.error.length > 0, `short .dat: state ${short.state}, error '${short.error}'`);
  assert(good.state === 'done' && /^\d\.\d$|^[<>]/.test(good.kPlus), `then: ${JSON.stringify(good)}`);
  assert(goodShown.file === 'braveheart_example1.xml' && goodShown.error === '', `then #kalium-result: ${JSON.stringify(goodShown)}`);
  assert(problems.length === 0, problems.join('; '));
});

test('"Try an example" (window.kalium.loadExamples) gives 5 results, the synthetic ECGs of the 5 K+ groups', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  await page.evaluate(() => window.kalium.loadExamples());
  await page.waitForFunction(() => document.querySelectorAll('#kalium-worklist tbody tr[data-state="done"]').length === 5, null,
    { timeout: 5 * ANALYSIS_TIMEOUT_MS });
  const results = await page.evaluate(() => window.kalium.results());
  await page.screenshot({ path: path.join(outDir, 'app-examples.png') });
  await context.close();
  assert(results.length === 5, `${results.length} results`);
  for (const r of results) assert(/^example_\d_.*\.hea$/.test(r.file) && !r.error && r.format === 'wfdb' && r.duration_s === 10,
    `example ${JSON.stringify({ file: r.file, error: r.error, format: r.format })}`);
  // every K+ estimate is in the network's range and the group agrees with the estimate
  for (const r of results) assert(r.group >= 0 && r.group <= 4 && Number.isFinite(r.k_plus), `example ${r.file}: ${r.k_plus}`);
  console.log('        ' + results.map((r) => `${r.file}: ${r.k_plus_display} (${r.group_label})`).join('\n        '));
  assert(problems.length === 0, problems.join('; '));
});

test('after a first load the page reloads and predicts with the network offline', async ({ browser, baseUrl }) => {
  const { context, page, problems, requests } = await openApp(browser, baseUrl);
  // the service worker precaches the whole site on its first visit
  await page.waitForFunction(async () => {
    const reg = await navigator.serviceWorker.getRegistration();
    return !!(reg && reg.active && reg.active.state === 'activated' && navigator.serviceWorker.controller);
  }, null, { timeout: READY_TIMEOUT_MS, polling: 250 });
  const cached = await page.evaluate(async () => {
    const names = await caches.keys();
    const cache = await caches.open(names.find((n) => n.startsWith('kalium-')));
    return (await cache.keys()).map((r) => new URL(r.url).pathname);
  });
  await context.setOffline(true);
  const before = requests.length;
  await page.reload();
  await waitReady(page, problems);
  await page.setInputFiles('#kalium-open', path.join(sharedSamples, 'ge-muse-xml/braveheart_example1.xml'));
  const row = await finishedRow(page, 'braveheart_example1.xml');
  await page.screenshot({ path: path.join(outDir, 'app-offline.png') });
  const offlineRequests = requests.slice(before);
  await context.close();
  for (const f of ['/', '/kalium.js', '/kalium.wasm', '/kalium-worker.js', '/kalium-worker.wasm', '/model/ecg12net-1.kmodel',
    '/examples/index.json', '/manifest.webmanifest'])
    assert(cached.includes(f), `the service worker did not cache ${f} (cached: ${cached.join(', ')})`);
  assert(row.state === 'done' && row.kPlus === cliPredict(path.join(sharedSamples, 'ge-muse-xml/braveheart_example1.xml')).k_plus_display,
    `offline result: ${JSON.stringify(row)}`);
  assert(offlineRequests.length > 0, 'no requests recorded after the reload');
  assert(problems.length === 0, problems.join('; '));
});

test('no request leaves the page\'s origin while files, examples and exports are used', async ({ browser, baseUrl }) => {
  const { context, page, requests, problems } = await openApp(browser, baseUrl);
  await dropFiles(page, { 'braveheart_example1.xml': fs.readFileSync(path.join(sharedSamples, 'ge-muse-xml/braveheart_example1.xml')) });
  await finishedRow(page, 'braveheart_example1.xml');
  await page.evaluate(() => window.kalium.loadExamples());
  await page.waitForFunction(() => document.querySelectorAll('#kalium-worklist tbody tr[data-state="done"]').length === 6, null,
    { timeout: 6 * ANALYSIS_TIMEOUT_MS });
  await Promise.all([page.waitForEvent('download'), page.evaluate(() => window.kalium.exportResults('json'))]);
  const csp = await page.evaluate(() => document.querySelector('meta[http-equiv="Content-Security-Policy"]').content);
  await context.close();
  const origin = new URL(baseUrl).origin;
  const foreign = requests.filter((u) => !u.startsWith(origin + '/') && !u.startsWith('data:') && !u.startsWith('blob:'));
  assert(requests.some((u) => u.endsWith('/kalium-worker.wasm')) && requests.some((u) => u.endsWith('/ecg12net-1.kmodel')),
    `the worker's requests were not recorded: ${requests.join(', ')}`);
  assert(foreign.length === 0, `requests left the origin: ${foreign.join(', ')}`);
  assert(/default-src 'self'/.test(csp) && /connect-src 'self'/.test(csp) && !/https?:/.test(csp), `meta CSP: ${csp}`);
  assert(problems.length === 0, problems.join('; '));
});

test('a 70 s record is analysed on its first 10 s and its display signal is cut to 60 s', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  // 70 s of the 12 leads at 500 Hz: a 1 mV R wave every second, as in knownIntervalsCsv()
  const lines = ['time_s,' + ['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'].map((l) => `${l} (uV)`).join(',')];
  for (let i = 0; i < 35000; i++) {
    const t = i / 500;
    const v = Math.round(1000 * Math.exp(-0.5 * (((t % 1.0) - 0.5) / 0.02) ** 2));
    lines.push(`${t.toFixed(3)},${Array(12).fill(v).join(',')}`);
  }
  await page.setInputFiles('#kalium-open', { name: 'long-70s.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n') + '\n') });
  const row = await finishedRow(page, 'long-70s.csv', 3 * ANALYSIS_TIMEOUT_MS);
  const r = await page.evaluate(() => window.kalium.results().find((x) => x && x.file === 'long-70s.csv'));
  const shape = await page.evaluate(() => window.kalium.timings().find((x) => x.file === 'long-70s.csv').signal_shape);
  await context.close();
  assert(shape.join() === '12,30000,15000', `arrays: ${shape} (expected 12 leads x 30000 samples, 12 x 1250 CAM values)`);
  assert(row.state === 'done', `70 s record: ${row.state} ${row.error}`);
  assert(Math.abs(r.duration_s - 70) < 0.01 && r.display_truncated === true, `duration ${r.duration_s} s, display_truncated ${r.display_truncated}`);
  assert(r.window_start.join() === '0,0,0,1250,1250,1250,2500,2500,2500,3750,3750,3750', `windows ${r.window_start}`);
  assert(Math.abs(r.measurements.hr_bpm - 60) < 1, `heart rate ${r.measurements.hr_bpm}, expected 60`);
  assert(problems.length === 0, problems.join('; '));
});

// ---- the view (VIEW side of the contract: keyboard shortcuts and #kalium-view) --------------------------

async function viewState(page) {
  return page.evaluate(() => ({ ...document.getElementById('kalium-view').dataset }));
}
async function press(page, key) {
  await page.locator('#canvas').focus().catch(() => {});
  await page.keyboard.press(key);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
}

test('shortcut X loads the 5 examples', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  await press(page, 'x');
  await page.waitForFunction(() => document.querySelectorAll('#kalium-worklist tbody tr[data-state="done"]').length === 5, null,
    { timeout: 5 * ANALYSIS_TIMEOUT_MS });
  await context.close();
  assert(problems.length === 0, problems.join('; '));
});

test('overlay toggle (H) changes the canvas; layouts switch with L (screenshots saved)', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  await dropFiles(page, { 'braveheart_example1.xml': fs.readFileSync(path.join(sharedSamples, 'ge-muse-xml/braveheart_example1.xml')) });
  await finishedRow(page, 'braveheart_example1.xml');
  await page.waitForTimeout(300);
  const withOverlay = await page.screenshot({ path: path.join(outDir, 'app-result-overlay.png') });
  const v0 = await viewState(page);
  await press(page, 'h');
  await page.waitForTimeout(200);
  const withoutOverlay = await page.screenshot({ path: path.join(outDir, 'app-result-no-overlay.png') });
  const v1 = await viewState(page);
  const layouts = [v1.layout];
  for (let i = 0; i < 3; i++) {
    await press(page, 'l');
    await page.waitForTimeout(200);
    const v = await viewState(page);
    layouts.push(v.layout);
    if (i < 2) await page.screenshot({ path: path.join(outDir, `app-layout-${String(v.layout).replace(/[^0-9a-zA-Z]/g, '_')}.png`) });
  }
  await context.close();
  assert(v0.overlay === 'true' && v1.overlay === 'false', `#kalium-view overlay ${v0.overlay} -> ${v1.overlay}`);
  assert(!withOverlay.equals(withoutOverlay), 'the canvas did not change when the heatmap overlay was toggled');
  assert(layouts.join(' ') === '3x4+II 6x2 12x1 3x4+II', `layouts cycled ${layouts.join(' -> ')}`);
  assert(problems.length === 0, problems.join('; '));
});

// A synthetic 12-lead ECG of known intervals as CSV: a 1 mV R wave (Gaussian, sigma 20 ms) every 1000 ms
// (60 bpm, peaks at 0.5 s, 1.5 s, ...) in every lead, flat between, 10 s at 500 Hz.
function knownIntervalsCsv() {
  const lines = ['time_s,' + ['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'].map((l) => `${l} (uV)`).join(',')];
  for (let i = 0; i < 5000; i++) {
    const t = i / 500;
    const phase = (t % 1.0) - 0.5;
    const v = Math.round(1000 * Math.exp(-0.5 * (phase / 0.02) ** 2));
    lines.push(`${t.toFixed(3)},${Array(12).fill(v).join(',')}`);
  }
  return Buffer.from(lines.join('\n') + '\n');
}

test('a caliper on a synthetic ECG of known intervals reads its RR (ms, bpm) and R amplitude (mV) (screenshot saved)', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  await dropFiles(page, { 'rr-1000ms.csv': knownIntervalsCsv() });
  await finishedRow(page, 'rr-1000ms.csv');
  await page.waitForTimeout(300);
  const v0 = await viewState(page);
  // lead II's strip that starts at 0 s: [lead, t_begin_s, t_end_s, x, baseline y, width] in CSS pixels
  const panels = v0.panels ? JSON.parse(v0.panels) : [];
  const strip = panels.find((p) => p[0] === 1 && p[1] === 0 && p[2] >= 2);
  assert(strip, `no lead II strip from 0 s in #kalium-view data-panels: '${v0.panels}'`);
  await press(page, 'c');
  // R peaks at 0.5 s and 1.5 s (RR 1000 ms) of 1 mV; the caliper reads the trace under its two markers.
  const cssPxPerMm = Number(v0.pxPerMm);  // deviceScaleFactor 1: framebuffer px = CSS px
  const speed = Number(v0.speed);
  const xAt = (t) => strip[3] + (t - strip[1]) * speed * cssPxPerMm;
  const drag = async (ta, tb) => {
    await page.mouse.move(xAt(ta), strip[4]);
    await page.mouse.down();
    await page.mouse.move(xAt(tb), strip[4], { steps: 10 });
    await page.mouse.up();
    await page.waitForTimeout(200);
    return viewState(page);
  };
  const rr = await drag(0.5, 1.5);          // R to R
  await page.screenshot({ path: path.join(outDir, 'app-caliper.png') });
  const half = await drag(1.0, 0.5);        // a new caliper: the baseline mid-RR back to the R peak
  await context.close();
  assert(v0.speed === '25' && v0.gain === '10', `speed ${v0.speed} mm/s, gain ${v0.gain} mm/mV (defaults 25 and 10)`);
  assert(Math.abs(cssPxPerMm - 96 / 25.4) < 0.01, `uncalibrated scale ${cssPxPerMm} px/mm, expected 96 px per inch`);
  assert(rr.caliperMs !== '' && Math.abs(Number(rr.caliperMs) - 1000) < 15, `R to R reads ${rr.caliperMs} ms, expected the RR of 1000 ms`);
  assert(Math.abs(Number(rr.caliperBpm) - 60) < 1, `R to R reads ${rr.caliperBpm} bpm, expected 60`);
  assert(Math.abs(Number(rr.caliperMv)) < 0.06, `R to R reads ${rr.caliperMv} mV, expected 0 (two equal R waves)`);
  assert(Math.abs(Number(half.caliperMs) - 500) < 15 && Math.abs(Number(half.caliperBpm) - 120) < 4,
    `baseline to R reads ${half.caliperMs} ms / ${half.caliperBpm} bpm, expected 500 ms / 120 bpm`);
  assert(Math.abs(Number(half.caliperMv) + 1) < 0.06, `baseline (later) minus R reads ${half.caliperMv} mV, expected -1.00`);
  assert(problems.length === 0, problems.join('; '));
});

// ---- the heatmap along the trace (default) and as columns (M) ---------------------------------------------

test('the heatmap follows the trace; the column view stays as an option (M) (screenshots saved)', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  const sample = path.join(repo, '..', 'shared', 'ecg', 'samples', 'ge-muse-xml', 'braveheart_example1.xml');
  await dropFiles(page, { 'braveheart_example1.xml': fs.readFileSync(sample) });
  await finishedRow(page, 'braveheart_example1.xml');
  await page.waitForTimeout(300);
  const v0 = await viewState(page);
  const along = await page.screenshot({ path: path.join(outDir, 'app-heatmap-trace.png') });
  await press(page, 'm');
  const v1 = await viewState(page);
  const columns = await page.screenshot({ path: path.join(outDir, 'app-heatmap-columns.png') });
  await press(page, 'h');
  const off = await page.screenshot({ path: path.join(outDir, 'app-heatmap-off.png') });
  // pixels of the paper (left of the result panel, below the toolbar) that the heatmap changed
  const changed = await page.evaluate(async ([a, b, c]) => {
    const decode = async (b64) => {
      const img = new Image();
      img.src = 'data:image/png;base64,' + b64;
      await img.decode();
      const cv = new OffscreenCanvas(img.width, img.height);
      const g = cv.getContext('2d');
      g.drawImage(img, 0, 0);
      return g.getImageData(0, 0, img.width, img.height);
    };
    const [on1, on2, base] = await Promise.all([a, b, c].map(decode));
    const count = (img) => {
      let n = 0;
      for (let y = 80; y < 550; y++)
        for (let x = 20; x < 900; x++) {
          const i = (y * img.width + x) * 4;
          if (Math.abs(img.data[i] - base.data[i]) + Math.abs(img.data[i + 1] - base.data[i + 1]) + Math.abs(img.data[i + 2] - base.data[i + 2]) > 40) n++;
        }
      return n;
    };
    return { band: count(on1), columns: count(on2) };
  }, [along, columns, off].map((png) => png.toString('base64')));
  await context.close();
  assert(v0.heatmap === 'trace' && v1.heatmap === 'columns', `heatmap style ${v0.heatmap} then ${v1.heatmap} (expected trace, then columns after M)`);
  assert(changed.band > 3000, `the band along the trace changed ${changed.band} paper pixels: none drawn`);
  // the band along the trace covers far less paper than whole columns
  assert(changed.columns > 2 * changed.band, `columns changed ${changed.columns} paper pixels, the band ${changed.band}: the band does not follow the trace`);
  assert(problems.length === 0, problems.join('; '));
});

// ---- the reliability mark -------------------------------------------------------------------------------

test('a paced ECG is marked "paced rhythm: less reliable" in the panel mirror, the worklist, the CSV/JSON exports and the PDF, the number still shown', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  // LUDB 1 with a pacing spike (+2 mV for one sample at 500 Hz) in all 12 leads every 0.9 s
  const dir = path.join(repo, '..', 'shared', 'ecg', 'samples', 'wfdb', 'ludb_1');
  const header = fs.readFileSync(path.join(dir, '1.hea'), 'latin1');
  const gains = header.split(/\r?\n/).slice(1, 13).map((line) => parseFloat(line.split(/\s+/)[2]));
  const dat = Buffer.from(fs.readFileSync(path.join(dir, '1.dat')));
  for (let i = 300; i < 5000; i += 450)
    for (let l = 0; l < 12; l++) {
      const at = (i * 12 + l) * 2;
      dat.writeInt16LE(Math.max(-32768, Math.min(32767, dat.readInt16LE(at) + Math.round(2 * gains[l]))), at);
    }
  await dropFiles(page, { 'paced.hea': Buffer.from(header.replace(/^1 /, 'paced ').replace(/1\.dat/g, 'paced.dat'), 'latin1'), 'paced.dat': dat });
  const row = await finishedRow(page, 'paced.hea');
  await page.waitForFunction(() => document.getElementById('kalium-result').dataset.file === 'paced.hea', null, { timeout: 5000 });
  const box = await resultBox(page);
  const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.evaluate(() => window.kalium.exportResults('csv'))]);
  const csv = parseCsv(fs.readFileSync(await csvDownload.path(), 'utf8'));
  const [jsonDownload] = await Promise.all([page.waitForEvent('download'), page.evaluate(() => window.kalium.exportResults('json'))]);
  const json = JSON.parse(fs.readFileSync(await jsonDownload.path(), 'utf8'));
  const [pdfDownload] = await Promise.all([page.waitForEvent('download'), page.evaluate(() => window.kalium.exportReport('pdf'))]);
  const pdfPath = path.join(outDir, 'report-paced.pdf');
  await pdfDownload.saveAs(pdfPath);
  await page.screenshot({ path: path.join(outDir, 'app-paced.png') });
  await context.close();
  const mark = /^paced rhythm(; .*)?: less reliable$/;
  assert(row.state === 'done' && /^\d\.\d$|^[<>]/.test(row.kPlus), `the paced ECG has no K+ shown: ${JSON.stringify(row)}`);
  assert(mark.test(row.reliability) && row.cells[4].includes('less reliable'), `worklist: '${row.reliability}', cell '${row.cells[4]}'`);
  assert(mark.test(box.reliability) && box.text.includes('paced rhythm'), `result mirror: '${box.reliability}' / '${box.text}'`);
  const col = csv[0].indexOf('reliability');
  assert(col >= 0 && mark.test(csv[1][col]), `CSV reliability column: '${csv[1] && csv[1][col]}'`);
  assert(json.kalium_results[0].reliability_reasons[0] === 'paced rhythm', `JSON: ${JSON.stringify(json.kalium_results[0].reliability_reasons)}`);
  assert(/paced rhythm.*less reliable/.test(pdfText(pdfPath)), 'the PDF does not mark the estimate');
  assert(problems.length === 0, problems.join('; '));
});

// ---- phones: 390 x 844 CSS px, DPR 3, touch ------------------------------------------------------------

// Touch gestures through the DevTools protocol (real touch events, as a phone's browser sends them).
async function touchDrag(cdp, points, steps = 12) {
  // points: [[from...], [to...]] per finger, CSS px; moves all fingers together in `steps` steps
  const at = (k) => points.map(([from, to]) => ({ x: from[0] + (to[0] - from[0]) * k / steps, y: from[1] + (to[1] - from[1]) * k / steps }));
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: at(0) });
  for (let k = 1; k <= steps; k++) {
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: at(k) });
    await new Promise((r) => setTimeout(r, 20));  // a finger's pace: about one move per frame
  }
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
}

test('on a phone (390x844, DPR 3, touch): stacked layout, result in view, trace across the screen, menu, tap, drag pans, pinch zooms (screenshots saved)', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl,
    { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true });
  const cdp = await context.newCDPSession(page);
  const sample = path.join(repo, '..', 'shared', 'ecg', 'samples', 'ge-muse-xml', 'braveheart_example1.xml');
  await dropFiles(page, { 'braveheart_example1.xml': fs.readFileSync(sample) });
  await finishedRow(page, 'braveheart_example1.xml');
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(outDir, 'app-phone.png') });
  const v0 = await viewState(page);
  const width = await page.evaluate(() => ({ inner: window.innerWidth, scroll: document.scrollingElement.scrollWidth,
    canvas: document.getElementById('canvas').width }));
  const panels = JSON.parse(v0.panels || '[]');
  // the widest strip's part on screen (the 10 s lead II rhythm strip)
  const strip = panels.reduce((a, b) => (b[5] > a[5] ? b : a), [0, 0, 0, 0, 0, 0]);
  const onScreen = Math.min(strip[3] + strip[5], width.inner) - Math.max(strip[3], 0);
  const [rx, ry, rw, rh] = v0.resultRect.split(',').map(Number);

  // tap: the Menu button (top right) opens the menu of the top bar's actions
  await page.touchscreen.tap(width.inner - 30, 22);
  await page.waitForTimeout(300);
  const menu = await viewState(page);
  await page.screenshot({ path: path.join(outDir, 'app-phone-menu.png') });
  await page.touchscreen.tap(width.inner / 2, 600);  // a tap elsewhere closes it
  await page.waitForTimeout(300);

  // one finger dragged 150 px to the left on the paper (on lead I's strip, the top row) pans it: the strips
  // move left by as much
  const top = panels.find((p) => p[0] === 0 && p[1] === 0);
  const y = top[4];
  await touchDrag(cdp, [[[300, y], [150, y]]]);
  await page.waitForTimeout(300);
  const v1 = await viewState(page);
  const moved = JSON.parse(v1.panels).find((p) => p[0] === top[0] && p[1] === top[1] && p[2] === top[2]);
  // two fingers moving apart zoom in
  await touchDrag(cdp, [[[150, y], [100, y]], [[240, y], [290, y]]]);
  await page.waitForTimeout(300);
  const v2 = await viewState(page);
  await page.screenshot({ path: path.join(outDir, 'app-phone-zoomed.png') });
  await context.close();

  assert(v0.narrow === 'true', 'the app did not switch to its narrow (phone) layout');
  assert(width.canvas === 390 * 3, `canvas backing store ${width.canvas} px wide, expected 1170 (DPR 3)`);
  assert(width.scroll <= width.inner, `the page scrolls sideways: ${width.scroll} px wide in a ${width.inner} px window`);
  assert(rx >= 0 && rx + rw <= width.inner + 1 && rw >= 0.9 * width.inner && ry < 844 / 3,
    `result panel at x ${rx}, y ${ry}, ${rw} x ${rh}: not at the top, on screen and full width`);
  assert(strip[4] > ry + rh, `the paper (strip at y ${strip[4]}) is not below the result (ends at ${ry + rh})`);
  assert(onScreen >= 0.9 * width.inner, `the trace spans ${onScreen.toFixed(0)} of ${width.inner} CSS px (expected >= 90 %)`);
  assert(menu.menuOpen === 'true', 'a tap on Menu did not open the menu');
  assert(moved && Math.abs((top[3] - moved[3]) - 150) < 20, `a 150 px touch drag at y ${y} moved lead I's strip by ${moved ? top[3] - moved[3] : '?'} px`);
  assert(Number(v2.zoom) > Number(v1.zoom) * 1.5, `pinch: zoom ${v1.zoom} -> ${v2.zoom} (fingers 90 -> 190 px apart)`);
  assert(problems.length === 0, problems.join('; '));
});

// ---- folder drops ---------------------------------------------------------------------------------------

test('a folder drop: LUDB annotation files go with their record, other non-ECG files are skipped with one line', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  const ludb = path.join(repo, '..', 'shared', 'ecg', 'samples', 'wfdb', 'ludb_1');
  const mitdb = path.join(repo, '..', 'shared', 'ecg', 'samples', 'wfdb', 'mitdb_100');
  const items = [];
  for (const [dir, folder] of [[ludb, 'ludb'], [mitdb, 'mitdb']])
    for (const n of fs.readdirSync(dir)) items.push({ name: `${folder}/${n}`, base64: fs.readFileSync(path.join(dir, n)).toString('base64') });
  // what else a folder holds: notes, a picture, a spreadsheet
  items.push({ name: 'ludb/README.txt', base64: Buffer.from('LUDB record 1, lead annotations\n').toString('base64') });
  items.push({ name: 'ludb/photo.png', base64: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]).toString('base64') });
  items.push({ name: 'notes.docx', base64: Buffer.from('PK\x03\x04 not an ECG').toString('base64') });
  await page.evaluate((list) => window.kalium.intake(list.map(({ name, base64 }) =>
    new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], name)), { folder: true }), items);
  await page.waitForFunction(() => document.querySelectorAll('#kalium-worklist tbody tr').length >= 2 &&
    !document.querySelector('#kalium-worklist tbody tr[data-state="working"]'), null, { timeout: 3 * ANALYSIS_TIMEOUT_MS });
  await page.waitForTimeout(300);
  const rows = await page.evaluate(() => Array.from(document.querySelectorAll('#kalium-worklist tbody tr')).map((r) => ({ ...r.dataset })));
  const skipped = await page.evaluate(() => ({ text: document.getElementById('kalium-skipped').textContent,
    count: document.getElementById('kalium-skipped').dataset.count }));
  await context.close();
  // two records: LUDB 1 (12 leads, with its 12 annotation files) and MIT-BIH 100 (2 leads: refused, with the reason)
  assert(rows.length === 2, `worklist: ${rows.map((r) => r.file).join(', ')}`);
  const ludbRow = rows.find((r) => r.file === 'ludb/1.hea'), mitRow = rows.find((r) => r.file === 'mitdb/100.hea');
  assert(ludbRow && ludbRow.state === 'done', `ludb/1.hea: ${JSON.stringify(ludbRow)}`);
  assert(mitRow && mitRow.state === 'failed' && /lead/.test(mitRow.error), `mitdb/100.hea: ${JSON.stringify(mitRow)}`);
  assert(!rows.some((r) => /\.(i|ii|v1|atr|txt|png|docx)$/.test(r.file)), 'an annotation or non-ECG file was listed');
  assert(skipped.count === '3' && /^3 files of the folder skipped: not ECG files \(ludb\/README\.txt, ludb\/photo\.png, notes\.docx\)$/.test(skipped.text),
    `summary line: '${skipped.text}'`);
  assert(problems.length === 0, problems.join('; '));
});

// ---- two threads in the analysis worker (kalium-worker-mt, chosen at run time) ----------------------------

const THREAD_FILES = ['philips-xml/sierra_1_04_ad4d3d80-d165_1-04_orig.xml', 'ge-muse-xml/braveheart_example1.xml',
  'hl7-aecg/hl7_2003-12_Example_aECG.xml', 'scp-ecg/ecgtoolkit_Example.scp', 'dicom/ecgtoolkit_Example.dcm'];

// The parsed results of THREAD_FILES analysed by a page opened at `query`, and the worker's thread count.
async function resultsWithThreads(browser, baseUrl, query, routeFn, cores = 0) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  if (routeFn) await routeFn(context);
  // a machine with `cores` cores, as the page sees it (the default worker depends on it)
  if (cores) await context.addInitScript((n) => Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => n }), cores);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  await page.goto(baseUrl + query);
  await waitReady(page, problems);
  const files = {};
  for (const f of THREAD_FILES) files[path.basename(f)] = fs.readFileSync(path.join(repo, '..', 'shared', 'ecg', 'samples', f));
  await dropFiles(page, files);
  await page.waitForFunction((n) => document.querySelectorAll('#kalium-worklist tbody tr[data-state="done"]').length === n, THREAD_FILES.length,
    { timeout: THREAD_FILES.length * ANALYSIS_TIMEOUT_MS });
  const out = await page.evaluate(() => ({ threads: document.body.dataset.kaliumWorkerThreads, isolated: window.crossOriginIsolated,
    results: window.kalium.results() }));
  await context.close();
  return { ...out, problems };
}

test('the worker runs 2 threads on a cross-origin-isolated page with 4 cores and gives the numbers of the 1-thread worker', async ({ browser, baseUrl }) => {
  const one = await resultsWithThreads(browser, baseUrl, '', null, 2);
  const two = await resultsWithThreads(browser, baseUrl, '', null, 4);
  assert(two.isolated === true && two.threads === '2', `default page, 4 cores: isolated ${two.isolated}, worker threads ${two.threads} (expected 2)`);
  assert(one.threads === '1', `default page, 2 cores: ${one.threads} worker threads (expected 1: the drawing needs the other core)`);
  const forced = await resultsWithThreads(browser, baseUrl, '?threads=2', null, 2);
  assert(forced.threads === '2', `?threads=2 on 2 cores ran ${forced.threads} threads`);
  for (let i = 0; i < THREAD_FILES.length; i++) {
    const a = one.results[i], b = two.results[i];
    assert(a.file === b.file && !a.error && !b.error, `${a.file} / ${b.file}: ${a.error} ${b.error}`);
    // the same kernels on the same data, only split between threads: the same numbers
    const same = (x, y, what) => assert(Math.abs(x - y) <= 1e-6, `${a.file}: ${what} ${x} with 1 thread, ${y} with 2`);
    same(a.k_plus, b.k_plus, 'K+');
    for (const g of Object.keys(a.group_probs)) same(a.group_probs[g], b.group_probs[g], `P(${g})`);
    a.lead_k.forEach((k, l) => same(k, b.lead_k[l], `lead ${l} K+`));
    a.lead_attention.forEach((v, l) => same(v, b.lead_attention[l], `lead ${l} attention`));
    assert(a.k_plus_display === b.k_plus_display, `${a.file}: shown ${a.k_plus_display} vs ${b.k_plus_display}`);
  }
  assert(one.problems.length === 0 && two.problems.length === 0, [...one.problems, ...two.problems].join('; '));
});

test('when the 2-thread worker cannot load, the 1-thread worker takes over and the files are still analysed', async ({ browser, baseUrl }) => {
  const broken = await resultsWithThreads(browser, baseUrl, '?threads=2', (context) =>
    context.route(/kalium-worker-mt\.js/, (route) => route.fulfill({ status: 404, body: 'gone' })));
  assert(broken.threads === '1', `worker threads ${broken.threads} after the 2-thread worker failed (expected the fallback, 1)`);
  assert(broken.results.length === THREAD_FILES.length && broken.results.every((r) => !r.error && r.k_plus_display),
    `results after the fallback: ${JSON.stringify(broken.results.map((r) => r.error || r.k_plus_display))}`);
});

// ---- the PDF report (src/report, the same document as `kalium report`) ----------------------------------

// pdftotext / pdftoppm (poppler-utils, installed by scripts/setup) read the downloaded report as a reader would.
function pdfText(file) {
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'latin1' });
}

test('the PDF report: button, key R and exportReport(\'pdf\') download the selected ECG\'s report (page rendered to build/e2e)', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  const sample = path.join(repo, '..', 'shared', 'ecg', 'samples', 'ge-muse-xml', 'braveheart_example1.xml');
  // nothing selected yet: no report, no download
  const before = await page.evaluate(() => window.kalium.exportReport('pdf'));
  await dropFiles(page, { 'braveheart_example1.xml': fs.readFileSync(sample) });
  const row = await finishedRow(page, 'braveheart_example1.xml');
  await page.waitForFunction(() => document.getElementById('kalium-result').dataset.file === 'braveheart_example1.xml', null, { timeout: 5000 });
  const [download] = await Promise.all([page.waitForEvent('download'), page.evaluate(() => window.kalium.exportReport('pdf'))]);
  const pdfPath = path.join(outDir, 'report-app.pdf');
  await download.saveAs(pdfPath);
  // the key R makes the same document
  const [byKey] = await Promise.all([page.waitForEvent('download'), press(page, 'r')]);
  const keyPath = path.join(outDir, 'report-app-key.pdf');
  await byKey.saveAs(keyPath);
  await page.screenshot({ path: path.join(outDir, 'app-result-panel.png') });
  await context.close();
  assert(before === false, `exportReport('pdf') with nothing selected returned ${before}`);
  assert(row.state === 'done', `the ECG was not analysed: ${row.error}`);
  assert(download.suggestedFilename() === 'braveheart_example1.pdf', `file name ${download.suggestedFilename()}`);
  const bytes = fs.readFileSync(pdfPath);
  assert(bytes.subarray(0, 5).toString() === '%PDF-', 'the download is not a PDF');
  assert(bytes.equals(fs.readFileSync(keyPath)), 'the key R and exportReport(\'pdf\') gave different documents');
  const text = pdfText(pdfPath);
  assert(text.includes('braveheart_example1.xml'), 'pdftotext does not find the file name');
  assert(text.includes(row.kPlus) && /Estimated serum K\+/.test(text), `pdftotext does not find the K+ ${row.kPlus}`);
  // the same document as `kalium report` on the same file (same analysis, same code): the same text (the bytes
  // were identical too when this was written; the text leaves room for last-bit float differences of wasm)
  if (fs.existsSync(cliPath)) {
    const cliPdf = path.join(outDir, 'report-cli.pdf');
    execFileSync(cliPath, ['report', '--out', cliPdf, sample], { stdio: 'ignore' });
    assert(pdfText(cliPdf) === text, 'kalium report and the app wrote reports with different text');
  }
  // a rendered page for people to look at
  execFileSync('pdftoppm', ['-r', '100', '-png', '-singlefile', pdfPath, path.join(outDir, 'report-page')]);
  assert(problems.length === 0, problems.join('; '));
});

// ---- main -----------------------------------------------------------------------------------------------
async function main() {
  const chromiumPath = process.env.KALIUM_CHROMIUM || '/usr/bin/chromium';
  const { server, url: baseUrl } = await startServer({ root: siteDir, port: 0 });
  // launch() gives every run a fresh, empty temporary profile.
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
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(`e2e: cannot run: ${err.message}`);
  console.log('e2e: 0 passed, 1 failed');
  process.exit(1);
});
