// Keeps the check-in page, the crisis page and the member's "I'm struggling" screen available without a network. Everything else goes to the
// network as usual; nothing personal is cached beyond these pages. A check-in form posted when no network answers
// (the device believed it was online) is kept on the device like one made offline, never lost to an error page.
"use strict";

importScripts("/static/alongside/js/offline-store.js");

var CHECKIN = "/me/checkin/";

var CACHE = "alongside-pages-v3";
var OFFLINE_PAGES = [CHECKIN, "/crisis/", "/me/struggling/"];

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

// The posted check-in, kept for when the connection returns; then the check-in page (from the network or the
// copy here) says so. Without a mood there is no check-in to keep: the page comes back as it was.
function keepCheckin(posted) {
  return posted.formData().then(function (data) {
    var item = self.alongsideOffline.item(data.get("device_member") || "", data);
    if (!item || !item.member) { return copyOrCrisis(new Request(CHECKIN), true); }
    return self.alongsideOffline.keep(item).then(function () {
      return Response.redirect(CHECKIN + "?kept=1", 303);
    });
  });
}

// The copy kept here of what was asked for (of an offline page, whatever its query string), or when there is
// none the public crisis page, which always has one.
function copyOrCrisis(request, ignoreSearch) {
  return caches.match(request, { ignoreSearch: ignoreSearch }).then(function (cached) {
    return cached || caches.match("/crisis/");
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.method === "POST" && request.mode === "navigate" && url.pathname === CHECKIN) {
    var posted = request.clone();  // read only if the check-in did not get through
    event.respondWith(fetch(request).then(function (response) {
      // A gateway that could not reach the site answers for it: the check-in was not stored there either.
      return [502, 503, 504].indexOf(response.status) === -1 ? response : keepCheckin(posted);
    }, function () { return keepCheckin(posted); }));
    return;
  }
  if (request.method !== "GET") { return; }
  var isOfflinePage = OFFLINE_PAGES.indexOf(url.pathname) !== -1;
  var isStatic = url.pathname.indexOf("/static/") === 0;
  if (!isOfflinePage && !isStatic) { return; }
  // Network first, so people see fresh pages; the cached copy answers only when the network cannot.
  event.respondWith(
    fetch(request).then(function (response) {
      // One copy per offline page, kept from its plain address and shown whatever the query string.
      if (response.ok && (isStatic || (isOfflinePage && !url.search)) && !response.redirected) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
        return response;
      }
      if (isOfflinePage) {
        // A server error or a redirect (to sign in) is worse than the copy kept here: show the copy if there is one.
        return caches.match(request, { ignoreSearch: true }).then(function (cached) { return cached || response; });
      }
      return response;
    }).catch(function () { return copyOrCrisis(request, isOfflinePage); })
  );
});
