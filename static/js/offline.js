/* Installable and usable without signal. Registers the portal's service worker (which keeps
   the report page), and on the report page keeps a report made offline in IndexedDB, with a
   submission key of its own, and sends it when the connection returns: the resident sees
   "waiting to send", then "sent, issue #123". A retry sends the same key, so the server files
   it once whatever happens to the answer. Request types offline are those of the portal's
   centre, fetched while online; the server routes the chosen kind at the real place. */
(function () {
  "use strict";
  var manifest = document.querySelector("link[rel=manifest]");
  if ("serviceWorker" in navigator && manifest && manifest.getAttribute("data-worker")) {
    navigator.serviceWorker.register(manifest.getAttribute("data-worker")).catch(function () {});
  }
  // A slow network (the Network Information API, where there is one): the light form.
  var lite = document.getElementById("lite-link"), net = navigator.connection;
  if (lite && net && (net.saveData || /(^|-)2g$/.test(net.effectiveType || ""))) {
    window.location.replace(lite.href);
    return;
  }
  var status = document.getElementById("offline-status");
  var form = document.querySelector("form.report-form");
  if (!status || !form || !window.indexedDB || !window.fetch) return;

  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open("reportal-offline", 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("reports", { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function store(mode, act) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction("reports", mode);
        var request = act(tx.objectStore("reports"));
        tx.oncomplete = function () { resolve(request ? request.result : undefined); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }

  function say(text, href) {
    status.hidden = false;
    status.textContent = "";
    if (href) {
      var link = document.createElement("a");
      link.href = href; link.textContent = text;
      status.appendChild(link);
    } else {
      status.textContent = text;
    }
  }

  function newKey() {
    var random = window.crypto && crypto.randomUUID ? crypto.randomUUID()
      : Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
    return "offline-" + random;
  }

  form.addEventListener("submit", function (event) {
    if (navigator.onLine) return;
    if (event.submitter && event.submitter.getAttribute("formmethod") === "get") return;
    event.preventDefault();
    var key = newKey(), fields = [], photo = null;
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string") fields.push([name, name === "submission_key" ? key : value]);
      else if (value.size) photo = { name: name, file: value };
    });
    store("readwrite", function (s) {
      return s.put({ key: key, action: form.action, fields: fields, photo: photo });
    }).then(function () {
      form.reset();
      say(status.getAttribute("data-waiting"));
      window.setTimeout(waiting, RETRY_MS);
    });
  });

  var sending = false;
  function sendOne(item) {
    var body = new FormData();
    item.fields.forEach(function (kv) { body.append(kv[0], kv[1]); });
    if (item.photo) body.append(item.photo.name, item.photo.file, item.photo.file.name);
    return fetch(item.action, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) {
        var found = /\/issues\/(\d+)/.exec(response.url);
        if (response.ok && found) {
          return store("readwrite", function (s) { return s.delete(item.key); }).then(function () {
            say(status.getAttribute("data-sent").replace("%(id)s", found[1]), response.url);
          });
        }
        if (response.status >= 400 && response.status < 500 && response.status !== 429) {
          return store("readwrite", function (s) { return s.delete(item.key); }).then(function () {
            say(status.getAttribute("data-refused"));
          });
        }
      }).catch(function () {});  // still no connection: it waits for the next "online"
  }

  function sendAll() {
    if (sending) return;
    sending = true;
    store("readonly", function (s) { return s.getAll(); }).then(function (items) {
      return items.reduce(function (chain, item) {
        return chain.then(function () { return sendOne(item); });
      }, Promise.resolve());
    }).then(function () { sending = false; }, function () { sending = false; });
  }

  // `online` events are the cue, but browsers do not always send one (nor is `onLine` always
  // right), so while something waits it is tried again every few seconds.
  var RETRY_MS = 3000;
  function waiting() {
    return store("readonly", function (s) { return s.count(); }).then(function (n) {
      if (!n) return;
      if (!/\/issues\//.test(status.innerHTML)) say(status.getAttribute("data-waiting"));
      sendAll();
      window.setTimeout(waiting, RETRY_MS);
    });
  }
  window.addEventListener("online", sendAll);
  waiting();

  // While online, ask once for the request types at the portal's centre: the service worker
  // keeps the answer, and offers it for any place while there is no signal.
  var map = document.getElementById("report-map");
  function keepTypes() {
    if (!navigator.onLine || !map || !map.getAttribute("data-bbox")) return;
    var b = map.getAttribute("data-bbox").split(",").map(Number);
    fetch(map.getAttribute("data-types-url") + "?" + new URLSearchParams({
      lat: (b[1] + b[3]) / 2, lon: (b[0] + b[2]) / 2,
      lang: document.documentElement.lang.replace("-", "_") })).catch(function () {});
  }
  // Through the worker, so that it keeps the answer: on a first visit it takes over the
  // page only once installed.
  if ("serviceWorker" in navigator) {
    if (navigator.serviceWorker.controller) keepTypes();
    else navigator.serviceWorker.addEventListener("controllerchange", keepTypes, { once: true });
  }
})();
