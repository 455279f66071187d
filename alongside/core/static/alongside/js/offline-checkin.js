// Offline check-ins. When the network is gone, a check-in is kept on this device (IndexedDB) with its own
// Idempotency-Key, and sent to /api/v1/checkins when the connection returns. The key makes a repeated send
// harmless, so a check-in is never lost and never doubled.
(function () {
  "use strict";

  var DB_NAME = "alongside-offline";
  var STORE = "checkins";
  var body = document.body;
  var memberId = body.getAttribute("data-member-id");

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(function () { /* offline pages are a bonus */ });
  }

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(result && result.result !== undefined ? result.result : result); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function localIsoNow() {
    var now = new Date();
    var offset = -now.getTimezoneOffset();
    var sign = offset >= 0 ? "+" : "-";
    var pad = function (n) { return String(Math.floor(Math.abs(n))).padStart(2, "0"); };
    return now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate()) + "T" +
      pad(now.getHours()) + ":" + pad(now.getMinutes()) + ":" + pad(now.getSeconds()) +
      sign + pad(offset / 60) + ":" + pad(offset % 60);
  }

  function formToCheckin(form) {
    var data = new FormData(form);
    var payload = { activities: [], warning_signs: [] };
    ["mood", "anxiety", "energy", "sleep_quality", "cravings"].forEach(function (name) {
      if (data.get(name) !== null && data.get(name) !== "") { payload[name] = parseInt(data.get(name), 10); }
    });
    if (data.get("sleep_hours")) { payload.sleep_hours = parseFloat(data.get("sleep_hours")); }
    if (data.get("medication")) { payload.medication = data.get("medication"); }
    if (data.get("note")) { payload.note = data.get("note"); }
    payload.activities = data.getAll("activities");
    payload.warning_signs = data.getAll("warning_signs");
    payload.recorded_at = localIsoNow();
    return payload;
  }

  function say(text) {
    var box = document.getElementById("offline-status");
    if (box) { box.textContent = text; box.hidden = false; }
  }

  function pending() {
    return withStore("readonly", function (store) { return store.getAll(); }).then(function (items) {
      return (items || []).filter(function (item) { return item.member === memberId; });
    });
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
        return withStore("readwrite", function (store) { store.delete(item.key); }).then(function () {
          return response.status === 201;
        });
      }
      return false;
    });
  }

  var flushing = false;
  function flush() {
    if (flushing || !memberId || !navigator.onLine) { return Promise.resolve(); }
    flushing = true;
    return pending().then(function (items) {
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
  if (form) {
    form.addEventListener("submit", function (event) {
      if (navigator.onLine) { return; }  // online: the normal form post
      event.preventDefault();
      var item = { key: newKey(), member: memberId, payload: formToCheckin(form), saved_at: Date.now() };
      if (item.payload.mood === undefined) { say(form.getAttribute("data-need-mood")); return; }
      withStore("readwrite", function (store) { store.put(item); }).then(function () {
        form.reset();
        say(form.getAttribute("data-saved-offline"));
      });
    });
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
