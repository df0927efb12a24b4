/* Watch my commute: click the map at each turn of a route; the line is written as GeoJSON
   into the hidden route_line field. Without this file the form offers the portal's named
   routes (a pick list) and the drawing part stays hidden. */
(function () {
  "use strict";
  var mapEl = document.getElementById("route-map");
  var field = document.getElementById("route_line");
  if (!mapEl || !field || !window.L || !window.ReportalMap) return;
  var box = mapEl.closest(".watch-route-draw");
  if (box) box.hidden = false;
  var map = window.ReportalMap.baseMap(mapEl), points = [], line = null;
  var corridor = document.getElementById("corridor");

  function write() {
    field.value = points.length ? JSON.stringify({
      type: "LineString",
      coordinates: points.map(function (p) { return [+p.lng.toFixed(6), +p.lat.toFixed(6)]; })
    }) : "";
    if (line) { map.removeLayer(line); line = null; }
    if (points.length) {
      line = L.polyline(points, { className: "watch-area", weight: 4 }).addTo(map);
    }
  }

  try {
    var kept = JSON.parse(field.value || "null");
    if (kept && kept.type === "LineString") {
      points = kept.coordinates.map(function (c) { return L.latLng(c[1], c[0]); });
    }
  } catch (e) { points = []; }

  map.on("click", function (e) {
    points.push(e.latlng);
    var route = document.querySelector("input[name=kind][value=route]");
    if (route) route.checked = true;
    if (corridor) corridor.value = "";  // a drawn line is the resident's own route
    write();
  });
  document.getElementById("route-clear").addEventListener("click", function () {
    points = [];
    write();
  });
  write();
})();
