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

  function pin(status, title) {
    return L.divIcon({ className: "pin pin-" + (STATUSES.indexOf(status) >= 0 ? status : "open"),
      iconSize: [18, 18], iconAnchor: [9, 9], popupAnchor: [0, -9], html: "" });
  }

  function baseMap(el) {
    // Right-to-left pages put the controls on the other side, like the rest of the page.
    var rtl = document.documentElement.dir === "rtl";
    var map = L.map(el, { maxZoom: 19, minZoom: 9, scrollWheelZoom: false, zoomControl: false,
      attributionControl: false });
    L.control.zoom({ position: rtl ? "topright" : "topleft" }).addTo(map);
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
      meta.textContent = p.type_name + " · " + fmt.format(new Date(p.created_at));
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

  function issuesMap(el) {
    var map = baseMap(el);
    var layer = L.layerGroup().addTo(map);
    var list = document.getElementById(el.getAttribute("data-list") || "");
    var count = document.getElementById(el.getAttribute("data-count") || "");
    var fixed = el.hasAttribute("data-fixed-query");
    var lang = document.documentElement.lang || "en";
    var query = el.getAttribute("data-query") || "";
    var pending = 0;
    function load() {
      var params = new URLSearchParams(query);
      params.delete("page");
      if (!fixed) {
        var b = map.getBounds();
        params.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (n) { return n.toFixed(5); }).join(","));
      }
      params.set("per_page", "500");
      var ticket = ++pending;
      fetch(el.getAttribute("data-issues-url") + "?" + params.toString(), { headers: { "Accept": "application/geo+json" } })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (ticket !== pending || !data.features) return;
          layer.clearLayers();
          data.features.forEach(function (f) {
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
            marker.addTo(layer);
          });
          el.setAttribute("data-loaded", String(data.features.length));
          if (list && !fixed) {
            renderList(list, data.features.slice(0, 50), lang);
            if (count && count.getAttribute("data-in-view")) {
              count.textContent = count.getAttribute("data-in-view").replace("%(n)s", data.total.toLocaleString(lang));
            }
          }
        }).catch(function () {});
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
