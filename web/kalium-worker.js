// web/kalium-worker.js: the Web Worker that analyses ECG files off the page's main thread.
//
// The build appends this script to Emscripten's loader of the analysis module (src/worker: kalium-worker.wasm,
// factory createKaliumAnalysis), so build/wasm/site/kalium-worker.js is both; the page starts it with
// `new Worker('kalium-worker.js')`. At start it instantiates the module and loads the model
// (model/ecg12net-1.kmodel, whose sha256 must match model/ecg12net-1.kmodel.sha256).
//
// Messages from the page:
//   {type: 'files', files: [{name, buffer: ArrayBuffer}]}   files taken in together (one drop, one pick, the
//                                                            examples); buffers are transferred
// Messages to the page:
//   {type: 'ready', model: {name, sha256}, load_ms} | {type: 'fatal', message}
//   {type: 'queued', id, name}          an entry (one file, or a WFDB .hea with its signal files) awaits analysis
//   {type: 'result', id, json, signal, lead_count, sample_count, cam, posted_epoch_ms}
//                                       json: the contract's result_json (a string); signal and cam are
//                                       Float32Arrays (transferred) or null when the analysis failed
//   {type: 'progress', done, total}     of the current batch (it ends when the queue is empty)
//   {type: 'skipped', names}            files of a folder drop ({type: 'files', folder: true}) that are no ECG
//                                       (README, images, ...): not analysed, not listed; the page says so once
//
// Grouping: a .hea takes every other file of the same message with the same stem (1.hea + 1.dat); any other
// file is an entry of its own. Files are analysed one entry at a time, in arrival order; a failure (even the
// module aborting, e.g. out of memory) becomes that entry's error and the next entry still runs.
//
// Two builds carry this script: kalium-worker.js (one thread) and kalium-worker-mt.js (-pthread; the page starts
// it as kalium-worker-mt.js?threads=2 when it is cross-origin isolated). The -pthread build's own threads load
// the same file (Emscripten's kalium-worker-mt.worker.js imports it with Module.ENVIRONMENT_IS_PTHREAD set):
// there nothing of this script may run, the module's thread code does.
/* global createKaliumAnalysis, Module */
'use strict';

const KALIUM_IS_PTHREAD = typeof Module !== 'undefined' && Module && Module.ENVIRONMENT_IS_PTHREAD === true;
const THREADS = Math.max(1, Math.min(4, Number(new URLSearchParams(self.location.search).get('threads')) || 1));

const MODEL_URL = 'model/ecg12net-1.kmodel';
const MAX_FILE_BYTES = 512 * 1024 * 1024;  // kalium::k_max_file_bytes: larger files are refused unread

let modelBytes = null;        // kept so the module can be recreated after an abort
let manifestText = '';
let modulePromise = null;     // resolves to a module with the model loaded
let modelInfo = null;
let nextId = 1;
const queue = [];             // entries waiting: {id, name, files}
let running = false;
let batchDone = 0, batchTotal = 0;

async function fetchOk(url, kind) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return kind === 'text' ? response.text() : new Uint8Array(await response.arrayBuffer());
}

// A fresh module with the model loaded (a module that aborted is never used again).
async function createModule() {
  let aborted = null;
  const Module = await createKaliumAnalysis({
    // the -pthread build's threads load this very script; inside a worker Emscripten cannot find its URL itself
    mainScriptUrlOrBlob: self.location.href,
    print: (text) => console.log(text),
    printErr: (text) => console.warn(text),
    onAbort: (what) => { aborted = String(what); },
  });
  Module.kaliumAborted = () => aborted;
  const ptr = Module._malloc(modelBytes.length);
  if (!ptr) throw new Error('model: not enough memory to load the weights');
  heapU8(Module).set(modelBytes, ptr);
  const manifestBytes = Module.lengthBytesUTF8(manifestText) + 1;
  const manifestPtr = Module._malloc(manifestBytes);
  Module.stringToUTF8(manifestText, manifestPtr, manifestBytes);
  const rc = Module._kw_load_model(ptr, modelBytes.length, manifestPtr, THREADS);
  Module._free(ptr);
  Module._free(manifestPtr);
  if (rc !== 0) throw new Error(Module.UTF8ToString(Module._kw_error()));
  return Module;
}

// The module's memory as it is now: with threads the memory is shared and may have grown on another thread
// since Module.HEAPU8 was made, so views are taken from the memory itself when the module exposes it.
function heapBuffer(Module) { return Module.wasmMemory ? Module.wasmMemory.buffer : Module.HEAPU8.buffer; }
function heapU8(Module) { return new Uint8Array(heapBuffer(Module)); }

// The first module: fetch the weights and their manifest, instantiate, load; then say so to the page.
function start() {
  const t0 = performance.now();
  modulePromise = Promise.all([fetchOk(MODEL_URL), fetchOk(MODEL_URL + '.sha256', 'text')]).then(([bytes, text]) => {
    modelBytes = bytes;
    manifestText = text;
    return createModule();
  });
  modulePromise.then((Module) => {
    modelInfo = { name: Module.UTF8ToString(Module._kw_model_name()), sha256: Module.UTF8ToString(Module._kw_model_sha256()) };
    postMessage({ type: 'ready', model: modelInfo, load_ms: performance.now() - t0, threads: THREADS });
    // Warm the network up (kw_warm_up) before the first file arrives, when it has not already: a file that
    // comes meanwhile waits for it, as it would have waited for the slower first run anyway.
    setTimeout(() => { if (!running && queue.length === 0) Module._kw_warm_up(2); }, 0);
  }, (err) => {
    postMessage({ type: 'fatal', message: `The analysis module could not start: ${err.message || err}` });
  });
}

function stem(name) {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}
function isHeader(name) { return /\.hea$/i.test(name); }

// One message's files -> entries (a .hea with its same-stem companions; any other file alone).
function group(files) {
  const headers = new Map();
  for (const f of files) if (isHeader(f.name)) headers.set(stem(f.name), { name: f.name, files: [f] });
  const entries = [];
  const seen = new Set();
  for (const f of files) {
    if (isHeader(f.name)) {
      const e = headers.get(stem(f.name));
      if (!seen.has(e)) { seen.add(e); entries.push(e); }
    } else if (headers.has(stem(f.name))) {
      const e = headers.get(stem(f.name));
      e.files.push(f);
      if (!seen.has(e)) { seen.add(e); entries.push(e); }
    } else {
      entries.push({ name: f.name, files: [f] });
    }
  }
  return entries;
}

function errorJson(id, name, message, code) {
  return JSON.stringify({ id, file: name, error: message, error_code: code || 'internal', format: '', patient_id: '',
    start_time: '', k_plus: null, k_plus_display: '', group: null, group_label: '', warnings: [],
    measurements: null, cart_measurements: null });
}

function postError(id, name, message, code) {
  postMessage({ type: 'result', id, json: errorJson(id, name, message, code), signal: null, lead_count: 0,
                sample_count: 0, cam: null });
}

// Copies Float32 results out of the module's heap (the heap may grow at the next call).
function floats(Module, ptr, count) {
  if (!ptr || count <= 0) return null;
  return new Float32Array(heapBuffer(Module), ptr, count).slice();
}

async function analyse(entry) {
  let Module;
  try {
    Module = await modulePromise;
  } catch (err) {
    postError(entry.id, entry.name, `The analysis module is not available: ${err.message || err}`, 'internal');
    return;
  }
  for (const f of entry.files) {
    if (f.buffer.byteLength > MAX_FILE_BYTES) {
      postError(entry.id, entry.name, `${f.name}: the file is ${f.buffer.byteLength} bytes, more than kalium reads ` +
        `(${MAX_FILE_BYTES} bytes)`, 'too_large');
      return;
    }
  }
  try {
    Module._kw_files_clear();
    for (const f of entry.files) {
      const bytes = new Uint8Array(f.buffer);
      const ptr = Module._malloc(Math.max(1, bytes.length));
      if (!ptr) throw new Error(`${f.name}: not enough memory for the file (${bytes.length} bytes)`);
      heapU8(Module).set(bytes, ptr);
      const nameBytes = Module.lengthBytesUTF8(f.name) + 1;
      const namePtr = Module._malloc(nameBytes);
      Module.stringToUTF8(f.name, namePtr, nameBytes);
      Module._kw_files_add(namePtr, ptr, bytes.length);  // the module owns ptr from now
      Module._free(namePtr);
      f.buffer = null;  // let the page's copy go
    }
    const count = Module._kw_analyse(entry.id, nextId);
    if (count > 1) nextId += count - 1;
    for (let i = 0; i < count; i++) {
      const json = Module.UTF8ToString(Module._kw_result_json(i));
      const id = i === 0 ? entry.id : JSON.parse(json).id;
      if (i > 0) postMessage({ type: 'queued', id, name: JSON.parse(json).file });
      const leadCount = Module._kw_result_lead_count(i), sampleCount = Module._kw_result_sample_count(i);
      const signal = floats(Module, Module._kw_result_signal(i), leadCount * sampleCount);
      const cam = floats(Module, Module._kw_result_cam(i), Module._kw_result_cam_count(i));
      const transfer = [signal, cam].filter(Boolean).map((a) => a.buffer);
      postMessage({ type: 'result', id, json, signal, lead_count: signal ? leadCount : 0,
                    sample_count: signal ? sampleCount : 0, cam, posted_epoch_ms: performance.timeOrigin + performance.now() }, transfer);
    }
    if (count === 0) postError(entry.id, entry.name, `${entry.name}: no ECG record in the file(s)`, 'bad_format');
  } catch (err) {
    const aborted = Module.kaliumAborted && Module.kaliumAborted();
    postError(entry.id, entry.name, `${entry.name}: the analysis stopped (${aborted || err.message || err}); ` +
      'the next files are analysed by a fresh module', 'internal');
    // A wasm trap or abort leaves the module unusable: start a fresh one for the next entry.
    if (modelBytes) {
      modulePromise = createModule();
      modulePromise.catch(() => {});
    }
  }
}

async function run() {
  if (running) return;
  running = true;
  while (queue.length) {
    const entry = queue.shift();
    await analyse(entry);
    batchDone++;
    postMessage({ type: 'progress', done: batchDone, total: batchTotal });
    // let messages that arrived meanwhile (more files) be queued before the next analysis
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  batchDone = 0;
  batchTotal = 0;
  running = false;
}

// The format a file looks like to the module's sniffer ("" when it is no ECG format kalium reads).
function sniff(Module, buffer) {
  const bytes = new Uint8Array(buffer);
  const ptr = Module._malloc(Math.max(1, bytes.length));
  if (!ptr) return 'unknown';  // cannot tell: keep the file, its analysis will say what is wrong
  heapU8(Module).set(bytes, ptr);
  const format = Module.UTF8ToString(Module._kw_sniff(ptr, bytes.length));
  Module._free(ptr);
  return format;
}

// A folder's files without the ones that are no ECG: every file a header of the same folder claims (its signal
// files and annotation files such as LUDB's 1.i ... 1.v6 or MIT-BIH's 100.atr, which ecg_read_all pairs with
// the record) stays; any other file stays only when the sniffer recognises an ECG format in it.
async function withoutNonEcg(files) {
  let Module;
  try {
    Module = await modulePromise;
  } catch (err) {
    return { kept: files, skipped: [] };  // no module: every file gets the module's error, as any other drop
  }
  const headers = new Set(files.filter((f) => isHeader(f.name)).map((f) => stem(f.name)));
  const kept = [], skipped = [];
  for (const f of files) {
    if (isHeader(f.name) || headers.has(stem(f.name)) || sniff(Module, f.buffer) !== '') kept.push(f);
    else skipped.push(f.name);
  }
  return { kept, skipped };
}

// Messages are taken in order even when one waits for the module (a folder's sniffing).
let intakeChain = Promise.resolve();
function onFilesMessage(event) {
  intakeChain = intakeChain.then(() => takeFiles(event.data || {})).catch((err) => console.warn('kalium worker: ' + err));
}

async function takeFiles(message) {
  if (message.type !== 'files' || !Array.isArray(message.files)) return;
  let files = message.files.filter((f) => f && typeof f.name === 'string' && f.buffer instanceof ArrayBuffer);
  if (message.folder) {
    const { kept, skipped } = await withoutNonEcg(files);
    files = kept;
    if (skipped.length) postMessage({ type: 'skipped', names: skipped });
  }
  for (const entry of group(files)) {
    entry.id = nextId++;
    queue.push(entry);
    batchTotal++;
    postMessage({ type: 'queued', id: entry.id, name: entry.name });
  }
  postMessage({ type: 'progress', done: batchDone, total: batchTotal });
  run();
}

if (!KALIUM_IS_PTHREAD) {
  self.onmessage = onFilesMessage;
  start();
}
