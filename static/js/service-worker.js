/* The portal's service worker: the report page and the files it needs stay on the phone, so
   a report can be made without signal (static/js/offline.js keeps it until it can be sent).
   Pages come from the network when there is one (and the copy is refreshed), else from the
   copy; our static files, which never change under one name, from the copy first. */
"use strict";

var CACHE = "reportal-offline-v1";

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
    return Promise.all(names.filter(function (n) { return n !== CACHE; })
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

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var where = new URL(request.url);
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
