// Keeps the check-in page and the crisis page available without a network. Everything else goes to the
// network as usual; nothing personal is cached beyond these two pages.
"use strict";

var CACHE = "alongside-pages-v1";
var OFFLINE_PAGES = ["/me/checkin/", "/crisis/"];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      // The public crisis page is cached at once; the check-in page when the member next opens it.
      return cache.add(new Request("/crisis/", { credentials: "same-origin" })).catch(function () {});
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  var isOfflinePage = OFFLINE_PAGES.indexOf(url.pathname) !== -1;
  var isStatic = url.pathname.indexOf("/static/") === 0;
  if (!isOfflinePage && !isStatic) { return; }
  // Network first, so people see fresh pages; the cached copy answers only when the network cannot.
  event.respondWith(
    fetch(request).then(function (response) {
      if (response.ok && (isOfflinePage || isStatic) && !response.redirected) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(request).then(function (cached) {
        return cached || caches.match("/crisis/");
      });
    })
  );
});
