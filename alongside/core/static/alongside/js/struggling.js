// "I'm struggling": the button opens the crisis screen at once, also without a network. Each press is kept
// on this device with its own key until the server has it, so the team hears of it when the connection returns
// and never twice. Without this script the button is an ordinary form post, which works the same online.
(function () {
  "use strict";

  var QUEUE = "alongside-struggling";
  var PAGE = "/me/struggling/";
  var memberId = document.body.getAttribute("data-member-id");
  if (!memberId) { return; }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function load() {
    try { return JSON.parse(localStorage.getItem(QUEUE) || "[]"); } catch (error) { return []; }
  }

  function store(items) {
    try { localStorage.setItem(QUEUE, JSON.stringify(items)); } catch (error) { /* private mode: post directly */ }
  }

  function status(kind) {
    var box = document.getElementById("struggling-status");
    if (!box) { return; }
    var text = box.getAttribute("data-" + kind);
    if (text) { box.textContent = text; box.hidden = false; }
  }

  function send(item) {
    var body = new URLSearchParams({ key: item.key, ask_team: item.ask_team ? "1" : "0" });
    return fetch(PAGE, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: body
    }).then(function (response) {
      // Signed out meanwhile: the answer is the crisis page, not a record; keep the press for after sign-in.
      if (!response.ok || response.redirected ||
          (response.headers.get("Content-Type") || "").indexOf("application/json") === -1) {
        throw new Error("not stored: " + response.status);
      }
      return response.json();
    });
  }

  var flushing = false;
  var again = false;
  function flush() {
    var items = load().filter(function (item) { return item.member === memberId; });
    if (!items.length) { return; }
    if (flushing) { again = true; return; }  // a press made while sending goes out right after
    if (!navigator.onLine) { status("queued"); return; }
    flushing = true;
    items.reduce(function (chain, item) {
      return chain.then(function () {
        return send(item).then(function () {
          store(load().filter(function (other) { return other.key !== item.key; }));
          status(item.ask_team ? "asked" : "told");
        });
      });
    }, Promise.resolve()).catch(function () { status("queued"); }).finally(function () {
      flushing = false;
      if (again) { again = false; flush(); }
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-struggling]");
    if (!form) { return; }
    event.preventDefault();
    var askTeam = (form.querySelector("input[name=ask_team]") || {}).value === "1";
    var items = load();
    items.push({ key: newKey(), member: memberId, ask_team: askTeam, at: Date.now() });
    store(items);
    if (window.location.pathname === PAGE) {
      flush();
    } else {
      // The crisis screen first; the page sends the press as soon as it loads (from the network or cache).
      window.location.assign(PAGE);
    }
  });

  window.addEventListener("online", flush);
  // On every member page: a press kept on this device while offline goes out as soon as any page loads online.
  flush();

  // Keep a fresh copy of the crisis screen on this device, so the button works without a network.
  var WARMED = "alongside-struggling-warmed";
  var last = parseInt(localStorage.getItem(WARMED) || "0", 10);
  if (navigator.onLine && "serviceWorker" in navigator && Date.now() - last > 10 * 60 * 1000) {
    navigator.serviceWorker.ready.then(function () {
      return fetch(PAGE, { credentials: "same-origin" });
    }).then(function () { localStorage.setItem(WARMED, String(Date.now())); }).catch(function () {});
  }
})();
