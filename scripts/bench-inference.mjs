#!/usr/bin/env node
// scripts/bench-inference.mjs: ECG12Net inference time, kalium against onnxruntime, on one real ECG (batch 1).
// Run by scripts/bench (which builds what it needs first); by hand, after building bench-ecg12net natively and
// bench-ecg12net-web (+ -mt) in the wasm preset:
//
//   node scripts/bench-inference.mjs [--json] [--rounds 7] [--per-round 3] [--cold 3] [--no-browser]
//                                    [--tile 4x8-loadsplat,4x8-splat ...]   (needs bench-ecg12net-profile-web)
//
// Runtimes (each set up once, warmed, then timed in interleaved rounds A B C ... A B C ... so that the load of
// the machine falls on all of them alike):
//   kalium native 1/2 threads       build/native/bin/bench-ecg12net --serve (a child process)
//   onnxruntime-node 1/2 threads    intraOpNumThreads, executionMode sequential, graphOptimizationLevel all
//   onnxruntime-web node 1 thread   wasm SIMD, in a worker thread (its own JS realm)
//   kalium wasm node 1 thread       build/wasm/bench-web/kalium-bench.{js,wasm}, in a worker thread too
//   headless Chromium (one page each, served with COOP/COEP by scripts/serve.mjs, page in tests/bench/web):
//     onnxruntime-web 1/2 threads, kalium wasm 1 thread, kalium wasm 2 threads (-pthread build, if built)
// Also: the standalone wasm command line under node (bench-ecg12net.js, heap size), the download size of the app
// (build/wasm/site/*.wasm, *.js + the weights) and the cold start of kalium wasm in Chromium (navigation start to
// the first K+, in a fresh browser context).
//
// The ONNX is exported from whatever model/ecg12net-1.kmodel is present (model/export.py), cached in build/bench
// by the kmodel's sha256. Every runtime's K+ is printed, so a mismatch between kalium and the ONNX shows.
// The latest result is also written to build/bench/inference.json.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import zlib from 'node:zlib';

const require = createRequire(import.meta.url);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GFLOP = 5.93;                                            // per ECG (RESULTS.md)
const CEILING = { chromium: 49, node: 45, native: 220 };        // GFLOP/s per core (RESULTS.md)
const MODEL_NAME = 'ecg12net-1';
const PAUSE_AFTER_THREADS_MS = Number(process.env.KALIUM_BENCH_PAUSE_AFTER_THREADS_MS || 2000);

// ---- workers: each wasm runtime in node runs in a worker thread of its own (its own JS realm and isolate) ----
async function workerMain() {
  let run;
  if (workerData.role === 'ort-web') {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = workerData.threads;
    const session = await ort.InferenceSession.create(workerData.onnx, {
      executionProviders: ['wasm'], graphOptimizationLevel: 'all', executionMode: 'sequential',
      intraOpNumThreads: workerData.threads, interOpNumThreads: 1,
    });
    const x = new ort.Tensor('float32', new Float32Array(workerData.input), [1, 12, 1250]);
    run = async (n) => {
      const ms = [];
      let k = 0;
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const out = await session.run({ ecg: x });
        ms.push(performance.now() - t0);
        k = out.k.data[0];
      }
      return { ms, k };
    };
  } else {
    const kalium = await startKaliumWasmNode(workerData.dir, workerData.kmodel, workerData.ecgFile);
    run = async (n) => ({ ...(await kalium.run(n)), load_ms: kalium.loadMs });
  }
  parentPort.on('message', async (n) => parentPort.postMessage(await run(n)));
  parentPort.postMessage({ ready: true });
}

// ---- helpers -------------------------------------------------------------------------------------------------
function option(args, name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}
const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
};
const round = (x, d = 2) => (Number.isFinite(x) ? Number(x.toFixed(d)) : null);
const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').trim();
function log(...a) { process.stderr.write(`bench-inference: ${a.join(' ')}\n`); }

// The ONNX of the present weights, regenerated when the kmodel's sha256 changes.
function ensureOnnx(kmodel, outDir) {
  const onnx = path.join(outDir, `${MODEL_NAME}.onnx`);
  const stamp = `${onnx}.from-kmodel-sha256`;
  const digest = sha256(kmodel);
  if (fs.existsSync(onnx) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8').trim() === digest) return onnx;
  log(`exporting ${path.relative(repo, onnx)} from ${path.relative(repo, kmodel)} (sha256 ${digest.slice(0, 12)}...)`);
  const code = [
    'import sys', `sys.path.insert(0, ${JSON.stringify(path.join(repo, 'model'))})`,
    'import torch', 'torch.set_num_threads(1)', 'import export',
    `net, header = export.load_weights(${JSON.stringify(kmodel)})`,
    `export.export_onnx(net, ${JSON.stringify(onnx + '.tmp')})`,
  ].join('\n');
  const r = spawnSync('nice', ['-n', '10', '/usr/bin/python3', '-W', 'ignore', '-c', code],
    { env: { ...process.env, OMP_NUM_THREADS: '1' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ONNX export failed:\n${r.stderr}`);
  fs.renameSync(`${onnx}.tmp`, onnx);
  fs.writeFileSync(stamp, `${digest}\n`);
  return onnx;
}

// kalium native: bench-ecg12net --serve, "run <threads> <n>" -> one JSON line.
async function startNative(exe, kmodel, inputBin, extra = []) {
  const child = spawn(exe, ['--serve', '--threads', '1,2', '--model', kmodel, '--dump-input', inputBin, ...extra],
    { cwd: repo, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const queue = [];
  const waiting = [];
  let exited = null;
  lines.on('line', (l) => (waiting.length ? waiting.shift().resolve(l) : queue.push(l)));
  child.on('exit', (code) => {
    exited = new Error(`bench-ecg12net exited (${code})`);
    while (waiting.length) waiting.shift().reject(exited);
  });
  const next = () => new Promise((resolve, reject) => {
    if (queue.length) return resolve(queue.shift());
    if (exited) return reject(exited);
    waiting.push({ resolve, reject });
  });
  const loads = {};
  for (;;) {
    const msg = JSON.parse(await next());
    if (msg.loaded) loads[msg.loaded] = msg.load_ms;
    if (msg.ready) {
      return {
        ecg: msg.ecg, loads,
        run: async (threads, n) => {
          child.stdin.write(`run ${threads} ${n}\n`);
          const r = JSON.parse(await next());
          if (r.error) throw new Error(`bench-ecg12net: ${r.error}`);
          return r;
        },
        stop: () => { child.stdin.end('quit\n'); },
      };
    }
  }
}

// kalium wasm in node (the browser module, environment web,worker,node), in the calling realm (a worker).
async function startKaliumWasmNode(dir, kmodel, ecgFile) {
  const factory = require(path.join(dir, 'kalium-bench.js'));
  const Module = await factory({ wasmBinary: fs.readFileSync(path.join(dir, 'kalium-bench.wasm')), print: () => {}, printErr: () => {} });
  const put = (bytes) => {
    const p = Module._malloc(bytes.length);
    Module.HEAPU8.set(bytes, p);
    return p;
  };
  const model = fs.readFileSync(kmodel);
  const t0 = performance.now();
  const pm = put(model);
  const slot = Module._kb_load_model(pm, model.length, 1);
  Module._free(pm);
  if (slot < 0) throw new Error(`kalium wasm: ${Module.UTF8ToString(Module._kb_error())}`);
  const loadMs = performance.now() - t0;
  const ecg = fs.readFileSync(ecgFile);
  const pe = put(ecg);
  const name = Module._malloc(64);
  Module.stringToUTF8 ? Module.stringToUTF8(path.basename(ecgFile), name, 64) : Module.HEAPU8.set(Buffer.from(`${path.basename(ecgFile)}\0`), name);
  if (Module._kb_set_ecg(pe, ecg.length, name) !== 0) throw new Error(`kalium wasm: ${Module.UTF8ToString(Module._kb_error())}`);
  Module._free(pe);
  return {
    loadMs,
    run: async (n) => {
      const ms = [];
      for (let i = 0; i < n; i++) {
        const t = Module._kb_predict(slot);
        if (t < 0) throw new Error(`kalium wasm: ${Module.UTF8ToString(Module._kb_error())}`);
        ms.push(t);
      }
      return { ms, k: Module._kb_last_k(), heap_bytes: Module._kb_peak_memory_bytes(), malloc_peak_bytes: Module._kb_malloc_peak_bytes() };
    },
  };
}

async function startOrtNode(onnx, input, threads) {
  const ort = require('onnxruntime-node');
  const session = await ort.InferenceSession.create(onnx, {
    executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const x = new ort.Tensor('float32', input, [1, 12, 1250]);
  return {
    run: async (n) => {
      const ms = [], cpu = [];
      let k = 0;
      for (let i = 0; i < n; i++) {
        const c0 = process.cpuUsage(), t0 = performance.now();
        const out = await session.run({ ecg: x });
        const t1 = performance.now(), c1 = process.cpuUsage(c0);
        ms.push(t1 - t0);
        cpu.push((c1.user + c1.system) / 1000);
        k = out.k.data[0];
      }
      return { ms, cpu_ms: cpu, k };
    },
  };
}

async function startNodeWorker(data) {
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: data });
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    run: (n) => new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage(n);
    }),
    stop: () => worker.terminate(),
  };
}

// The page's folder: the page, the kalium bench modules, onnxruntime-web's wasm build, the model files, the ECG.
function assembleWebRoot(webRoot, { kmodel, onnx, inputBin, ecgFile, benchWebDir }) {
  fs.rmSync(webRoot, { recursive: true, force: true });
  fs.mkdirSync(path.join(webRoot, 'ort'), { recursive: true });
  const copy = (from, to) => fs.copyFileSync(from, path.join(webRoot, to));
  for (const f of fs.readdirSync(path.join(repo, 'tests/bench/web'))) copy(path.join(repo, 'tests/bench/web', f), f);
  let mt = false;
  for (const f of fs.readdirSync(benchWebDir)) {
    copy(path.join(benchWebDir, f), f);
    if (f === 'kalium-bench-mt.js') mt = true;
  }
  const ortDist = path.join(repo, 'node_modules/onnxruntime-web/dist');
  for (const f of ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']) copy(path.join(ortDist, f), `ort/${f}`);
  copy(kmodel, `${MODEL_NAME}.kmodel`);
  copy(onnx, `${MODEL_NAME}.onnx`);
  copy(inputBin, 'input.bin');
  copy(ecgFile, 'ecg.csv');
  return { mt };
}

const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic', '--disable-default-apps', '--mute-audio',
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
];

async function openBenchPage(browser, url, problems) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`${url}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`${url}: ${e.message}`));
  await page.goto(url);
  const ready = await page.evaluate(() => window.bench.ready);
  return { context, page, ready };
}

function summarize(samples, extra = {}) {
  const ms = samples.flatMap((s) => s.ms);
  const cpu = samples.flatMap((s) => s.cpu_ms || []);
  const med = median(ms);
  const out = { median_ms: round(med), min_ms: round(Math.min(...ms)), n: ms.length, gflops: round(GFLOP / (med / 1000), 1),
    round_medians_ms: samples.map((s) => round(median(s.ms), 1)) };
  if (cpu.length) out.cpu_median_ms = round(median(cpu));
  const last = samples[samples.length - 1];
  if (last && last.k !== undefined) out.k = round(last.k, 5);
  if (last && last.heap_bytes !== undefined) out.wasm_heap_bytes = last.heap_bytes;
  if (last && last.malloc_peak_bytes !== undefined) out.wasm_malloc_peak_bytes = last.malloc_peak_bytes;
  if (last && last.peak_memory_bytes !== undefined) out.peak_rss_bytes = last.peak_memory_bytes;
  return { ...out, ...extra };
}

async function main() {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const rounds = Number(option(args, '--rounds', '7'));
  const perRound = Number(option(args, '--per-round', '3'));
  const coldRuns = Number(option(args, '--cold', '3'));
  const browserOn = !args.includes('--no-browser');
  // --tile G[,I] (repeatable): also kalium wasm in Chromium with other XNNPACK GEMM tiles (bench-ecg12net-profile-web)
  const tiles = args.flatMap((a, i) => (a === '--tile' ? [args[i + 1]] : []));
  const kmodel = path.join(repo, 'model', `${MODEL_NAME}.kmodel`);
  const outDir = path.join(repo, 'build/bench');
  fs.mkdirSync(outDir, { recursive: true });
  // The build trees (KALIUM_BENCH_NATIVE_DIR / KALIUM_BENCH_WASM_DIR: other build directories of the same presets)
  const nativeDir = path.resolve(repo, process.env.KALIUM_BENCH_NATIVE_DIR || 'build/native');
  const wasmDir = path.resolve(repo, process.env.KALIUM_BENCH_WASM_DIR || 'build/wasm');
  const nativeExe = path.join(nativeDir, 'bin/bench-ecg12net');
  const benchWebDir = path.join(wasmDir, 'bench-web');
  const wasmCli = path.join(wasmDir, 'bin/bench-ecg12net.js');
  for (const f of [kmodel, nativeExe, path.join(benchWebDir, 'kalium-bench.js'), wasmCli]) {
    if (!fs.existsSync(f)) throw new Error(`${path.relative(repo, f)} is missing: run ./scripts/bench (it builds what it needs)`);
  }
  const result = {
    when: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, loadavg_start: loadavg(), node: process.version },
    gflop_per_ecg: GFLOP, ceiling_gflops_per_core: CEILING,
    model: { file: path.relative(repo, kmodel), sha256: sha256(kmodel) },
    config: { rounds, per_round: perRound, warmup_per_runtime: 3 },
  };

  const onnx = ensureOnnx(kmodel, outDir);
  const inputBin = path.join(outDir, 'input.bin');
  log('starting kalium native');
  const native = await startNative(nativeExe, kmodel, inputBin);
  const nativeInt8 = await startNative(nativeExe, kmodel, path.join(outDir, 'input-int8.bin'), ['--precision', 'int8']);
  const nativeDirect = await startNative(nativeExe, kmodel, path.join(outDir, 'input-direct.bin'), ['--direct']);
  const ecgFile = path.join(repo, 'build/data/hmc/ecg', native.ecg);
  const inputBytes = fs.readFileSync(inputBin);
  const input = new Float32Array(inputBytes.buffer.slice(inputBytes.byteOffset, inputBytes.byteOffset + inputBytes.byteLength));
  result.ecg = path.relative(repo, ecgFile);
  result.model.onnx = path.relative(repo, onnx);

  // The standalone wasm command line (not interleaved): its own timing and the heap it ends with.
  log('running the wasm command line under node');
  const cli = spawnSync('node', ['--no-experimental-fetch', wasmCli, '--json', '--runs', '5', '--warmup', '3', '--ecg', ecgFile],
    { cwd: repo, encoding: 'utf8' });
  if (cli.status === 0) {
    const r = JSON.parse(cli.stdout).results[0];
    result.kalium_wasm_node_cli = { median_ms: round(r.median_ms), min_ms: round(r.min_ms), load_ms: round(r.load_ms, 1),
      heap_bytes: r.peak_memory_bytes, malloc_peak_bytes: r.malloc_peak_bytes, k: round(r.k, 5) };
  } else {
    result.kalium_wasm_node_cli = { error: cli.stderr.trim().split('\n').slice(-3).join(' ') };
  }

  log('setting up the node runtimes');
  const runtimes = [];   // {key, label, where, threads, run(n)}
  runtimes.push({ key: 'kalium_native_1t', label: 'kalium native (XNNPACK)', where: 'native', threads: 1, run: (n) => native.run(1, n) });
  runtimes.push({ key: 'kalium_native_2t', label: 'kalium native (XNNPACK)', where: 'native', threads: 2, run: (n) => native.run(2, n) });
  runtimes.push({ key: 'kalium_native_1t_int8', label: 'kalium native, int8 trunk', where: 'native', threads: 1,
    run: (n) => nativeInt8.run(1, n) });
  runtimes.push({ key: 'kalium_native_1t_direct', label: 'kalium native, direct k3 (no Winograd)', where: 'native', threads: 1,
    run: (n) => nativeDirect.run(1, n) });
  const ort1 = await startOrtNode(onnx, input, 1);
  const ort2 = await startOrtNode(onnx, input, 2);
  runtimes.push({ key: 'ort_node_1t', label: 'onnxruntime-node 1.30', where: 'native', threads: 1, run: ort1.run });
  runtimes.push({ key: 'ort_node_2t', label: 'onnxruntime-node 1.30', where: 'native', threads: 2, run: ort2.run });
  const ortWebNode = await startNodeWorker({ role: 'ort-web', onnx: fs.readFileSync(onnx), threads: 1,
    input: input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength) });
  runtimes.push({ key: 'ort_web_node_1t', label: 'onnxruntime-web 1.30 (wasm SIMD)', where: 'node', threads: 1, run: ortWebNode.run });
  const kwn = await startNodeWorker({ role: 'kalium-wasm', dir: benchWebDir, kmodel, ecgFile });
  runtimes.push({ key: 'kalium_wasm_node_1t', label: 'kalium wasm (XNNPACK, SIMD)', where: 'node', threads: 1, run: kwn.run });

  let browser = null, server = null;
  const problems = [];
  const pages = [];
  if (browserOn) {
    log('starting headless Chromium');
    const webRoot = path.join(outDir, 'web');
    const { mt } = assembleWebRoot(webRoot, { kmodel, onnx, inputBin, ecgFile, benchWebDir });
    const { startServer } = await import('./serve.mjs');
    ({ server } = await startServer({ root: webRoot, port: 0 }).then((s) => { result.browser_url = s.url; return s; }));
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: process.env.KALIUM_CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
    result.machine.chromium = browser.version();
    const specs = [
      ['ort_web_chromium_1t', 'onnxruntime-web 1.30 (wasm SIMD)', 'ort-web', 1],
      ['ort_web_chromium_2t', 'onnxruntime-web 1.30 (wasm SIMD)', 'ort-web', 2],
      ['kalium_wasm_chromium_1t', 'kalium wasm (XNNPACK, SIMD)', 'kalium', 1],
      ['kalium_wasm_chromium_1t_int8', 'kalium wasm, int8 trunk', 'kalium', 1, null, 'int8'],
      ['kalium_wasm_chromium_1t_direct', 'kalium wasm, direct k3 (no Winograd)', 'kalium', 1, null, null, 'direct'],
    ];
    if (mt) specs.push(['kalium_wasm_chromium_2t', 'kalium wasm (XNNPACK, SIMD, pthreads)', 'kalium-mt', 2]);
    for (const tile of tiles) specs.push([`kalium_wasm_chromium_1t_tile_${tile}`, `kalium wasm, tile ${tile}`, 'kalium', 1, tile]);
    for (const [key, label, rt, threads, tile, precision, algorithm] of specs) {
      try {
        const query = `runtime=${rt}&threads=${threads}${tile ? `&tile=${encodeURIComponent(tile)}` : ''}` +
                      `${precision ? `&precision=${precision}` : ''}${algorithm ? `&algorithm=${algorithm}` : ''}`;
        const p = await openBenchPage(browser, `${result.browser_url}index.html?${query}`, problems);
        pages.push(p);
        runtimes.push({ key, label, where: 'chromium', threads, info: p.ready.info,
          run: async (n) => { await p.page.bringToFront(); return p.page.evaluate((m) => window.bench.run(m), n); } });
      } catch (err) {
        problems.push(`${key}: ${err.message}`);
      }
    }
  }

  // --only KEY,KEY...: time only these runtimes (the others are set up but stay idle), e.g. to see how much
  // the rest of the run disturbs them
  const only = option(args, '--only', '');
  if (only) {
    const keep = new Set(only.split(','));
    for (let i = runtimes.length - 1; i >= 0; i--) if (!keep.has(runtimes[i].key)) runtimes.splice(i, 1);
  }
  log(`warming up ${runtimes.length} runtimes`);
  for (const r of runtimes) await r.run(3);
  const samples = Object.fromEntries(runtimes.map((r) => [r.key, []]));
  // Each round runs the runtimes in its own order (a fixed-seed shuffle), so that no runtime always follows the
  // same one: whatever one leaves behind (threads still spinning, caches, clock) falls on each in turn.
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  for (let i = 0; i < rounds; i++) {
    log(`round ${i + 1}/${rounds} (load ${loadavg().split(' ').slice(0, 3).join(' ')})`);
    const order = runtimes.slice();
    for (let j = order.length - 1; j > 0; j--) {
      const k = Math.floor(random() * (j + 1));
      [order[j], order[k]] = [order[k], order[j]];
    }
    let previous = null;
    for (const r of order) {
      // a pause between runtimes: thread pools that spin after a run (onnxruntime's do) go to sleep. After a
      // 2-thread page in Chromium a 1-thread runtime was 50 % slower in some rounds with 300 ms (BENCHMARKS.md,
      // "Pitfalls"): those get PAUSE_AFTER_THREADS_MS.
      const pause = previous && previous.threads > 1 ? PAUSE_AFTER_THREADS_MS : 300;
      await new Promise((resolve) => setTimeout(resolve, pause));
      previous = r;
      samples[r.key].push(await r.run(perRound));
    }
  }
  result.machine.loadavg_end = loadavg();
  result.runtimes = {};
  for (const r of runtimes) {
    const s = summarize(samples[r.key], { label: r.label, where: r.where, threads: r.threads });
    s.ceiling_fraction = round(s.gflops / (CEILING[r.where] * r.threads), 3);
    if (r.info?.cross_origin_isolated !== undefined) s.cross_origin_isolated = r.info.cross_origin_isolated;
    result.runtimes[r.key] = s;
  }
  if (result.runtimes.kalium_native_1t) result.runtimes.kalium_native_1t.load_ms = round(native.loads[1], 1);
  if (result.runtimes.kalium_wasm_node_1t) result.runtimes.kalium_wasm_node_1t.load_ms = round(samples.kalium_wasm_node_1t[0]?.load_ms, 1);

  // Cold start: a fresh context (empty cache), navigation start to the first K+.
  if (browser) {
    result.cold_start_chromium = {};
    for (const [key, rt] of [['kalium_wasm_1t', 'kalium'], ['ort_web_1t', 'ort-web']]) {
      const runs = [];
      for (let i = 0; i < coldRuns; i++) {
        try {
          const p = await openBenchPage(browser, `${result.browser_url}index.html?runtime=${rt}&threads=1&cold=1`, problems);
          runs.push(p.ready.timeline);
          await p.context.close();
        } catch (err) {
          problems.push(`cold ${key}: ${err.message}`);
        }
      }
      if (runs.length) {
        const stages = {};
        for (const stage of Object.keys(runs[0])) stages[`${stage}_ms`] = round(median(runs.map((t) => t[stage])), 0);
        result.cold_start_chromium[key] = { runs: runs.length, ...stages };
      }
    }
  }
  for (const p of pages) await p.context.close();
  if (browser) await browser.close();
  if (server) server.close();
  native.stop();
  nativeInt8.stop();
  nativeDirect.stop();
  ortWebNode.stop();
  kwn.stop();

  // Download size of the app: what a first visit fetches (site wasm + js, weights).
  const site = path.join(path.resolve(repo, process.env.KALIUM_BENCH_WASM_DIR || 'build/wasm'), 'site');
  const files = fs.existsSync(site) ? fs.readdirSync(site).filter((f) => /\.(wasm|js)$/.test(f)).map((f) => path.join(site, f)) : [];
  files.push(kmodel);
  const sizes = files.map((f) => {
    const b = fs.readFileSync(f);
    return { file: path.relative(repo, f), bytes: b.length, gzip_bytes: zlib.gzipSync(b, { level: 9 }).length };
  });
  const sum = (k) => sizes.reduce((a, s) => a + s[k], 0);
  const engine = fs.statSync(path.join(benchWebDir, 'kalium-bench.wasm')).size;
  const linked = fs.existsSync(path.join(site, 'kalium-worker.wasm'));
  result.download = { files: sizes, total_bytes: sum('bytes'), total_gzip_bytes: sum('gzip_bytes'),
    note: linked ? 'the app: kalium.{js,wasm} (UI), kalium-worker.{js,wasm} (reading + engine, in a Web Worker), the page scripts and the weights'
                 : 'build/wasm/site has no worker module yet; kalium-bench.wasm (core + engine, no UI) is ' +
                   `${engine} bytes, an upper bound on what linking it adds`,
    bench_wasm_bytes: engine };

  // Ratios and targets (issue 5).
  const rt = result.runtimes;
  const ratio = (a, b) => (rt[a] && rt[b] ? round(rt[a].median_ms / rt[b].median_ms, 3) : null);
  const speedup = (one, two) => (rt[one] && rt[two] ? round(rt[one].median_ms / rt[two].median_ms, 2) : null);
  result.ratio_browser_1t_vs_ort_web = ratio('kalium_wasm_chromium_1t', 'ort_web_chromium_1t');
  result.ratio_native_1t_vs_ort_node = ratio('kalium_native_1t', 'ort_node_1t');
  // Reduced arithmetic (the int8 trunk; its |delta K+| on the validation ECGs: scripts/bench-precision.mjs)
  result.ratio_browser_1t_int8_vs_ort_web = ratio('kalium_wasm_chromium_1t_int8', 'ort_web_chromium_1t');
  result.ratio_native_1t_int8_vs_ort_node = ratio('kalium_native_1t_int8', 'ort_node_1t');
  // The same f32 network with direct k3 convolutions (the XNNPACK subgraph, before Winograd): what Winograd gains
  result.ratio_browser_1t_direct_vs_ort_web = ratio('kalium_wasm_chromium_1t_direct', 'ort_web_chromium_1t');
  result.ratio_native_1t_direct_vs_ort_node = ratio('kalium_native_1t_direct', 'ort_node_1t');
  result.ratio_native_1t_vs_ort_node_cpu = rt.kalium_native_1t?.cpu_median_ms && rt.ort_node_1t?.cpu_median_ms
    ? round(rt.kalium_native_1t.cpu_median_ms / rt.ort_node_1t.cpu_median_ms, 3) : null;
  result.ratio_node_wasm_1t_vs_ort_web_node = ratio('kalium_wasm_node_1t', 'ort_web_node_1t');
  // Paired per round: the ratio of the two runtimes' medians within each round, then the median over rounds. The
  // machine's state drifts (a shared host: the same command ran 104 ms and 137 ms a minute apart), and a round
  // sees both runtimes in about the same state, so these are steadier than the ratio of the overall medians.
  const paired = (a, b) => {
    const ra = rt[a]?.round_medians_ms, rb = rt[b]?.round_medians_ms;
    return ra && rb && ra.length === rb.length ? round(median(ra.map((x, i) => x / rb[i])), 3) : null;
  };
  result.paired_per_round = {
    ratio_browser_1t_vs_ort_web: paired('kalium_wasm_chromium_1t', 'ort_web_chromium_1t'),
    ratio_native_1t_vs_ort_node: paired('kalium_native_1t', 'ort_node_1t'),
    ratio_browser_1t_int8_vs_ort_web: paired('kalium_wasm_chromium_1t_int8', 'ort_web_chromium_1t'),
    ratio_browser_1t_direct_vs_ort_web: paired('kalium_wasm_chromium_1t_direct', 'ort_web_chromium_1t'),
    speedup_2t_kalium_wasm_chromium: paired('kalium_wasm_chromium_1t', 'kalium_wasm_chromium_2t'),
    speedup_2t_ort_web_chromium: paired('ort_web_chromium_1t', 'ort_web_chromium_2t'),
    speedup_2t_kalium_native: paired('kalium_native_1t', 'kalium_native_2t'),
  };
  result.speedup_2t = {
    kalium_native: speedup('kalium_native_1t', 'kalium_native_2t'),
    ort_node: speedup('ort_node_1t', 'ort_node_2t'),
    ort_web_chromium: speedup('ort_web_chromium_1t', 'ort_web_chromium_2t'),
    kalium_wasm_chromium: speedup('kalium_wasm_chromium_1t', 'kalium_wasm_chromium_2t'),
  };
  const heap = Math.max(rt.kalium_wasm_chromium_1t?.wasm_heap_bytes || 0, rt.kalium_wasm_node_1t?.wasm_heap_bytes || 0,
    rt.kalium_wasm_chromium_2t?.wasm_heap_bytes || 0, result.kalium_wasm_node_cli?.heap_bytes || 0);
  result.wasm_peak_memory_bytes = heap || null;   // the linear memory's size (what the page holds)
  result.wasm_malloc_peak_bytes = Math.max(rt.kalium_wasm_chromium_1t?.wasm_malloc_peak_bytes || 0,
    rt.kalium_wasm_node_1t?.wasm_malloc_peak_bytes || 0, result.kalium_wasm_node_cli?.malloc_peak_bytes || 0) || null;
  const check = (value, ok) => ({ value, pass: value === null ? null : ok(value) });
  result.targets = {
    browser_1t_le_0_65x_ort_web: check(result.ratio_browser_1t_vs_ort_web, (v) => v <= 0.65),
    native_1t_le_ort_node: check(result.ratio_native_1t_vs_ort_node, (v) => v <= 1.0),
    browser_2t_ge_1_7x_1t: check(result.speedup_2t.kalium_wasm_chromium, (v) => v >= 1.7),
    wasm_peak_memory_le_64mb: check(heap ? round(heap / 1048576, 2) : null, (v) => v <= 64),   // MiB
    download_le_8mb: check(round(result.download.total_bytes / 1048576, 2), (v) => v <= 8),
  };
  if (problems.length) result.problems = problems;
  fs.writeFileSync(path.join(outDir, 'inference.json'), `${JSON.stringify(result, null, 1)}\n`);   // the latest run

  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
    return;
  }
  const p = (s, w) => String(s ?? '-').padStart(w);
  console.log(`ECG12Net inference, batch 1, ${GFLOP} GFLOP per ECG; ${result.ecg}; ${rounds} interleaved rounds x ${perRound}`);
  console.log(`machine: ${result.machine.cpu}, ${result.machine.cores} cores; loadavg ${result.machine.loadavg_start} -> ${result.machine.loadavg_end}`);
  console.log(`${'runtime'.padEnd(40)} ${'where'.padEnd(9)} ${p('thr', 3)} ${p('median ms', 10)} ${p('min ms', 8)} ${p('cpu ms', 8)} ${p('GFLOP/s', 8)} ${p('ceiling', 8)} ${p('K', 8)}`);
  for (const [key, s] of Object.entries(rt)) {
    console.log(`${s.label.padEnd(40)} ${s.where.padEnd(9)} ${p(s.threads, 3)} ${p(s.median_ms, 10)} ${p(s.min_ms, 8)} ${p(s.cpu_median_ms, 8)} ` +
      `${p(s.gflops, 8)} ${p(s.ceiling_fraction === null ? null : `${Math.round(s.ceiling_fraction * 100)}%`, 8)} ${p(s.k, 8)}`);
  }
  const c = result.kalium_wasm_node_cli;
  if (c) console.log(`kalium wasm command line under node: ${c.error ?? `median ${c.median_ms} ms, min ${c.min_ms} ms, heap ${(c.heap_bytes / 1048576).toFixed(1)} MiB`}`);
  console.log(`ratio_browser_1t_vs_ort_web ${result.ratio_browser_1t_vs_ort_web} (target <= 0.65); ratio_native_1t_vs_ort_node ` +
    `${result.ratio_native_1t_vs_ort_node} (target <= 1; on CPU time ${result.ratio_native_1t_vs_ort_node_cpu})`);
  console.log(`reduced arithmetic (int8 trunk): ratio_browser_1t_int8_vs_ort_web ${result.ratio_browser_1t_int8_vs_ort_web}, ` +
    `ratio_native_1t_int8_vs_ort_node ${result.ratio_native_1t_int8_vs_ort_node} (|delta K+|: scripts/bench-precision.mjs)`);
  console.log(`direct k3 convolutions (no Winograd): ratio_browser_1t_direct_vs_ort_web ${result.ratio_browser_1t_direct_vs_ort_web}, ` +
    `ratio_native_1t_direct_vs_ort_node ${result.ratio_native_1t_direct_vs_ort_node}`);
  console.log(`paired per round (median of the rounds' ratios): ${Object.entries(result.paired_per_round).map(([k, v]) => `${k} ${v ?? 'n/a'}`).join(', ')}`);
  console.log(`2-thread speedups: ${Object.entries(result.speedup_2t).map(([k, v]) => `${k} ${v ?? 'n/a'}`).join(', ')} (target >= 1.7 in the browser)`);
  console.log(`wasm peak memory ${heap ? (heap / 1048576).toFixed(2) : '-'} MiB heap, malloc peak ` +
    `${result.wasm_malloc_peak_bytes ? (result.wasm_malloc_peak_bytes / 1048576).toFixed(2) : '-'} MiB (target <= 64); download ${(result.download.total_bytes / 1048576).toFixed(2)} MiB ` +
    `(gzip ${(result.download.total_gzip_bytes / 1048576).toFixed(2)} MiB; target <= 8 MB)`);
  for (const [k, v] of Object.entries(result.cold_start_chromium || {})) {
    console.log(`cold start in Chromium, ${k}: first result ${v.first_result_ms} ms after navigation start (median of ${v.runs})`);
  }
  if (problems.length) console.log(`problems: ${problems.join('; ')}`);
}

if (isMainThread) {
  main().catch((err) => {
    console.error(`bench-inference: ${err.stack || err.message}`);
    process.exit(1);
  });
} else {
  await workerMain();
}
