// web/kalium-shell.js: the small JavaScript around the WebAssembly app.
//   - configures Emscripten's Module (canvas, console output, fatal errors) before kalium.js loads;
//   - the file-input fallback: reads picked files and hands their bytes to C++ (kalium_web_open_file);
//   - keeps dropped files inside the page: a drop anywhere is handled, never followed by the browser;
//   - mirrors what the app read into the DOM (#kalium-files) for screen readers and tests.
'use strict';

(function () {
  const canvas = document.getElementById('canvas');
  const statusBox = document.getElementById('kalium-status');
  const fileInput = document.getElementById('kalium-file-input');
  const fileList = document.getElementById('kalium-files');

  const shell = {
    // Called by C++ once the first frame can be drawn.
    ready() {
      statusBox.hidden = true;
      document.body.dataset.kaliumReady = 'true';
    },
    // Something stopped the app: say so on the page instead of leaving a blank canvas.
    fatal(message) {
      statusBox.hidden = false;
      statusBox.classList.add('kalium-error');
      statusBox.textContent = message + ' Reload the page to try again.';
      document.body.dataset.kaliumError = message;
    },
    openFilePicker() { fileInput.click(); },
    // Called by C++ for every file it read (WFDB signal files are part of their header's entry).
    fileRead(name, sizeBytes, format, leads, summary, error) {
      const item = document.createElement('li');
      item.textContent = name + ': ' + (error || summary);
      item.dataset.file = name;
      item.dataset.sizeBytes = String(sizeBytes);
      item.dataset.format = format;
      item.dataset.leads = String(leads);
      item.dataset.error = error;
      fileList.appendChild(item);
    },
    // Copy each file's bytes into wasm memory and hand them to C++. Files are read one at a time so a
    // large batch never holds more than one extra copy.
    async openFiles(files) {
      for (const file of files) {
        let bytes;
        try {
          bytes = new Uint8Array(await file.arrayBuffer());
        } catch (err) {
          console.warn('kalium: cannot read ' + file.name + ': ' + err);
          continue;
        }
        const ptr = Module._malloc(Math.max(1, bytes.length));
        if (!ptr) { console.warn('kalium: not enough memory for ' + file.name); continue; }
        try {
          Module.HEAPU8.set(bytes, ptr);  // HEAPU8 read after malloc: memory may have grown
          Module.ccall('kalium_web_open_file', null, ['string', 'number', 'number'], [file.name, ptr, bytes.length]);
        } finally {
          Module._free(ptr);
        }
      }
    },
  };
  window.kaliumShell = shell;

  fileInput.addEventListener('change', () => {
    const files = Array.from(fileInput.files);
    fileInput.value = '';  // picking the same file again fires change again
    shell.openFiles(files);
  });

  // The canvas's own drop handler (Emscripten GLFW) takes drops on the canvas. Anything dropped elsewhere
  // (the loading box, a margin) is taken here; the browser must never open or navigate to a dropped file.
  window.addEventListener('dragover', (event) => event.preventDefault());
  window.addEventListener('drop', (event) => {
    event.preventDefault();
    if (event.target !== canvas && event.dataTransfer && event.dataTransfer.files.length)
      shell.openFiles(Array.from(event.dataTransfer.files));
  });

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
})();
