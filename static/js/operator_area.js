/* The create-portal form's map: shows the area read so far, and lets the operator draw one
   instead: each click adds a corner, and the polygon is written as GeoJSON into the hidden
   `drawn_geojson` field the server reads. Without this file the form takes a boundary file. */
(function () {
  "use strict";
  var el = document.getElementById("area-map");
  var field = document.getElementById("drawn-geojson");
  var block = document.getElementById("draw-block");
  if (!window.L || !el || !field || !block) return;
  block.hidden = false;  // Leaflet measures the map: show it first
  var map = L.map(el, { maxZoom: 19, attributionControl: false }).setView([20, 0], 2);
  var tiles = el.getAttribute("data-tile-url");
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 19, attribution: el.getAttribute("data-tile-attribution") || "" }).addTo(map);
  }
  var outline = el.getAttribute("data-outline");
  if (outline) {
    var shown = L.geoJSON(JSON.parse(outline), { style: { weight: 2, fillOpacity: 0.1 } }).addTo(map);
    map.fitBounds(shown.getBounds());
  }
  var corners = [];
  var drawn = null;
  var clear = document.getElementById("clear-drawing");

  function write() {
    if (drawn) map.removeLayer(drawn);
    drawn = corners.length ? L.polygon(corners, { weight: 2 }).addTo(map) : null;
    if (corners.length < 3) { field.value = ""; return; }
    var ring = corners.map(function (c) { return [c.lng, c.lat]; });
    ring.push(ring[0]);
    field.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
  }

  try {  // a drawing carried back from a preview is shown again, and can be extended
    var kept = field.value ? JSON.parse(field.value) : null;
    if (kept && kept.type === "Polygon") {
      corners = kept.coordinates[0].slice(0, -1).map(function (c) { return L.latLng(c[1], c[0]); });
      write();
      if (!outline && drawn) map.fitBounds(drawn.getBounds());
    }
  } catch (e) { field.value = ""; }

  map.on("click", function (event) { corners.push(event.latlng); write(); });
  if (clear) clear.addEventListener("click", function () { corners = []; write(); });
})();
