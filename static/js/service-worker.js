/* The portal's service worker: the report page and the files it needs stay on the phone, so
   a report can be made without signal (static/js/offline.js keeps it until it can be sent).
   Pages come from the network when there is one (and the copy is refreshed), else from the
   copy; our static files, which never change under one name, from the copy first. */
"use strict";

var CACHE = "reportal-offline-v1";
// Map tiles the resident has looked at, so the map around them still draws without signal:
// the most recent ones only (an opaque tile can count for megabytes of quota).
var TILES = "reportal-tiles-v1", MAX_TILES = 150;
var TILE_PATH = /\/\d{1,2}\/\d+\/\d+(@2x)?\.(png|jpe?g|webp)$/;

// The report page, and every script and style sheet it names: a page opened before this
// worker took over fetched them without it.
function precache(cache) {
  return fetch("./report").then(function (response) {
    var copy = response.clone();
    return response.text().then(function (html) {
      var urls = [], named = /(?:src|href)="([^"]+\.(?:js|css))"/g, found;
      while ((found = named.exec(html))) {
        urls.push(new URL(found[1].replace(/&amp;/g, "&"), self.location).href);
      }
      return cache.put("./report", copy).then(function () { return cache.addAll(urls); });
    });
  });
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return precache(cache).catch(function () {});
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n !== CACHE && n !== TILES; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

function keep(request, response) {
  var noStore = /no-store/.test(response.headers.get("cache-control") || "");
  var report = new URL(request.url).pathname.endsWith("/report");
  if (response.ok && (!noStore || report)) {
    var copy = response.clone();
    caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
  }
  return response;
}

function trim(cache) {
  return cache.keys().then(function (keys) {  // oldest first
    return Promise.all(keys.slice(0, Math.max(0, keys.length - MAX_TILES))
      .map(function (key) { return cache.delete(key); }));
  });
}

// From the network while there is one (keeping a copy), else the copy.
function tile(request) {
  return fetch(request).then(function (response) {
    if (response.ok || response.type === "opaque") {
      var copy = response.clone();
      caches.open(TILES).then(function (cache) {
        return cache.delete(request).then(function () { return cache.put(request, copy); })
          .then(function () { return trim(cache); });
      }).catch(function () {});
    }
    return response;
  }).catch(function () {
    return caches.open(TILES).then(function (cache) { return cache.match(request); })
      .then(function (hit) { return hit || Response.error(); });
  });
}

// A report sent while the phone believes it is online but no answer comes (weak signal, or a
// page opened offline): the worker keeps it where the page keeps its own offline reports
// (static/js/offline.js reads the same store, sends it when it can, and says so), and the
// resident lands on the report page again instead of the browser's error page. A step of
// the form (place, photo) needs the server's answer: that one is not kept.
function keepReport(item) {
  return new Promise(function (resolve, reject) {
    var opening = indexedDB.open("reportal-offline", 1);
    opening.onupgradeneeded = function () {
      opening.result.createObjectStore("reports", { keyPath: "key" });
    };
    opening.onerror = function () { reject(opening.error); };
    opening.onsuccess = function () {
      var tx = opening.result.transaction("reports", "readwrite");
      tx.objectStore("reports").put(item);
      tx.oncomplete = resolve;
      tx.onerror = function () { reject(tx.error); };
    };
  });
}

function postReport(request) {
  var copy = request.clone();
  return fetch(request).catch(function () {
    return copy.formData().then(function (data) {
      var back = new URL("report", request.url);
      if (data.get("step")) return caches.match("./report", { ignoreVary: true });
      var key = "offline-" + (self.crypto && crypto.randomUUID ? crypto.randomUUID()
        : Date.now().toString(36) + Math.random().toString(36).slice(2));
      var fields = [], photo = null;
      data.forEach(function (value, name) {
        if (typeof value === "string") fields.push([name, name === "submission_key" ? key : value]);
        else if (value.size) photo = { name: name, file: value };
      });
      return keepReport({ key: key, action: request.url, fields: fields, photo: photo })
        .then(function () { return Response.redirect(back.href, 303); });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var where = new URL(request.url);
  if (request.method === "POST" && request.mode === "navigate" &&
      where.origin === self.location.origin && /\/report$/.test(where.pathname)) {
    event.respondWith(postReport(request));
    return;
  }
  if (request.method === "GET" && where.origin !== self.location.origin &&
      request.destination === "image" && TILE_PATH.test(where.pathname)) {
    event.respondWith(tile(request));
    return;
  }
  if (request.method !== "GET" || where.origin !== self.location.origin) return;
  var isStatic = where.pathname.indexOf("/static/") !== -1;
  var isPage = request.mode === "navigate";
  var isTypes = /\/api\/request-types$/.test(where.pathname);
  if (!isStatic && !isPage && !isTypes && !/theme\.css$|\/logo\.svg$|\/api\/area/.test(where.pathname)) {
    return;
  }
  if (isStatic) {
    event.respondWith(caches.match(request, { ignoreVary: true }).then(function (hit) {
      return hit || fetch(request).then(function (response) { return keep(request, response); });
    }));
    return;
  }
  event.respondWith(fetch(request).then(function (response) {
    return keep(request, response);
  }).catch(function () {
    // Our answers vary on the language and encoding; offline, any copy beats none.
    var options = { ignoreSearch: isPage || isTypes, ignoreVary: true };
    return caches.match(request, options).then(function (hit) {
      if (hit || !isPage) return hit || Response.error();
      return caches.match("./report", { ignoreVary: true }).then(function (page) {
        return page || Response.error();
      });
    });
  }));
});
