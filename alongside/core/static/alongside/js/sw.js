// Keeps the check-in page, the crisis page and the member's "I'm struggling" screen available without a network. Everything else goes to the
// network as usual; nothing personal is cached beyond these two pages.
"use strict";

var CACHE = "alongside-pages-v2";
var OFFLINE_PAGES = ["/me/checkin/", "/crisis/", "/me/struggling/"];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      // The public crisis page is cached at once; the check-in page when the member next opens it.
      return cache.add(new Request("/crisis/", { credentials: "same-origin" })).catch(function () {});
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  // Copies kept by an older version of this worker are dropped.
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) { return name !== CACHE; }).map(function (name) {
        return caches.delete(name);
      }));
    }).then(function () { return self.clients.claim(); })
  );
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
        return response;
      }
      if (isOfflinePage) {
        // A server error or a redirect (to sign in) is worse than the copy kept here: show the copy if there is one.
        return caches.match(request).then(function (cached) { return cached || response; });
      }
      return response;
    }).catch(function () {
      return caches.match(request).then(function (cached) {
        // No copy of this page yet: the public crisis page always has one.
        return cached || caches.match("/crisis/");
      });
    })
  );
});
