// The check-ins kept on this device until the server has them: an IndexedDB store shared by the pages
// (offline-checkin.js, which sends them) and the service worker (sw.js, which keeps a check-in whose post no
// network answered). Each is kept with its own Idempotency-Key, so sending one twice stores it once.
(function (scope) {
  "use strict";

  var DB_NAME = "alongside-offline";
  var STORE = "checkins";

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
    if (scope.crypto && scope.crypto.randomUUID) { return scope.crypto.randomUUID(); }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  // The moment in the device's own time zone, with its offset, as the API takes it.
  function localIsoNow() {
    var now = new Date();
    var offset = -now.getTimezoneOffset();
    var sign = offset >= 0 ? "+" : "-";
    var pad = function (n) { return String(Math.floor(Math.abs(n))).padStart(2, "0"); };
    return now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate()) + "T" +
      pad(now.getHours()) + ":" + pad(now.getMinutes()) + ":" + pad(now.getSeconds()) +
      sign + pad(offset / 60) + ":" + pad(offset % 60);
  }

  // The check-in form's fields (FormData) as the body of POST /api/v1/checkins.
  function payload(data) {
    var checkin = { activities: [], warning_signs: [] };
    ["mood", "anxiety", "energy", "sleep_quality", "cravings"].forEach(function (name) {
      if (data.get(name) !== null && data.get(name) !== "") { checkin[name] = parseInt(data.get(name), 10); }
    });
    if (data.get("sleep_hours")) { checkin.sleep_hours = parseFloat(data.get("sleep_hours")); }
    if (data.get("medication")) { checkin.medication = data.get("medication"); }
    if (data.get("note")) { checkin.note = data.get("note"); }
    checkin.activities = data.getAll("activities");
    checkin.warning_signs = data.getAll("warning_signs");
    checkin.recorded_at = localIsoNow();
    return checkin;
  }

  // A check-in to keep for `member`, or null when it has no mood (the one field a check-in needs). It keeps the
  // key the page gave the form, so that a form kept twice, or kept after its post did reach the server, is
  // stored once.
  function item(member, data) {
    var checkin = payload(data);
    if (checkin.mood === undefined || isNaN(checkin.mood)) { return null; }
    return { key: data.get("key") || newKey(), member: member, payload: checkin, saved_at: Date.now() };
  }

  scope.alongsideOffline = {
    item: item,
    newKey: newKey,
    keep: function (kept) { return withStore("readwrite", function (store) { store.put(kept); }); },
    waiting: function (member) {
      return withStore("readonly", function (store) { return store.getAll(); }).then(function (items) {
        return (items || []).filter(function (kept) { return kept.member === member; });
      });
    },
    sent: function (key) { return withStore("readwrite", function (store) { store.delete(key); }); }
  };
})(self);
