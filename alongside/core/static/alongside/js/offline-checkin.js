// Offline check-ins. When the network is gone, a check-in is kept on this device (offline-store.js) with its
// own Idempotency-Key, and sent to /api/v1/checkins when the connection returns. The key makes a repeated send
// harmless, so a check-in is never lost and never doubled. When the device believes it is online but no
// network answers the form's post, the service worker keeps the check-in the same way and comes back here with
// ?kept=1.
(function () {
  "use strict";

  var offline = window.alongsideOffline;
  var body = document.body;
  var memberId = body.getAttribute("data-member-id");

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(function () { /* offline pages are a bonus */ });
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function say(text) {
    var box = document.getElementById("offline-status");
    if (box) { box.textContent = text; box.hidden = false; }
  }

  function send(item) {
    return fetch("/api/v1/checkins", {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Idempotency-Key": item.key,
        "X-CSRFToken": csrfToken(),
        "X-Alongside-Offline": "1"
      },
      body: JSON.stringify(item.payload)
    }).then(function (response) {
      // Sent (201), or refused for good (4xx): either way it no longer waits on this device.
      if (response.status === 201 || (response.status >= 400 && response.status < 500 && response.status !== 401 &&
          response.status !== 403 && response.status !== 429)) {
        return offline.sent(item.key).then(function () { return response.status === 201; });
      }
      return false;
    });
  }

  var flushing = false;
  function flush() {
    if (flushing || !memberId || !navigator.onLine) { return Promise.resolve(); }
    flushing = true;
    return offline.waiting(memberId).then(function (items) {
      return items.reduce(function (chain, item) {
        return chain.then(function (sentSoFar) {
          return send(item).then(function (ok) { return sentSoFar + (ok ? 1 : 0); }, function () { return sentSoFar; });
        });
      }, Promise.resolve(0));
    }).then(function (sent) {
      if (sent > 0) {
        say(body.getAttribute(sent === 1 ? "data-sent-one" : "data-sent-many").replace("%s", sent));
      }
    }).finally(function () { flushing = false; });
  }

  var form = document.querySelector("form[data-offline-checkin]");
  // Each form shown gets a fresh key (also when the page comes back from the browser's history), so sending
  // one twice stores one check-in.
  function freshKey() {
    var key = form.querySelector("input[name=key]");
    if (key) { key.value = offline.newKey(); }
  }
  if (form) {
    freshKey();
    window.addEventListener("pageshow", function (event) { if (event.persisted) { freshKey(); } });
    form.addEventListener("submit", function (event) {
      if (navigator.onLine) { return; }  // online: the normal form post (the service worker keeps it if it fails)
      event.preventDefault();
      var item = offline.item(memberId, new FormData(form));
      if (!item) { say(form.getAttribute("data-need-mood")); return; }
      offline.keep(item).then(function () {
        form.reset();
        freshKey();
        say(form.getAttribute("data-saved-offline"));
      });
    });
    var address = new URL(window.location.href);
    if (address.searchParams.get("kept") === "1") {
      say(form.getAttribute("data-kept"));
      address.searchParams.delete("kept");
      window.history.replaceState(null, "", address.pathname + address.search + address.hash);
    }
  }

  window.addEventListener("online", flush);
  flush();

  // Signing out removes cached pages from this device.
  var signout = document.querySelector("form.signout");
  if (signout && "caches" in window) {
    signout.addEventListener("submit", function () {
      caches.keys().then(function (names) { names.forEach(function (name) { caches.delete(name); }); });
    });
  }
})();
