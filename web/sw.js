// web/sw.js: the service worker that makes kalium work offline after one visit (kiosks, ambulances).
// The build (web/make-sw.cmake) fills in the cache name, versioned by a hash of every file of the site, and
// the list of those files: a new build has a new name, so the browser installs it, precaches the new files
// and deletes the old cache. Requests are answered from the cache first, then from the network; nothing
// outside the site's own origin is ever fetched or cached.
'use strict';

const CACHE_NAME = 'kalium-@KALIUM_SITE_VERSION@';
const PRECACHE = [@KALIUM_PRECACHE@];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE_NAME).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n.startsWith('kalium-') && n !== CACHE_NAME).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(caches.open(CACHE_NAME).then(async (cache) => {
    const cached = await cache.match(request, { ignoreSearch: true });
    return cached || fetch(request);
  }));
});
