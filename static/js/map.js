/* Portal maps: the area outline, colour-and-shape coded pins, and a list that follows the
   map's view. The page works without this file; it only enhances what the server rendered. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  if (!window.L) return;

  var STATUSES = ["open", "acknowledged", "closed", "archived"];
  var LIST_SIZE = 20;  // as many as the home page lists
  var maps = [];

  function statusLabel(status) {
    var el = document.querySelector(".legend .status-" + status);
    return el ? el.textContent.trim() : status;
  }

  function pin(status, title) {
    return L.divIcon({ className: "pin pin-" + (STATUSES.indexOf(status) >= 0 ? status : "open"),
      iconSize: [18, 18], iconAnchor: [9, 9], popupAnchor: [0, -9], html: "" });
  }

  function baseMap(el) {
    // Right-to-left pages put the controls on the other side, like the rest of the page.
    var rtl = document.documentElement.dir === "rtl";
    var map = L.map(el, { maxZoom: 19, minZoom: 9, scrollWheelZoom: false, zoomControl: false,
      attributionControl: false });
    // Leaflet's own "Zoom in"/"Zoom out" are English: the page gives them in its language.
    var words = document.body.dataset;
    L.control.zoom({ position: rtl ? "topright" : "topleft",
      zoomInTitle: words.zoomIn || "Zoom in", zoomOutTitle: words.zoomOut || "Zoom out" }).addTo(map);
    L.control.attribution({ position: rtl ? "bottomleft" : "bottomright", prefix: false }).addTo(map);
    var tiles = el.getAttribute("data-tile-url");
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 19, attribution: el.getAttribute("data-tile-attribution") || "" }).addTo(map);
    }
    var bbox = (el.getAttribute("data-bbox") || "").split(",").map(Number);
    if (bbox.length === 4 && bbox.every(isFinite)) {
      map.fitBounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]]);
    }
    // A widget may ask for its own view (data-center="lat,lon", data-zoom).
    var centre = (el.getAttribute("data-center") || "").split(",").map(Number);
    if (centre.length === 2 && centre.every(isFinite)) {
      map.setView(centre, +el.getAttribute("data-zoom") || map.getZoom());
    }
    maps.push(map);
    var areaUrl = el.getAttribute("data-area-url");
    if (areaUrl) {
      fetch(areaUrl).then(function (r) { return r.json(); }).then(function (area) {
        L.geoJSON(area, { interactive: false, style: { className: "area-outline", fill: false, weight: 3, color: "#333" } }).addTo(map);
      }).catch(function () {});
    }
    return map;
  }

  function renderList(list, features, lang) {
    var fmt = new Intl.DateTimeFormat(lang, { dateStyle: "medium" });
    while (list.firstChild) list.removeChild(list.firstChild);
    features.forEach(function (f) {
      var p = f.properties;
      var li = document.createElement("li");
      li.className = "issue-item";
      li.setAttribute("data-id", String(p.id));
      var badge = document.createElement("span");
      badge.className = "status status-" + p.status;
      var shape = document.createElement("span");
      shape.className = "status-shape";
      shape.setAttribute("aria-hidden", "true");
      badge.appendChild(shape);
      badge.appendChild(document.createTextNode(statusLabel(p.status)));
      var a = document.createElement("a");
      a.href = p.url;
      a.textContent = p.title;
      var meta = document.createElement("span");
      meta.className = "issue-meta";
      var near = p.place ? " · " + (list.getAttribute("data-near") || "%(place)s").replace("%(place)s", p.place) : "";
      meta.textContent = p.type_name + near + " · " + fmt.format(new Date(p.created_at));
      li.appendChild(badge); li.appendChild(a); li.appendChild(meta);
      list.appendChild(li);
    });
    if (!features.length) {
      var empty = document.createElement("li");
      empty.className = "issue-empty";
      empty.textContent = list.getAttribute("data-empty") || "";
      list.appendChild(empty);
    }
  }

  function newestFirst(features) {
    return features.slice().sort(function (a, b) {
      return Date.parse(b.properties.created_at) - Date.parse(a.properties.created_at);
    });
  }

  function compactNumbers(lang) {
    var options = { notation: "compact", maximumFractionDigits: 1 };
    try { return new Intl.NumberFormat(lang, options); } catch (e) { return new Intl.NumberFormat("en", options); }
  }

  function pointMarker(f) {
    var c = f.geometry.coordinates, p = f.properties;
    var label = statusLabel(p.status) + ": " + p.title;
    var marker = L.marker([c[1], c[0]], { icon: pin(p.status), title: label, alt: label, keyboard: true });
    var link = document.createElement("a");
    link.href = p.url;
    link.textContent = p.title;
    var box = document.createElement("div");
    box.appendChild(link);
    box.appendChild(document.createElement("br"));
    box.appendChild(document.createTextNode(statusLabel(p.status) + " · " + p.type_name));
    marker.bindPopup(box);
    return marker;
  }

  // A cluster: its count (compact, in the page's language) in a ring split by status colour,
  // and the statuses present as shape marks, largest share first, so the split reads without
  // colour too. Its accessible name is the server's label ("42 issues: 30 open, 12 closed").
  function clusterIcon(p, numbers) {
    var counts = p.counts || {};
    var present = STATUSES.filter(function (s) { return counts[s] > 0; });
    var total = present.reduce(function (n, s) { return n + counts[s]; }, 0) || 1;
    var body = document.createElement("span");
    body.className = "cluster-body";
    var cut = 0;
    STATUSES.forEach(function (s, i) {
      cut += counts[s] || 0;
      if (i < STATUSES.length - 1) body.style.setProperty("--rp-cut-" + (i + 1), (100 * cut / total).toFixed(2) + "%");
    });
    var text = numbers.format(p.count);
    var count = document.createElement("span");
    count.className = "cluster-count";
    count.setAttribute("aria-hidden", "true");
    count.textContent = text;
    var marks = document.createElement("span");
    marks.className = "cluster-marks";
    marks.setAttribute("aria-hidden", "true");
    present.slice().sort(function (a, b) { return counts[b] - counts[a]; }).forEach(function (s) {
      var mark = document.createElement("span");
      mark.className = "cluster-mark pin-" + s;
      marks.appendChild(mark);
    });
    body.appendChild(count);
    body.appendChild(marks);
    // Bigger for bigger counts, and never narrower than its (translated, compact) number.
    var size = Math.max(p.count < 10 ? 32 : p.count < 100 ? 36 : p.count < 1000 ? 42 : 48, 18 + 8 * text.length);
    var dominant = present.length ? present.reduce(function (a, b) { return counts[b] > counts[a] ? b : a; }) : "open";
    return L.divIcon({ className: "cluster cluster-" + dominant, html: body, iconSize: [size, size],
      iconAnchor: [size / 2, size / 2], popupAnchor: [0, -size / 2] });
  }

  function clusterMarker(f, numbers, activate) {
    var c = f.geometry.coordinates, p = f.properties;
    var marker = L.marker([c[1], c[0]], { icon: clusterIcon(p, numbers), title: p.label, keyboard: true,
      riseOnHover: true });
    marker.on("add", function () {
      var icon = marker.getElement();
      icon.setAttribute("aria-label", p.label);
      // role=button: Enter and Space activate it, as they would a button. Cancelling keydown
      // also stops the keypress, so one key press is one activation.
      icon.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " " || e.key === "Spacebar") {
          e.preventDefault();
          activate(marker, p, true);
        }
      });
    });
    marker.on("click", function () { activate(marker, p, false); });
    return marker;
  }

  function issuesMap(el) {
    var map = baseMap(el);
    var layer = L.layerGroup().addTo(map);
    var list = document.getElementById(el.getAttribute("data-list") || "");
    var count = document.getElementById(el.getAttribute("data-count") || "");
    var fixed = el.hasAttribute("data-fixed-query");
    var lang = document.documentElement.lang || "en";
    var numbers = compactNumbers(lang);
    var query = el.getAttribute("data-query") || "";
    var pending = 0, inflight = null, refocus = false;

    // Into the cluster's cell; where the map cannot zoom further (issues stacked on one spot),
    // a popup links to the cell's issues as a list instead.
    function activate(marker, p, byKeyboard) {
      var b = p.bounds || [];
      var bounds = b.length === 4 ? L.latLngBounds([b[1], b[0]], [b[3], b[2]]) : L.latLngBounds([marker.getLatLng()]);
      var zoom = map.getZoom(), max = map.getMaxZoom();
      if (zoom >= max) {
        var href = el.getAttribute("data-list-url");
        if (!href) return;
        var link = document.createElement("a");
        link.href = href + "?" + cellQuery(b).toString();
        link.textContent = el.getAttribute("data-cluster-list") || p.label;
        var box = document.createElement("div");
        box.appendChild(document.createTextNode(p.label));
        box.appendChild(document.createElement("br"));
        box.appendChild(link);
        // A popup of the map's, not the marker's: it outlives the redraw a move brings.
        var anchor = marker.options.icon.options.popupAnchor || [0, 0];
        L.popup({ offset: [anchor[0], 7 + anchor[1]] }).setLatLng(marker.getLatLng()).setContent(box).openOn(map);
        if (byKeyboard) link.focus();
        return;
      }
      refocus = byKeyboard;
      var target = Math.min(Math.max(map.getBoundsZoom(bounds), zoom + 1), max);
      map.setView(bounds.getCenter(), target);
    }

    function filters() {
      var params = new URLSearchParams(query);
      ["page", "per_page", "zoom", "bbox", "lang"].forEach(function (k) { params.delete(k); });
      params.set("lang", lang);
      return params;
    }

    function cellQuery(b) {
      var params = filters();
      params.delete("lang");
      if (b.length === 4) params.set("bbox", b.join(","));
      return params;
    }

    // Which feature a marker shows, so the keyboard focus survives a redraw of the same place.
    function featureKey(f) {
      var p = f.properties || {};
      return p.cluster ? "cluster:" + (p.bounds || []).join(",") : "issue:" + p.id;
    }

    function draw(data) {
      var focused = document.activeElement;
      var hadFocus = refocus || (focused && focused.hasAttribute("data-key") && el.contains(focused));
      var focusedKey = hadFocus && focused ? focused.getAttribute("data-key") : null;
      var openKey = null;  // a pin's popup: its own opening may have moved the map
      layer.eachLayer(function (m) { if (m.isPopupOpen()) openKey = m.getElement().getAttribute("data-key"); });
      layer.clearLayers();
      var markers = data.features.map(function (f) {
        var marker = f.properties && f.properties.cluster ? clusterMarker(f, numbers, activate) : pointMarker(f);
        marker.addTo(layer);
        var icon = marker.getElement();
        // Leaflet pans a marker reached by Tab into view (autoPanOnFocus; a cluster's centre
        // may lie just outside the view, its cell only touching it); the key lets the redraw
        // that pan brings give the focus back to the same place.
        icon.setAttribute("data-key", featureKey(f));
        return marker;
      });
      markers.forEach(function (m) {
        if (openKey && m.getElement().getAttribute("data-key") === openKey && m.getPopup()) m.openPopup();
      });
      el.setAttribute("data-clustered", data.clustered ? "true" : "false");
      el.setAttribute("data-drawn-zoom", String(data.zoom));
      el.setAttribute("data-loaded", String(data.features.length));
      if (hadFocus && markers.length) {
        // The focused marker is redrawn: focus the same place again, or, when it split or
        // went, what is nearest the centre of the new view.
        var same = markers.filter(function (m) { return m.getElement().getAttribute("data-key") === focusedKey; });
        if (!same.length) {
          var centre = map.getCenter();
          same = markers.slice().sort(function (a, b) { return centre.distanceTo(a.getLatLng()) - centre.distanceTo(b.getLatLng()); });
        }
        same[0].getElement().focus({ preventScroll: true });
      }
      refocus = false;
    }

    function load() {
      // A newer view makes the older request pointless: abort it, so the server can stop too.
      if (inflight) inflight.abort();
      var controller = window.AbortController ? new AbortController() : null;
      inflight = controller;
      var signal = controller ? controller.signal : undefined;
      var ticket = ++pending;
      var params = filters();
      var b = map.getBounds();
      params.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (n) { return n.toFixed(5); }).join(","));
      var listParams = new URLSearchParams(params);
      params.set("zoom", String(Math.max(0, Math.min(22, Math.round(map.getZoom())))));
      var url = el.getAttribute("data-issues-url");
      function get(p) {
        return fetch(url + "?" + p.toString(), { headers: { "Accept": "application/geo+json" }, signal: signal })
          .then(function (r) { return r.json(); });
      }
      get(params).then(function (data) {
        if (ticket !== pending || !data.features) return null;
        draw(data);
        if (!list || fixed) return null;
        if (count && count.getAttribute("data-in-view")) {
          count.textContent = count.getAttribute("data-in-view").replace("%(n)s", data.total.toLocaleString(lang));
        }
        if (!data.clustered) return newestFirst(data.features).slice(0, LIST_SIZE);
        // Clusters carry no issues: the newest in view come from the paged list, same filters.
        listParams.set("per_page", String(LIST_SIZE));
        return get(listParams).then(function (page) { return page.features || null; });
      }).then(function (features) {
        if (features && ticket === pending) renderList(list, features, lang);
      }).catch(function () {}).then(function () {
        if (inflight === controller) inflight = null;
      });
    }
    map.on("moveend", load);
    load();
  }

  function pointMap(el) {
    var map = baseMap(el);
    var ll = el.getAttribute("data-point").split(",").map(Number);
    L.marker(ll, { icon: pin(el.getAttribute("data-status")), keyboard: false, interactive: false }).addTo(map);
    map.setView(ll, 17);
  }

  document.querySelectorAll(".map[data-issues-url]").forEach(issuesMap);
  document.querySelectorAll(".map[data-point]").forEach(pointMap);
  window.ReportalMap = { baseMap: baseMap, pin: pin, maps: maps };
})();
