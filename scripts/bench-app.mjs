#!/usr/bin/env node
// scripts/bench-app.mjs: the browser app's benchmark (issue 7's performance targets), in Debian's headless
// Chromium against the local server (scripts/serve.mjs) on the built site (build/wasm/site). Numbers, not
// pass/fail; scripts/bench runs it.
//
//   node scripts/bench-app.mjs [--site build/wasm/site] [--json] [--runs 5]
//
// 1. cold page load to interactive: a fresh browser context (empty cache, no service worker) navigates to the
//    page; "interactive" is when the app has drawn its first frame AND the analysis worker has loaded the
//    model (both stamped by web/kalium-shell.js with performance.now(), ms since navigation start).
// 2. drop-to-result minus inference: a drop event on the canvas (a real 10 s 12-lead GE MUSE XML) until the
//    result is in the DOM mirror and handed to the app, minus the worker's own infer_ms (k_model::predict);
//    what remains is reading, preparing, messaging and the page's work.
// 3. frames per second while panning a 12-lead view: requestAnimationFrame intervals while the mouse drags
//    across the ECG (needs the app's view; 0 frames means the view did not draw).
// 4. a batch of 100 ECGs in one drop: total time to the last result, and the longest main-thread task during
//    it (PerformanceObserver 'longtask': tasks over 50 ms; none means every task was shorter).
// 5. the site's download size: wasm + js + weights (bytes, and gzip -6 as a server would send them).
// 2 and 4 run twice in the same run, with the analysis worker on 1 thread (page ?threads=1: kalium-worker.js)
// and on 2 (?threads=2: kalium-worker-mt.js, what a cross-origin-isolated page with 4 or more cores gets by default);
// each page says which one it got (body data-kalium-worker-threads) and a mismatch is an error.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const siteDir = path.resolve(repo, option('--site', 'build/wasm/site'));
const runs = Number(option('--runs', '5'));
const asJson = args.includes('--json');
const samples = path.resolve(repo, '..', 'shared', 'ecg', 'samples');
const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  '--disable-quic', '--disable-default-apps', '--mute-audio',
];
const log = (...a) => { if (!asJson) console.log(...a); };
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const round = (x, d = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null);

async function openPage(browser, url, threads = 0) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(threads ? `${url}?threads=${threads}` : url);
  await page.waitForFunction(() => (document.body.dataset.kaliumReady === 'true' && document.body.dataset.kaliumWorkerReady === 'true') ||
    document.body.dataset.kaliumError || document.body.dataset.kaliumWorkerError, null, { timeout: 120000 });
  const error = await page.evaluate(() => document.body.dataset.kaliumError || document.body.dataset.kaliumWorkerError || '');
  if (error) throw new Error(`the page reported: ${error}`);
  const got = Number(await page.evaluate(() => document.body.dataset.kaliumWorkerThreads));
  if (threads && got !== threads) throw new Error(`asked for a ${threads}-thread worker, the page runs ${got}`);
  return { context, page };
}

// Drops files given as {name: base64} on the canvas from inside the page; resolves when `count` more results
// exist, to {t_drop_ms, results (the new ones), timings}.
async function dropAndWait(page, files, count) {
  return page.evaluate(async ({ files, count }) => {
    const before = window.kalium.results().filter(Boolean).length;
    const dt = new DataTransfer();
    for (const [name, base64] of Object.entries(files)) dt.items.add(new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], name));
    const t_drop_ms = performance.now();
    document.getElementById('canvas').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    await new Promise((resolve) => {
      const check = () => (window.kalium.results().filter(Boolean).length >= before + count ? resolve() : setTimeout(check, 1));
      check();
    });
    const all = window.kalium.results();
    const timings = window.kalium.timings();
    return { t_drop_ms, results: all.slice(all.length - count), timings: timings.slice(timings.length - count) };
  }, { files, count });
}

async function coldLoad(browser, url) {
  const { context, page } = await openPage(browser, url);
  const t = await page.evaluate(() => ({
    app_ms: Number(document.body.dataset.kaliumReadyMs), worker_ms: Number(document.body.dataset.kaliumWorkerReadyMs),
    dom_content_loaded_ms: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
  }));
  await context.close();
  return { ...t, interactive_ms: Math.max(t.app_ms, t.worker_ms) };
}

async function dropToResult(browser, url, file, threads) {
  const { context, page } = await openPage(browser, url, threads);
  const base64 = fs.readFileSync(file).toString('base64');
  const out = [];
  for (let i = 0; i <= runs; i++) {
    const r = await dropAndWait(page, { [`ecg-${i}.xml`]: base64 }, 1);
    const total = r.timings[0].finished_ms - r.t_drop_ms;
    if (i > 0) out.push({ total_ms: total, infer_ms: r.results[0].infer_ms, analyse_ms: r.results[0].analyse_ms,
      overhead_ms: total - r.results[0].infer_ms });  // the first run warms the JIT and is not counted
  }
  await context.close();
  return out;
}

async function panFps(browser, url, file) {
  const { context, page } = await openPage(browser, url);
  await dropAndWait(page, { 'pan.xml': fs.readFileSync(file).toString('base64') }, 1);
  await page.waitForTimeout(300);
  await page.evaluate(() => {
    window.__frames = [];
    const tick = (t) => { window.__frames.push(t); if (window.__frames.length < 100000) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  });
  // Start the drag on the paper: the right end of the widest strip the app mirrors in #kalium-view data-panels
  // ([lead, t_begin_s, t_end_s, x, baseline y, width] in CSS pixels), so the drag really pans the 12-lead view.
  const panels = JSON.parse((await page.getAttribute('#kalium-view', 'data-panels')) || '[]');
  if (!panels.length) throw new Error('panFps: #kalium-view data-panels is empty (no ECG drawn)');
  const strip = panels.reduce((a, b) => (b[5] > a[5] ? b : a));
  const x0 = strip[3] + strip[5] * 0.9, y = strip[4];
  await page.mouse.move(x0, y);
  await page.mouse.down();
  const t0 = await page.evaluate(() => performance.now());
  for (let i = 1; i <= 60; i++) await page.mouse.move(x0 - i * 8, y + (i % 2) * 2);  // 480 px of drag
  await page.mouse.up();
  const frames = await page.evaluate((start) => window.__frames.filter((t) => t >= start), t0);
  await context.close();
  const intervals = frames.slice(1).map((t, i) => t - frames[i]);
  const seconds = frames.length > 1 ? (frames[frames.length - 1] - frames[0]) / 1000 : 0;
  const sorted = [...intervals].sort((a, b) => a - b);
  return { frames: frames.length, seconds, fps: seconds > 0 ? (frames.length - 1) / seconds : 0,
    p95_frame_ms: sorted.length ? sorted[Math.floor(sorted.length * 0.95)] : null, max_frame_ms: sorted.length ? sorted[sorted.length - 1] : null };
}

async function batch100(browser, url, threads) {
  const { context, page } = await openPage(browser, url, threads);
  const sources = ['ge-muse-xml/braveheart_example1.xml', 'ge-muse-xml/braveheart_example2.xml', 'ge-muse-xml/braveheart_example3.xml']
    .map((f) => fs.readFileSync(path.join(samples, f)).toString('base64'));
  const files = {};
  for (let i = 0; i < 100; i++) files[`batch-${String(i).padStart(3, '0')}.xml`] = sources[i % sources.length];
  await page.evaluate(() => {
    window.__longtasks = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longtasks.push({ start: e.startTime, ms: e.duration }); })
      .observe({ type: 'longtask', buffered: false });
  });
  const r = await dropAndWait(page, files, 100);
  const longtasks = await page.evaluate((start) => window.__longtasks.filter((t) => t.start >= start - 1), r.t_drop_ms);
  await context.close();
  const last = Math.max(...r.timings.map((t) => t.finished_ms));
  const failed = r.results.filter((x) => x.error).length;
  return { total_ms: last - r.t_drop_ms, per_ecg_ms: (last - r.t_drop_ms) / 100, failed,
    mean_infer_ms: r.results.reduce((a, x) => a + (x.infer_ms || 0), 0) / 100,
    longtasks: longtasks.length, longest_task_ms: longtasks.length ? Math.max(...longtasks.map((t) => t.ms)) : 0 };
}

function downloadSize() {
  // what a page downloads (with the 2-thread worker: kalium-worker-mt.* instead of kalium-worker.*)
  const parts = ['kalium.wasm', 'kalium.js', 'kalium-worker-mt.wasm', 'kalium-worker-mt.js', 'kalium-worker-mt.worker.js',
    'model/ecg12net-1.kmodel'];
  const out = {};
  let bytes = 0, gzip = 0;
  for (const p of parts) {
    const file = path.join(siteDir, p);
    if (!fs.existsSync(file)) { out[p] = null; continue; }
    const data = fs.readFileSync(file);
    const gz = zlib.gzipSync(data, { level: 6 }).length;
    out[p] = { bytes: data.length, gzip_bytes: gz };
    bytes += data.length;
    gzip += gz;
  }
  let site = 0;
  const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) e.isDirectory() ? walk(path.join(d, e.name)) : (site += fs.statSync(path.join(d, e.name)).size); };
  walk(siteDir);
  return { files: out, wasm_js_weights_bytes: bytes, wasm_js_weights_gzip_bytes: gzip, whole_site_bytes: site };
}

async function main() {
  const { server, url } = await startServer({ root: siteDir, port: 0 });
  const browser = await chromium.launch({ executablePath: process.env.KALIUM_CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const ecg = path.join(samples, 'ge-muse-xml/braveheart_example1.xml');
  const result = { site: siteDir, chromium: browser.version() };
  try {
    log('== kalium app in headless Chromium ' + browser.version() + ' (SwiftShader WebGL2), ' + url);
    const cold = [];
    for (let i = 0; i < runs; i++) cold.push(await coldLoad(browser, url));
    result.cold_load = { runs: cold, median_interactive_ms: median(cold.map((c) => c.interactive_ms)),
      median_app_ms: median(cold.map((c) => c.app_ms)), median_worker_ms: median(cold.map((c) => c.worker_ms)) };
    log(`cold load to interactive      median ${round(result.cold_load.median_interactive_ms, 0)} ms ` +
      `(app first frame ${round(result.cold_load.median_app_ms, 0)} ms, worker + model ${round(result.cold_load.median_worker_ms, 0)} ms; ` +
      `target <= 1500 ms; ${runs} runs)`);
    result.drop_to_result = {};
    for (const threads of [1, 2]) {
      const drops = await dropToResult(browser, url, ecg, threads);
      const d = { runs: drops, median_total_ms: median(drops.map((x) => x.total_ms)),
        median_infer_ms: median(drops.map((x) => x.infer_ms)), median_overhead_ms: median(drops.map((x) => x.overhead_ms)) };
      result.drop_to_result[`threads_${threads}`] = d;
      log(`drop to result, ${threads} thread${threads > 1 ? 's' : ' '}     median ${round(d.median_total_ms)} ms = inference ` +
        `${round(d.median_infer_ms)} ms + ${round(d.median_overhead_ms)} ms (target: inference + 30 ms; ${runs} drops)`);
    }
    result.pan = await panFps(browser, url, ecg);
    log(`panning a 12-lead view        ${round(result.pan.fps)} frames/s (${result.pan.frames} frames in ${round(result.pan.seconds, 2)} s; ` +
      `p95 frame ${round(result.pan.p95_frame_ms)} ms, longest ${round(result.pan.max_frame_ms)} ms; target 60)`);
    result.batch = {};
    for (const threads of [1, 2]) {
      const b = await batch100(browser, url, threads);
      result.batch[`threads_${threads}`] = b;
      log(`batch of 100 ECGs, ${threads} thread${threads > 1 ? 's' : ' '}  ${round(b.total_ms / 1000, 2)} s (${round(b.per_ecg_ms)} ms per ECG, ` +
        `inference ${round(b.mean_infer_ms)} ms; ${b.failed} failed); longest main-thread task ` +
        `${b.longtasks ? round(b.longest_task_ms) + ' ms' : 'under 50 ms (no long task)'} (${b.longtasks} tasks over 50 ms)`);
    }
  } finally {
    await browser.close();
    server.close();
  }
  result.download = downloadSize();
  log('download size (bytes, gzip -6):');
  for (const [name, s] of Object.entries(result.download.files)) log(`  ${name.padEnd(26)} ${s ? `${s.bytes} (${s.gzip_bytes})` : 'missing'}`);
  log(`  ${'wasm + js + weights'.padEnd(26)} ${result.download.wasm_js_weights_bytes} (${result.download.wasm_js_weights_gzip_bytes}); ` +
    `whole site ${result.download.whole_site_bytes}`);
  if (asJson) console.log(JSON.stringify(result, null, 1));
}

main().catch((err) => {
  console.error(`bench-app: ${err.message}`);
  process.exit(1);
});
