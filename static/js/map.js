/* Portal maps: the area outline, colour-and-shape coded pins, and a list that follows the
   map's view. The page works without this file; it only enhances what the server rendered. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  if (!window.L) return;

  var STATUSES = ["open", "acknowledged", "closed", "archived"];
  var maps = [];

  function statusLabel(status) {
    var el = document.querySelector(".legend .status-" + status);
    return el ? el.textContent.trim() : status;
  }

  // An overdue issue's pin carries a clock mark besides its colour (the words are in its
  // title and popup), so lateness never reads from colour alone.
  function pin(status, overdue) {
    var shape = "pin pin-" + (STATUSES.indexOf(status) >= 0 ? status : "open");
    if (overdue) {  // the shape's clip-path would cut the mark off: both sit in a plain box
      return L.divIcon({ className: "pin-overdue", iconSize: [24, 24], iconAnchor: [12, 12], popupAnchor: [0, -12],
        html: "<span class=\"" + shape + "\"></span><span class=\"overdue-mark\" aria-hidden=\"true\">⏰</span>" });
    }
    return L.divIcon({ className: shape, iconSize: [24, 24], iconAnchor: [12, 12], popupAnchor: [0, -12], html: "" });
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

  // The list beside the map, for a new view: the server's own rendering of the same page for
  // that view (same filters, same markup: votes, dates, isolated names, the pager), swapped in.
  function swapList(list, html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById(list.id);
    if (!fresh) return;
    list.replaceWith(document.importNode(fresh, true));
    var pager = document.getElementById(list.id + "-pager");
    var freshPager = doc.getElementById(list.id + "-pager");
    if (pager && freshPager) pager.replaceWith(document.importNode(freshPager, true));
  }

  function compactNumbers(lang) {
    var options = { notation: "compact", maximumFractionDigits: 1 };
    try { return new Intl.NumberFormat(lang, options); } catch (e) { return new Intl.NumberFormat("en", options); }
  }

  function pointMarker(f) {
    var c = f.geometry.coordinates, p = f.properties;
    var label = statusLabel(p.status) + (p.overdue_label ? " · " + p.overdue_label : "") + ": " + p.title;
    // Not a tab stop: the map is one stop (arrows pan, +/- zoom) and the list beside it says
    // what the pins show; a hundred pins must not be a hundred stops (see issuesMap).
    var marker = L.marker([c[1], c[0]], { icon: pin(p.status, p.overdue), title: label, alt: label, keyboard: false });
    var link = document.createElement("a");
    link.href = p.url;
    link.textContent = p.title;
    var box = document.createElement("div");
    box.appendChild(link);
    box.appendChild(document.createElement("br"));
    box.appendChild(document.createTextNode(statusLabel(p.status) + " · " + p.type_name));
    if (p.overdue_label) {
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode("⏰ " + p.overdue_label));
    }
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
    var marker = L.marker([c[1], c[0]], { icon: clusterIcon(p, numbers), title: p.label, keyboard: false,
      riseOnHover: true });
    marker.on("add", function () {
      var icon = marker.getElement();
      icon.setAttribute("aria-label", p.label);
      // A button a screen reader finds and presses by its name, but no tab stop of its own.
      icon.setAttribute("role", "button");
      icon.tabIndex = -1;
      // Pins grouped here because they overlap on screen (not a server cluster): how many.
      if (p.near) icon.setAttribute("data-near", String(p.count));
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
    // The map is one tab stop (Leaflet's keyboard: arrows pan, + and - zoom); what it says
    // about itself is the help beside it and the live count of issues in view, which the list
    // below follows.
    if (count) el.setAttribute("aria-describedby", ((el.getAttribute("aria-describedby") || "") + " " + count.id).trim());
    var fixed = el.hasAttribute("data-fixed-query");
    var lang = document.documentElement.lang || "en";
    var numbers = compactNumbers(lang);
    var query = el.getAttribute("data-query") || "";
    var pending = 0, inflight = null, refocus = false;
    var first = new URLSearchParams(query);
    var keepList = !!(first.get("after") || first.get("before") || +first.get("page") > 1);

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

    // Pins closer on screen than a pin's own size would overlap, and a pin half under another
    // is hard to hit (WCAG 2.2 asks for 24 by 24 px targets): at this zoom they are drawn as one
    // small cluster, at the first one's place, that zooms in like the server's clusters.
    var APART = 36;  // px between anchors: a 32 px cluster beside a 24 px pin does not overlap
    function grouped(features) {
      var groups = [];
      features.forEach(function (f) {
        var c = f.geometry.coordinates;
        var at = map.latLngToContainerPoint([c[1], c[0]]);
        var group = groups.filter(function (g) {
          return Math.abs(g.at.x - at.x) < APART && Math.abs(g.at.y - at.y) < APART;
        })[0];
        if (group) group.members.push(f); else groups.push({ at: at, members: [f] });
      });
      return groups.map(function (g) {
        if (g.members.length === 1) return g.members[0];
        var counts = {}, lons = [], lats = [];
        g.members.forEach(function (f) {
          var st = f.properties.status;
          counts[st] = (counts[st] || 0) + 1;
          lons.push(f.geometry.coordinates[0]); lats.push(f.geometry.coordinates[1]);
        });
        // Its name starts with the count it shows, then says what is there.
        var label = numbers.format(g.members.length) + " · " + g.members.map(function (f) {
          return statusLabel(f.properties.status) + ": " + f.properties.title; }).join("; ");
        return { type: "Feature", geometry: g.members[0].geometry, properties: {
          cluster: true, near: true, count: g.members.length, counts: counts, label: label,
          bounds: [Math.min.apply(null, lons), Math.min.apply(null, lats), Math.max.apply(null, lons), Math.max.apply(null, lats)] } };
      });
    }

    function draw(data) {
      var focused = document.activeElement;
      var hadFocus = refocus || (focused && focused.hasAttribute("data-key") && el.contains(focused));
      var focusedKey = hadFocus && focused ? focused.getAttribute("data-key") : null;
      var openKey = null;  // a pin's popup: its own opening may have moved the map
      layer.eachLayer(function (m) { if (m.isPopupOpen()) openKey = m.getElement().getAttribute("data-key"); });
      layer.clearLayers();
      var features = data.clustered ? data.features : grouped(data.features);
      var markers = features.map(function (f) {
        var marker = f.properties && f.properties.cluster ? clusterMarker(f, numbers, activate) : pointMarker(f);
        marker.addTo(layer);
        var icon = marker.getElement();
        // A cluster opened by Enter or Space keeps the focus (it moves the map): the key lets
        // the redraw give it back to the same place, or to what the cluster split into.
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
        // A later page of the list (the pager's link) stays as the server sent it until the
        // map moves.
        if (keepList) { keepList = false; return null; }
        var source = el.getAttribute("data-list-source") || window.location.pathname;
        return fetch(source + "?" + listParams.toString(), { headers: { "Accept": "text/html" }, signal: signal })
          .then(function (r) { return r.ok ? r.text() : null; });
      }).then(function (html) {
        if (html && ticket === pending) {
          swapList(list, html);
          list = document.getElementById(el.getAttribute("data-list"));
        }
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
