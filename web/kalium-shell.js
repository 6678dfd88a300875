// web/kalium-shell.js: the page's JavaScript around the two WebAssembly modules (app contract, DATA side).
//   - configures Emscripten's Module for the app (kalium.js: the ImGui view on the canvas) before it loads;
//   - file intake: a drop anywhere on the page, input#kalium-open ("Open ECG files"), the bundled examples;
//     every file goes to the analysis worker (kalium-worker.js); the page's thread never reads or predicts;
//   - hands each worker message to the app (kalium_web_file_queued / kalium_web_result / kalium_web_progress);
//   - window.kalium: the functions the app calls (openFilePicker, loadExamples, select, exportResults,
//     mirrorView, downloadBytes), plus ready/fatal for the app's start and the view's calibration store;
//   - the DOM mirror for screen readers and tests: #kalium-result, table#kalium-worklist, #kalium-view,
//     #kalium-progress;
//   - CSV and JSON export of every result as downloads;
//   - registers the service worker (sw.js) so the app works offline after one visit.
// Nothing here sends anything anywhere: the only requests are for the site's own files.
'use strict';

(function () {
  const canvas = document.getElementById('canvas');
  const statusBox = document.getElementById('kalium-status');
  const fileInput = document.getElementById('kalium-open');
  const resultBox = document.getElementById('kalium-result');
  const worklistBody = document.querySelector('#kalium-worklist tbody');
  const viewBox = document.getElementById('kalium-view');
  const progressBar = document.getElementById('kalium-progress');
  const skippedBox = document.getElementById('kalium-skipped');

  const GROUP_KEYS = ['<=2.5', '2.5-3.5', '3.5-5.5', '5.5-6.5', '>=6.5'];
  const LEADS = ['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'];
  const CALIBRATION_KEY = 'kalium.css_px_per_mm';

  const entries = new Map();   // id -> {id, name, row, result (parsed result_json) or null, queuedAt}
  let selectedId = -1;
  let appReady = false;
  const appCalls = [];         // calls for the app made before it was ready, in order
  let workerReady = false;
  let workerFatal = '';

  // ---- the app (kalium.wasm) ------------------------------------------------------------------------------
  // The app's exported functions exist once its runtime runs; until then (and if it never starts) calls wait.
  function callApp(fn) {
    if (appReady) {
      try { fn(window.Module); } catch (err) { console.warn('kalium: the app refused a call: ' + err); }
    } else {
      appCalls.push(fn);
    }
  }
  function appHas(name) { return typeof window.Module[name] === 'function'; }

  // Copies floats into the app's heap for one call; the app copies what it keeps, the copy is freed after.
  function withFloats(M, array, fn) {
    if (!array || !array.length) return fn(0);
    const ptr = M._malloc(array.length * 4);
    if (!ptr) return fn(0);
    try {
      M.HEAPF32.set(array, ptr >> 2);  // HEAPF32 read after malloc: memory may have grown
      return fn(ptr);
    } finally {
      M._free(ptr);
    }
  }

  // ---- the DOM mirror -------------------------------------------------------------------------------------
  function sentence(entry) {
    const r = entry.result;
    if (!r) return `${entry.name}: analysing…`;
    if (r.error) return `${entry.name}: could not be analysed: ${r.error}`;
    const warnings = r.warnings && r.warnings.length ? ` ${r.warnings.length} warning(s): ${r.warnings.join('; ')}.` : '';
    const reliability = r.reliability ? ` ${r.reliability}.` : '';
    return `${entry.name}: estimated serum potassium ${r.k_plus_display} mmol/L (${r.group_label}).${reliability}${warnings}` +
      ' Research use only, not a medical device.';
  }

  function mirrorResult() {
    const entry = entries.get(selectedId);
    if (!entry) return;
    const r = entry.result;
    resultBox.textContent = sentence(entry);
    resultBox.dataset.id = String(entry.id);
    resultBox.dataset.file = entry.name;
    resultBox.dataset.kPlus = r && !r.error ? r.k_plus_display || '' : '';
    resultBox.dataset.group = r && !r.error ? r.group_label || '' : '';
    resultBox.dataset.error = r ? r.error || '' : '';
    resultBox.dataset.reliability = r && !r.error ? r.reliability || '' : '';
  }

  // A K+ value as kalium shows it (kalium::k_display): one decimal inside 1.5-7.5, "<1.5" / ">7.5" outside.
  function kDisplay(k) { return k < 1.5 ? '<1.5' : k > 7.5 ? '>7.5' : Number(k).toFixed(1); }

  function cell(row, text) {
    const td = document.createElement('td');
    td.textContent = text;
    row.appendChild(td);
  }

  function fillRow(entry) {
    const row = entry.row;
    const r = entry.result;
    row.textContent = '';
    cell(row, entry.name);
    cell(row, r ? r.patient_id || '' : '');
    cell(row, r ? r.start_time || '' : '');
    const range = r && !r.error && Array.isArray(r.k_plus_range) ? r.k_plus_range.map(kDisplay).join('–') : '';
    cell(row, r ? (r.error ? 'error' : r.k_plus_display + (range ? ` (${range})` : '')) : 'working');
    cell(row, r ? (r.error ? r.error : r.group_label + (r.reliability ? ` (${r.reliability})` : '')) : '');
    cell(row, r && r.warnings ? String(r.warnings.length) : '');
    row.dataset.id = String(entry.id);
    row.dataset.file = entry.name;
    row.dataset.state = r ? (r.error ? 'failed' : 'done') : 'working';
    row.dataset.kPlus = r && !r.error ? r.k_plus_display : '';
    row.dataset.group = r && !r.error ? r.group_label : '';
    row.dataset.error = r ? r.error || '' : '';
    row.dataset.reliability = r && !r.error ? r.reliability || '' : '';
    row.dataset.kRange = range;
    row.dataset.format = r ? r.format || '' : '';
    row.dataset.leads = r ? String(r.lead_count || 0) : '';
    row.dataset.sizeBytes = r ? String(r.size_bytes || 0) : '';
  }

  function setProgress(done, total) {
    progressBar.max = Math.max(1, total);
    progressBar.value = done;
    progressBar.dataset.done = String(done);
    progressBar.dataset.total = String(total);
    progressBar.hidden = total === 0 || done >= total;
  }

  // ---- the analysis worker --------------------------------------------------------------------------------
  // Two builds of the worker: kalium-worker-mt.js runs the network on 2 threads (WebAssembly threads need a
  // cross-origin-isolated page, SharedArrayBuffer and 2 cores), kalium-worker.js on one. The page asks for the
  // threaded one by default only with 4 or more cores: the page's own drawing needs a core too, and on a 2-core
  // machine the app was slower with 2 network threads than with 1 (BENCHMARKS.md, "Two threads in the app's
  // worker"). If the threaded one does not start (no threads after all, a failed load) the single-thread one takes
  // over, and the files sent meanwhile go to it. ?threads=1 (or 2) in the page's URL chooses by hand.
  const MT_DEFAULT_MIN_CORES = 4;  // cores from which the 2-thread worker is the default
  let worker = null;
  let workerThreads = 1;
  let workerFellBack = false;
  const filesBeforeReady = [];  // 'files' messages held until the worker is ready (a fallback worker gets them)
  function threadsWanted() {
    const asked = Number(new URLSearchParams(window.location.search).get('threads'));
    const cores = navigator.hardwareConcurrency || 1;
    const possible = window.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function' && cores >= 2 ? 2 : 1;
    const byDefault = cores >= MT_DEFAULT_MIN_CORES ? possible : 1;
    return asked >= 1 ? Math.min(asked, possible) : byDefault;
  }
  function fallBackToOneThread(why) {
    if (workerFellBack || workerReady || workerThreads === 1) return false;
    workerFellBack = true;
    console.warn(`kalium: the 2-thread analysis worker did not start (${why}); using the single-thread one`);
    try { worker.terminate(); } catch (err) { /* already gone */ }
    worker = null;
    startWorker(1);
    return true;
  }
  function startWorker(threads = threadsWanted()) {
    workerThreads = threads;
    document.body.dataset.kaliumWorkerThreads = String(threads);
    try {
      worker = threads > 1 ? new Worker(`kalium-worker-mt.js?threads=${threads}`) : new Worker('kalium-worker.js');
    } catch (err) {
      if (threads > 1 && fallBackToOneThread(err.message)) return;
      workerFatal = 'The analysis worker could not start: ' + err.message;
      shell.fatal(workerFatal);
      return;
    }
    worker.onmessage = (event) => onWorkerMessage(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      if (fallBackToOneThread(event.message || 'error')) return;
      workerFatal = 'The analysis worker stopped: ' + (event.message || 'unknown error');
      console.warn('kalium: ' + workerFatal);
      // every entry still working gets that error, so nothing waits forever
      for (const entry of entries.values()) if (!entry.result) finish(entry.id, { id: entry.id, file: entry.name, error: workerFatal, warnings: [] });
    };
  }

  function queued(id, name) {
    if (entries.has(id)) return;
    const row = document.createElement('tr');
    const entry = { id, name, row, result: null, queuedAt: performance.now() };
    entries.set(id, entry);
    fillRow(entry);
    worklistBody.appendChild(row);
    if (selectedId < 0) { selectedId = id; mirrorResult(); }
    callApp((M) => { if (appHas('_kalium_web_file_queued')) M.ccall('kalium_web_file_queued', null, ['number', 'string'], [id, name]); });
  }

  function finish(id, result, json, signal, leadCount, sampleCount, cam) {
    const entry = entries.get(id) || (queued(id, result.file || ('entry ' + id)), entries.get(id));
    entry.result = result;
    entry.finishedAt = performance.now();
    entry.signalShape = [signal ? leadCount : 0, signal ? sampleCount : 0, cam ? cam.length : 0];
    fillRow(entry);
    selectedId = id;  // a newly finished entry becomes selected (the app does the same by itself)
    mirrorResult();
    document.body.dataset.kaliumResults = String(Array.from(entries.values()).filter((e) => e.result).length);
    const text = json || JSON.stringify(result);
    callApp((M) => {
      if (!appHas('_kalium_web_result')) return;
      withFloats(M, signal, (signalPtr) => withFloats(M, cam, (camPtr) =>
        M.ccall('kalium_web_result', null, ['number', 'string', 'number', 'number', 'number', 'number', 'number'],
          [id, text, signalPtr, signalPtr ? leadCount : 0, signalPtr ? sampleCount : 0, camPtr, camPtr ? cam.length : 0])));
    });
  }

  function onWorkerMessage(message) {
    if (!message) return;
    if (message.type === 'ready') {
      workerReady = true;
      document.body.dataset.kaliumWorkerThreads = String(message.threads || 1);
      while (filesBeforeReady.length) {
        const m = filesBeforeReady.shift();
        worker.postMessage(m, m.files.map((f) => f.buffer));
      }
      document.body.dataset.kaliumWorkerReadyMs = String(performance.now());
      document.body.dataset.kaliumWorkerReady = 'true';
      document.body.dataset.kaliumModel = message.model.name;
    } else if (message.type === 'fatal') {
      if (fallBackToOneThread(message.message)) return;
      workerFatal = message.message;
      // files held for the worker still go to it: it answers each with this error, so none waits for ever
      while (filesBeforeReady.length) {
        const m = filesBeforeReady.shift();
        worker.postMessage(m, m.files.map((f) => f.buffer));
      }
      document.body.dataset.kaliumWorkerError = workerFatal;
      console.warn('kalium: ' + workerFatal);
    } else if (message.type === 'skipped') {
      // one line for all of a folder's non-ECG files, however many
      const names = message.names || [];
      const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? `, … ${names.length - 3} more` : '');
      const line = `${names.length} file${names.length === 1 ? '' : 's'} of the folder skipped: not ECG files (${shown})`;
      skippedBox.textContent = line;
      skippedBox.dataset.count = String(names.length);
      callApp((M) => { if (appHas('_kalium_web_notice')) M.ccall('kalium_web_notice', null, ['string'], [line]); });
    } else if (message.type === 'queued') {
      queued(message.id, message.name);
    } else if (message.type === 'result') {
      let result;
      try {
        result = JSON.parse(message.json);
      } catch (err) {
        result = { id: message.id, file: '', error: 'the analysis returned unreadable JSON: ' + err.message, warnings: [] };
      }
      const receivedAt = performance.now();
      finish(message.id, result, message.json, message.signal, message.lead_count, message.sample_count, message.cam);
      const entry = entries.get(message.id);
      if (entry) {
        // for the benchmark: how long the message waited for this thread, and the page's own work on it
        entry.waitedMs = message.posted_epoch_ms ? performance.timeOrigin + receivedAt - message.posted_epoch_ms : null;
        entry.pageMs = performance.now() - receivedAt;
      }
    } else if (message.type === 'progress') {
      setProgress(message.done, message.total);
      callApp((M) => { if (appHas('_kalium_web_progress')) M._kalium_web_progress(message.done, message.total); });
    }
  }

  // Reads files (File objects or {name, buffer}) and sends them together to the worker (their buffers are
  // transferred, not copied). A file the browser cannot read becomes an entry with that error.
  async function intake(files, options = {}) {
    // all read at once (one wait for this thread, not one per file)
    const read = await Promise.all(Array.from(files, (file) => (file.buffer instanceof ArrayBuffer ? Promise.resolve(file.buffer)
      : file.arrayBuffer()).then((buffer) => ({ name: file.name, buffer }), (err) => ({ name: file.name, err }))));
    const items = [];
    for (const item of read) {
      if (!item.err) { items.push(item); continue; }
      const id = -(entries.size + 1);  // negative: never an id of the worker's
      queued(id, item.name);
      finish(id, { id, file: item.name, error: `${item.name}: the browser could not read the file (${item.err.message})`, warnings: [] });
    }
    if (!items.length) return;
    if (!worker) startWorker();
    const message = { type: 'files', files: items, folder: options.folder === true };
    if (workerReady) worker.postMessage(message, items.map((f) => f.buffer));
    else filesBeforeReady.push(message);
  }

  // ---- export ---------------------------------------------------------------------------------------------
  function download(name, mime, data) {
    const url = URL.createObjectURL(new Blob([data], { type: mime }));
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.hidden = true;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // RFC 4180 field: quoted when it holds a comma, quote or line break.
  function csvField(value) {
    const s = value === null || value === undefined ? '' : String(value);
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  const MEASUREMENT_KEYS = ['hr_bpm', 'pr_ms', 'qrs_ms', 'qt_ms', 'qtc_ms', 'p_axis_deg', 'qrs_axis_deg', 't_axis_deg'];

  function resultsCsv() {
    const header = ['id', 'file', 'patient_id', 'start_time', 'format', 'duration_s', 'k_plus', 'k_plus_display', 'group_label',
      ...GROUP_KEYS.map((g) => 'p_' + g), 'k_range_low', 'k_range_high', 'k_plus_balanced', 'flag',
      ...GROUP_KEYS.map((g) => 'p_balanced_' + g), ...LEADS.map((l) => 'lead_k_' + l), ...LEADS.map((l) => 'attention_' + l),
      ...MEASUREMENT_KEYS, ...MEASUREMENT_KEYS.map((k) => 'cart_' + k), 'reliability', 'warnings', 'error', 'model'];
    const lines = [header.map(csvField).join(',')];
    for (const entry of entries.values()) {
      const r = entry.result || {};
      const ok = entry.result && !r.error;
      const probs = ok && r.group_probs ? GROUP_KEYS.map((g) => r.group_probs[g]) : GROUP_KEYS.map(() => '');
      const range = ok && Array.isArray(r.k_plus_range) ? [...r.k_plus_range, r.k_plus_balanced, r.k_plus_flag || ''] : ['', '', '', ''];
      const balanced = ok && r.group_probs_balanced ? GROUP_KEYS.map((g) => r.group_probs_balanced[g]) : GROUP_KEYS.map(() => '');
      const arr = (a) => (ok && Array.isArray(a) ? a : LEADS.map(() => ''));
      const m = (obj) => MEASUREMENT_KEYS.map((k) => (obj && obj[k] !== null && obj[k] !== undefined ? obj[k] : ''));
      const row = [entry.id, entry.name, r.patient_id, r.start_time, r.format, r.duration_s, ok ? r.k_plus : '',
        ok ? r.k_plus_display : '', ok ? r.group_label : '', ...probs, ...range, ...balanced, ...arr(r.lead_k), ...arr(r.lead_attention),
        ...m(r.measurements), ...m(r.cart_measurements), ok ? r.reliability || '' : '', (r.warnings || []).join('; '),
        entry.result ? r.error || '' : 'still analysing', r.model ? r.model.name : ''];
      lines.push(row.map(csvField).join(','));
    }
    return lines.join('\r\n') + '\r\n';
  }

  function resultsJson() {
    const all = Array.from(entries.values()).map((e) => e.result || { id: e.id, file: e.name, error: 'still analysing' });
    return JSON.stringify({ kalium_results: all, exported: new Date().toISOString(),
      note: 'Research use only; not a medical device.' }, null, 2) + '\n';
  }

  function exportStamp() { return new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-'); }

  // ---- window.kalium: what the app calls ------------------------------------------------------------------
  const shell = {
    // The app calls this once its first frame can be drawn.
    ready() {
      statusBox.hidden = true;
      if (appReady) return;
      document.body.dataset.kaliumReadyMs = String(performance.now());  // for the app benchmark
      document.body.dataset.kaliumReady = 'true';
      appReady = true;
      while (appCalls.length) callApp(appCalls.shift());
    },
    // Something stopped the app: say so on the page instead of leaving a blank canvas.
    fatal(message) {
      statusBox.hidden = false;
      statusBox.classList.add('kalium-error');
      statusBox.textContent = message + ' Reload the page to try again.';
      document.body.dataset.kaliumError = message;
    },
    openFilePicker() { fileInput.click(); },
    // "Try an example": the bundled synthetic ECGs (examples/index.json lists them).
    async loadExamples() {
      try {
        const index = await (await fetch('examples/index.json')).json();
        const files = await Promise.all(index.files.map(async (name) => {
          const response = await fetch('examples/' + name);
          if (!response.ok) throw new Error(`examples/${name}: HTTP ${response.status}`);
          return { name, buffer: await response.arrayBuffer() };
        }));
        await intake(files);
      } catch (err) {
        console.warn('kalium: the examples could not be loaded: ' + err.message);
        const id = -(entries.size + 1);
        queued(id, 'examples');
        finish(id, { id, file: 'examples', error: 'the examples could not be loaded: ' + err.message, warnings: [] });
      }
    },
    select(id) {
      if (!entries.has(id)) return;
      selectedId = id;
      mirrorResult();
    },
    exportResults(kind) {
      if (kind === 'json') download(`kalium-results-${exportStamp()}.json`, 'application/json', resultsJson());
      else download(`kalium-results-${exportStamp()}.csv`, 'text/csv', resultsCsv());
    },
    // The app's view state, mirrored for tests and screen readers (#kalium-view).
    mirrorView(json) {
      let v;
      try { v = typeof json === 'string' ? JSON.parse(json) : json; } catch (err) { return; }
      if (!v) return;
      const c = v.caliper || null;
      const set = (key, value) => { viewBox.dataset[key] = value === undefined || value === null ? '' : String(value); };
      set('layout', v.layout);
      set('overlay', v.overlay);
      set('overlayOpacity', v.overlay_opacity);
      set('heatmap', v.heatmap);
      set('speed', v.speed_mm_s);
      set('gain', v.gain_mm_mv);
      set('caliperMs', c ? c.dt_ms : '');
      set('caliperBpm', c ? c.bpm : '');
      set('caliperMv', c ? c.dv_mv : '');
      set('selected', v.selected);
      set('zoom', v.zoom);
      set('narrow', v.narrow);
      set('menuOpen', v.menu_open);
      set('resultRect', v.result_rect ? v.result_rect.join(',') : '');
      // beyond the contract, when the app sends them: its scale and where each strip is (CSS px), for tests
      set('pxPerMm', v.px_per_mm);
      set('panels', v.panels ? JSON.stringify(v.panels) : '');
      viewBox.textContent = `Layout ${v.layout}, ${v.speed_mm_s} mm/s, ${v.gain_mm_mv} mm/mV, heatmap ${v.overlay ? 'on' : 'off'}` +
        (c ? `; caliper ${Math.round(c.dt_ms)} ms, ${Math.round(c.bpm)} bpm, ${Number(c.dv_mv).toFixed(2)} mV` : '');
    },
    // The selected ECG's report as a download: 'pdf' (A4, vector; src/report), 'pdf-letter' or 'png'. True when
    // it was made (the PDF at once, the PNG at the next frame); false when no analysed ECG is selected.
    exportReport(kind = 'pdf') {
      if (!appReady || !window.Module || !window.Module.ccall) return false;
      return window.Module.ccall('kalium_web_export_report', 'number', ['string'], [String(kind)]) === 1;
    },
    // Saves bytes from the app's heap as a file (the PNG and PDF reports).
    downloadBytes(name, mime, ptr, len) {
      const bytes = window.Module.HEAPU8.slice(ptr, ptr + len);
      download(name, mime, bytes);
    },
    // The user's screen calibration (CSS pixels per millimetre), remembered in this browser only.
    storeCalibration(cssPxPerMm) {
      try { localStorage.setItem(CALIBRATION_KEY, String(cssPxPerMm)); } catch (err) { /* storage off: not kept */ }
    },
    storedCalibration() {
      try { return Number(localStorage.getItem(CALIBRATION_KEY)) || 0; } catch (err) { return 0; }
    },
    // For tests and the benchmark: the results so far (parsed result_json, arrival order).
    results() { return Array.from(entries.values()).map((e) => e.result); },
    // For the benchmark and tests: when each entry was queued and finished (performance.now() ms, this page's
    // clock) and the arrays it came with ([leads, samples of the display signal, CAM values]).
    timings() {
      return Array.from(entries.values()).map((e) => ({ id: e.id, file: e.name, queued_ms: e.queuedAt, finished_ms: e.finishedAt,
        message_wait_ms: e.waitedMs, page_ms: e.pageMs, signal_shape: e.signalShape }));
    },
    // Files as a drop gives them; {folder: true}: they are a folder's, whose non-ECG files are skipped (one line).
    intake,
  };
  window.kalium = shell;
  window.kaliumShell = shell;  // the name the app's first version called

  // The DOM's own buttons (screen readers, keyboard users): the same actions as the app's.
  document.getElementById('kalium-examples').addEventListener('click', () => shell.loadExamples());
  document.getElementById('kalium-export-csv').addEventListener('click', () => shell.exportResults('csv'));
  document.getElementById('kalium-export-json').addEventListener('click', () => shell.exportResults('json'));

  fileInput.addEventListener('change', () => {
    const files = Array.from(fileInput.files);
    fileInput.value = '';  // picking the same file again fires change again
    intake(files);
  });

  // Drops anywhere on the page (the canvas included) are taken here, in the capture phase, so the browser
  // never opens or navigates to a dropped file and the files go to the worker, not to the app's own loader.
  window.addEventListener('dragover', (event) => { event.preventDefault(); }, true);
  window.addEventListener('drop', (event) => {
    event.preventDefault();
    event.stopPropagation();
    if (!event.dataTransfer) return;
    // A dropped folder arrives as a directory entry: walk it (and its subfolders) for its files.
    const entries = Array.from(event.dataTransfer.items || [])
      .map((item) => (item.kind === 'file' && item.webkitGetAsEntry ? item.webkitGetAsEntry() : null));
    if (entries.some((e) => e && e.isDirectory)) {
      filesOfEntries(entries.filter(Boolean)).then((files) => intake(files, { folder: true }),
        (err) => console.warn('kalium: the folder could not be read: ' + err.message));
    } else if (event.dataTransfer.files.length) {
      intake(Array.from(event.dataTransfer.files));
    }
  }, true);

  // Every file under the given file system entries (folders walked recursively), each a File named by its path
  // inside the dropped folder ("ludb/1.hea"), so a record's files keep their common stem.
  async function filesOfEntries(entries) {
    const files = [];
    const walk = async (entry) => {
      if (entry.isFile) {
        const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
        const name = entry.fullPath ? entry.fullPath.replace(/^\//, '') : file.name;
        files.push(new File([file], name));
      } else if (entry.isDirectory) {
        const reader = entry.createReader();
        for (;;) {  // readEntries gives at most 100 entries per call
          const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
          if (!batch.length) break;
          for (const e of batch) await walk(e);
        }
      }
    };
    for (const e of entries) await walk(e);
    return files;
  }

  // Touch: one finger is the mouse (tap to select or press a button, drag to pan the paper, or to measure in
  // caliper mode); two fingers pinch-zoom the paper. Emscripten 3.1.6's GLFW takes touch events but cannot read
  // their position (only SDL sets it), so touches are kept from it and given to it as the mouse events they mean.
  // Listening on window in the capture phase runs before GLFW's own listeners on the canvas.
  let pinch = null;        // {distance, x, y} of the last two-finger position
  let fingerDown = null;   // the one finger that is the mouse button, while it is down
  const twoFingers = (touches) => {
    const [a, b] = [touches[0], touches[1]];
    return { distance: Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY), x: (a.clientX + b.clientX) / 2, y: (a.clientY + b.clientY) / 2 };
  };
  const mouse = (type, t) => canvas.dispatchEvent(new MouseEvent(type, { clientX: t.clientX, clientY: t.clientY, button: 0,
    buttons: type === 'mouseup' ? 0 : 1, bubbles: true, cancelable: true }));
  const onTouch = (event) => {
    if (event.target !== canvas) return;
    event.preventDefault();  // no scrolling, no browser zoom, no emulated mouse events after the touch
    event.stopImmediatePropagation();
    if (event.touches.length >= 2) {
      if (fingerDown) { mouse('mouseup', fingerDown); fingerDown = null; }
      const now = twoFingers(event.touches);
      if (pinch && pinch.distance > 0 && event.type === 'touchmove') {
        const scale = now.distance / pinch.distance;
        callApp((M) => { if (appHas('_kalium_web_pinch')) M.ccall('kalium_web_pinch', null, ['number', 'number', 'number'], [scale, now.x, now.y]); });
      }
      pinch = now;
      return;
    }
    if (pinch) {  // a pinch ends when its last finger lifts; the remaining finger does not start a drag
      if (event.touches.length === 0) pinch = null;
      return;
    }
    const t = event.type === 'touchend' || event.type === 'touchcancel' ? event.changedTouches[0] : event.touches[0];
    if (!t) return;
    if (event.type === 'touchstart') {
      mouse('mousemove', t);  // the pointer goes under the finger before the button goes down
      mouse('mousedown', t);
      fingerDown = { clientX: t.clientX, clientY: t.clientY };
    } else if (event.type === 'touchmove' && fingerDown) {
      mouse('mousemove', t);
      fingerDown = { clientX: t.clientX, clientY: t.clientY };
    } else if (fingerDown) {
      mouse('mouseup', t);
      fingerDown = null;
    }
  };
  for (const type of ['touchstart', 'touchmove', 'touchend', 'touchcancel']) window.addEventListener(type, onTouch, { capture: true, passive: false });

  canvas.addEventListener('webglcontextlost', (event) => {
    event.preventDefault();
    shell.fatal('The graphics context was lost.');
  });

  window.Module = {
    canvas: canvas,
    print: (text) => console.log(text),
    printErr: (text) => console.warn(text),
    onAbort: (what) => shell.fatal('kalium stopped: ' + what + '.'),
  };
  if (typeof WebAssembly !== 'object') shell.fatal('This browser does not support WebAssembly, which kalium needs.');
  else startWorker();  // the model loads while the app starts

  // After the page has loaded, so precaching never competes with the first start.
  if ('serviceWorker' in navigator && window.isSecureContext) {
    window.addEventListener('load', () => {
      navigator.serviceWorker.register('sw.js').catch((err) => console.warn('kalium: offline use is not available: ' + err.message));
    });
  }
})();
