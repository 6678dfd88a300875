#!/usr/bin/env node
// scripts/serve.mjs: serve a built site (default build/wasm/site) on localhost with the headers kalium needs.
//
//   node scripts/serve.mjs [--host 127.0.0.1] [--port 8080] [DIR]
//
// - Cross-Origin-Opener-Policy: same-origin + Cross-Origin-Embedder-Policy: require-corp: the page is
//   cross-origin isolated, so WebAssembly threads (SharedArrayBuffer) are available.
// - Content-Security-Policy: only this origin; no request can leave it.
// - Correct MIME types (application/wasm enables streaming compilation), no directory listing, no path
//   escaping the folder, no caching surprises while developing (no-cache: revalidate each load).
// Also importable: `startServer({root, host, port})` resolves to {server, url}; the browser tests use it.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.bin': 'application/octet-stream',
};

export const SECURITY_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; " +
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; " +
    "form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

function handler(root) {
  return (req, res) => {
    const send = (status, body, headers = {}) => {
      res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...headers });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      return send(400, 'bad request\n');
    }
    if (pathname.endsWith('/')) pathname += 'index.html';
    const file = path.join(root, path.normalize(pathname));
    if (file !== root && !file.startsWith(root + path.sep)) return send(403, 'forbidden\n');
    fs.stat(file, (err, stat) => {
      if (err || !stat.isFile()) return send(404, 'not found\n');
      const type = MIME_TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream';
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': stat.size });
      if (req.method === 'HEAD') return res.end();
      fs.createReadStream(file).pipe(res);
    });
  };
}

export function startServer({ root, host = '127.0.0.1', port = 8080 }) {
  const absRoot = path.resolve(root);
  if (!fs.existsSync(path.join(absRoot, 'index.html'))) {
    return Promise.reject(new Error(`${absRoot}/index.html does not exist: build the app first (cmake --build --preset wasm)`));
  }
  const server = http.createServer(handler(absRoot));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actualPort } = server.address();
      resolve({ server, url: `http://${host}:${actualPort}/` });
    });
  });
}

async function main() {
  const args = process.argv.slice(2);
  let host = '127.0.0.1';
  let port = 8080;
  let root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'build', 'wasm', 'site');
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--host') host = args[++i];
    else if (args[i] === '--port') port = Number(args[++i]);
    else if (args[i] === '--help') {
      console.log('usage: node scripts/serve.mjs [--host 127.0.0.1] [--port 8080] [DIR]');
      return;
    } else root = args[i];
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${port}`);
  const { server, url } = await startServer({ root, host, port });
  console.log(`kalium: serving ${path.resolve(root)}`);
  console.log(`kalium: open ${url}   (Ctrl-C stops)`);
  const stop = () => {
    console.log('\nkalium: stopping');
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`kalium serve: ${err.message}`);
    process.exit(1);
  });
}
