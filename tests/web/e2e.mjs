#!/usr/bin/env node
// tests/web/e2e.mjs: browser end-to-end tests of the built site (build/wasm/site) in Debian's Chromium,
// headless, WebGL2 through SwiftShader, driven by playwright-core (which never downloads a browser).
//
//   node tests/web/e2e.mjs [--site build/wasm/site] [--out build/e2e]
//
// Prints one line per test and a last line "e2e: N passed, N failed"; exits non-zero on any failure.
// Screenshots are saved under --out.
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
const READY_TIMEOUT_MS = 60000;

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
  page.on('request', (req) => requests.push(req.url()));
  await page.goto(baseUrl);
  try {
    await page.waitForFunction(() => document.body.dataset.kaliumReady === 'true' || document.body.dataset.kaliumError,
      null, { timeout: READY_TIMEOUT_MS });
  } catch (err) {
    throw new Error(`app not ready after ${READY_TIMEOUT_MS} ms; ${problems.join('; ') || 'no console output'}`);
  }
  const error = await page.evaluate(() => document.body.dataset.kaliumError || '');
  assert(!error, `app reported a fatal error: ${error}`);
  // Let a few frames render.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
  return { context, page, problems, requests };
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

test('a file given to the file input reaches the app as bytes and is listed', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  const before = await page.screenshot();
  const bytes = Buffer.from('kalium e2e test file\n'.repeat(100));
  await page.setInputFiles('#kalium-file-input', { name: 'picked-ecg.xml', mimeType: 'text/xml', buffer: bytes });
  const item = page.locator('#kalium-files li[data-file="picked-ecg.xml"]');
  await item.waitFor({ state: 'attached', timeout: 10000 });
  const size = await item.getAttribute('data-size-bytes');
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
  const after = await page.screenshot({ path: path.join(outDir, 'app-file-opened.png') });
  await context.close();
  assert(Number(size) === bytes.length, `app received ${size} bytes, expected ${bytes.length}`);
  assert(!before.equals(after), 'the canvas did not change after opening a file');
  assert(problems.length === 0, problems.join('; '));
});

test('a file dropped on the canvas reaches the app and the page stays', async ({ browser, baseUrl }) => {
  const { context, page, problems } = await openApp(browser, baseUrl);
  const dataTransfer = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(4321).fill(7)], 'dropped.hea'));
    return dt;
  });
  await page.dispatchEvent('#canvas', 'dragover', { dataTransfer });
  await page.dispatchEvent('#canvas', 'drop', { dataTransfer });
  const item = page.locator('#kalium-files li[data-file="dropped.hea"]');
  await item.waitFor({ state: 'attached', timeout: 10000 });
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
  const item = page.locator('#kalium-files li[data-file="1.hea"]');
  await item.waitFor({ state: 'attached', timeout: 10000 });
  const attrs = await item.evaluate((el) => ({ ...el.dataset }));
  const count = await page.locator('#kalium-files li').count();
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
  await page.setInputFiles('#kalium-file-input', { name: 'photo.png', mimeType: 'image/png', buffer: png });
  const bad = page.locator('#kalium-files li[data-file="photo.png"]');
  await bad.waitFor({ state: 'attached', timeout: 10000 });
  const error = await bad.getAttribute('data-error');
  await page.setInputFiles('#kalium-file-input', path.join(sharedSamples, 'ge-muse-xml/braveheart_example1.xml'));
  const good = page.locator('#kalium-files li[data-file="braveheart_example1.xml"]');
  await good.waitFor({ state: 'attached', timeout: 10000 });
  const attrs = await good.evaluate((el) => ({ ...el.dataset }));
  await context.close();
  assert(error.includes('photo.png') && error.includes('not an ECG format'), `error message: '${error}'`);
  assert(attrs.format === 'ge-muse-xml' && attrs.leads === '12', `then: ${JSON.stringify(attrs)}`);
  assert(problems.length === 0, problems.join('; '));
});

test('every request stays on the page\'s own origin', async ({ browser, baseUrl }) => {
  const { context, page, requests } = await openApp(browser, baseUrl);
  await page.setInputFiles('#kalium-file-input', { name: 'private.xml', mimeType: 'text/xml', buffer: Buffer.from('<x/>') });
  await page.locator('#kalium-files li[data-file="private.xml"]').waitFor({ state: 'attached', timeout: 10000 });
  await context.close();
  const origin = new URL(baseUrl).origin;
  const foreign = requests.filter((u) => !u.startsWith(origin + '/') && !u.startsWith('data:') && !u.startsWith('blob:'));
  assert(requests.length > 0, 'no requests recorded');
  assert(foreign.length === 0, `requests left the origin: ${foreign.join(', ')}`);
});

// ---- main -----------------------------------------------------------------------------------------------
async function main() {
  const chromiumPath = process.env.KALIUM_CHROMIUM || '/usr/bin/chromium';
  const { server, url: baseUrl } = await startServer({ root: siteDir, port: 0 });
  // launch() gives every run a fresh, empty temporary profile.
  const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
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
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(`e2e: cannot run: ${err.message}`);
  console.log('e2e: 0 passed, 1 failed');
  process.exit(1);
});
