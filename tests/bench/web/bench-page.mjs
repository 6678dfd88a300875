// tests/bench/web/bench-page.mjs: one runtime per page, exposed as window.bench for scripts/bench-inference.mjs.
//
//   runtime=kalium     build/wasm/bench-web/kalium-bench.{js,wasm}     (kalium's kb_* C API, 1 thread)
//   runtime=kalium-mt  kalium-bench-mt.{js,wasm,worker.js}              (-pthread build; threads=N)
//   runtime=kalium&precision=int8  the int8 trunk (kb_set_int8)
//   runtime=kalium&algorithm=direct  the f32 trunk with direct convolutions (kb_set_winograd(0))
//   runtime=kalium&tile=G[,I]  kalium-bench-profile.{js,wasm}: other XNNPACK GEMM tiles (an experiment)
//   runtime=ort-web    onnxruntime-web 1.30 (wasm SIMD), ort.env.wasm.numThreads = N
//
// The page fetches the weights (ecg12net-1.kmodel) or the ONNX (ecg12net-1.onnx), the ECG file (ecg.csv) and
// the prepared input (input.bin: 12 x 1250 float32, what kalium's ecg_prepare_input made of ecg.csv) from its
// own folder. window.bench.ready resolves to {info, timeline}; window.bench.run(n) times n predictions and
// resolves to {ms: [...], k}. timeline: ms since navigation start at each stage of the cold path.
const params = new URLSearchParams(location.search);
const runtime = params.get('runtime') || 'kalium';
const threads = Number(params.get('threads') || '1');
const status = document.getElementById('status');
const timeline = {};
const mark = (name) => { timeline[name] = performance.now(); };

async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.appendChild(s);
  });
}

async function setupKalium(mt) {
  const tile = params.get('tile');   // e.g. 4x8-loadsplat,4x8-splat: the profile build's GEMM tile experiment
  const base = mt ? 'kalium-bench-mt' : tile ? 'kalium-bench-profile' : 'kalium-bench';
  await loadScript(`${base}.js`);
  mark('script_loaded');
  const factory = mt ? globalThis.createKaliumBenchMT : globalThis.createKaliumBench;
  const [Module, model, ecg] = await Promise.all([
    factory({ locateFile: (p) => p, print: () => {}, printErr: (t) => console.warn(t) }),
    fetchBytes('ecg12net-1.kmodel'), fetchBytes('ecg.csv')]);
  mark('module_ready');
  const put = (bytes) => {
    const p = Module._malloc(bytes.length);
    Module.HEAPU8.set(bytes, p);
    return p;
  };
  if (tile) {
    const spec = Module._malloc(64);
    Module.HEAPU8.set(new TextEncoder().encode(`${tile}\0`), spec);
    if (Module._kb_set_gemm_tile(spec) !== 0) throw new Error(`kb_set_gemm_tile: ${tile} is not available`);
    Module._free(spec);
  }
  if (params.get('precision') === 'int8') Module._kb_set_int8(1);   // the int8 trunk (model_options::precision)
  if (params.get('algorithm') === 'direct') Module._kb_set_winograd(0);   // the direct f32 trunk (model_options::winograd)
  const pm = put(model);
  const slot = Module._kb_load_model(pm, model.length, threads);
  Module._free(pm);
  if (slot < 0) throw new Error(`kb_load_model: ${Module.UTF8ToString(Module._kb_error())}`);
  mark('model_loaded');
  const pe = put(ecg);
  const name = Module._malloc(16);
  Module.HEAPU8.set(new TextEncoder().encode('ecg.csv\0'), name);
  const rc = Module._kb_set_ecg(pe, ecg.length, name);
  Module._free(pe);
  if (rc !== 0) throw new Error(`kb_set_ecg: ${Module.UTF8ToString(Module._kb_error())}`);
  mark('ecg_prepared');
  const predict = () => {
    const ms = Module._kb_predict(slot);
    if (ms < 0) throw new Error(`kb_predict: ${Module.UTF8ToString(Module._kb_error())}`);
    return ms;
  };
  const first = predict();
  mark('first_result');
  return {
    info: { runtime: mt ? 'kalium-wasm-pthreads' : 'kalium-wasm', threads, first_ms: first,
            threads_supported: Module._kb_threads_supported() === 1, cross_origin_isolated: crossOriginIsolated },
    run: async (n) => {
      const ms = [];
      for (let i = 0; i < n; i++) ms.push(predict());
      return { ms, k: Module._kb_last_k(), heap_bytes: Module._kb_peak_memory_bytes(), malloc_peak_bytes: Module._kb_malloc_peak_bytes() };
    },
  };
}

async function setupOrt() {
  const ort = await import('./ort/ort.wasm.min.mjs');
  mark('script_loaded');
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.wasmPaths = new URL('./ort/', location.href).href;
  const [onnx, input] = await Promise.all([fetchBytes('ecg12net-1.onnx'), fetchBytes('input.bin')]);
  const session = await ort.InferenceSession.create(onnx, {
    executionProviders: ['wasm'], graphOptimizationLevel: 'all', executionMode: 'sequential',
    intraOpNumThreads: threads, interOpNumThreads: 1,
  });
  mark('model_loaded');
  const x = new ort.Tensor('float32', new Float32Array(input.buffer, input.byteOffset, 12 * 1250), [1, 12, 1250]);
  const once = async () => {
    const t0 = performance.now();
    const out = await session.run({ ecg: x });
    const t1 = performance.now();
    return { ms: t1 - t0, k: out.k.data[0] };
  };
  const first = await once();
  mark('first_result');
  return {
    info: { runtime: 'ort-web', threads, first_ms: first.ms, cross_origin_isolated: crossOriginIsolated,
            ort_num_threads: ort.env.wasm.numThreads },
    run: async (n) => {
      const ms = [];
      let k = 0;
      for (let i = 0; i < n; i++) {
        const r = await once();
        ms.push(r.ms);
        k = r.k;
      }
      return { ms, k };
    },
  };
}

let impl = null;
window.bench = {
  ready: (async () => {
    impl = runtime === 'ort-web' ? await setupOrt() : await setupKalium(runtime === 'kalium-mt');
    status.textContent = 'ready';
    return { info: impl.info, timeline };
  })().catch((err) => {
    status.textContent = `error: ${err.message}`;
    throw err;
  }),
  run: (n) => impl.run(n),
};
