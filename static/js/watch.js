/* Watch form: click the map to set the centre; the circle follows the chosen distance.
   Without this file the form works with the plain latitude and longitude fields. */
(function () {
  "use strict";
  var mapEl = document.getElementById("watch-map");
  if (!mapEl || !window.L || !window.ReportalMap) return;
  var lat = document.getElementById("lat"), lon = document.getElementById("lon");
  var radius = document.getElementById("radius");
  var map = window.ReportalMap.baseMap(mapEl), circle = null;

  function draw() {
    var la = parseFloat(lat.value), lo = parseFloat(lon.value);
    if (!isFinite(la) || !isFinite(lo)) return;
    var r = parseFloat(radius.value) || 500;
    if (!circle) {
      circle = L.circle([la, lo], { radius: r, className: "watch-area", weight: 2 }).addTo(map);
    } else {
      circle.setLatLng([la, lo]);
      circle.setRadius(r);
    }
  }

  map.on("click", function (e) {
    lat.value = e.latlng.lat.toFixed(6);
    lon.value = e.latlng.lng.toFixed(6);
    var around = document.querySelector("input[name=kind][value=circle]");
    if (around) around.checked = true;
    draw();
  });
  [lat, lon, radius].forEach(function (el) { el.addEventListener("change", draw); });
  draw();
})();
