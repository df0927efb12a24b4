/* Inside a widget's iframe: talk to the embed loader on the host page (protocol v1).
   Says "ready" with the translated title (and again a few times: the snippet's own <iframe>
   may load before the host page's loader runs, which then needs to hear it), reports the page height as it changes (report and
   announcements; the map keeps the height the host reserved), and accepts host messages only
   from the parent window and only from the portal's allowed embedding origins. The report
   widget loads Leaflet only when someone asks for the map. */
(function () {
  "use strict";
  var root = document.documentElement, body = document.body;
  root.classList.add("js");
  var kind = body.getAttribute("data-widget");

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = src;
      s.onload = resolve;
      s.onerror = reject;
      document.head.appendChild(s);
    });
  }

  // Report widget: place first with plain fields and "use my location"; the map on demand.
  var mapButton = document.getElementById("show-map");
  if (mapButton) {
    mapButton.hidden = false;
    mapButton.addEventListener("click", function () {
      mapButton.disabled = true;
      var css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = mapButton.getAttribute("data-leaflet-css");
      document.head.appendChild(css);
      loadScript(mapButton.getAttribute("data-leaflet-js"))
        .then(function () { return loadScript(mapButton.getAttribute("data-map-js")); })
        .then(function () {
          mapButton.hidden = true;
          if (window.ReportalReport) window.ReportalReport.startMap();
          var map = document.getElementById("report-map");
          if (map) map.focus();
        })
        .catch(function () { mapButton.disabled = false; });
    });
  }

  if (window.parent === window) return;  // opened on its own: nobody to talk to
  var allowed = (body.getAttribute("data-origins") || "").split(" ").filter(Boolean);
  allowed.push(location.origin);
  var ancestors = location.ancestorOrigins;
  // Post only to the embedding origin when the browser tells us which it is; otherwise to each
  // allowed origin (the browser delivers to the one that matches, drops the rest).
  var targets = ancestors && ancestors.length
    ? allowed.filter(function (o) { return o === ancestors[0]; }) : allowed;

  function post(message) {
    message.reportal = 1;
    targets.forEach(function (origin) { window.parent.postMessage(message, origin); });
  }

  // On the widget's first page, the height the host page reserved (the frame's own, when
  // this runs) is a floor: the frame grows to longer content but does not shrink below it,
  // so text under a widget in the host's first screen does not jump up while the page loads
  // (when, say, there are two short announcements). A page reached from inside the widget
  // (the report's "thank you") follows someone's click, and fits its content.
  var inside = document.referrer.indexOf(location.origin + "/") === 0;
  var reserved = inside ? 0 : window.innerHeight;
  function height() {
    return Math.max(reserved, Math.ceil(body.getBoundingClientRect().height));
  }

  var last = 0;
  function resized() {
    var h = height();
    if (h !== last) {
      last = h;
      post({ type: "height", height: h });
    }
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.source !== window.parent || allowed.indexOf(event.origin) < 0 || !data
        || data.reportal !== 1) return;
    if (data.type === "view" && kind === "map" && window.ReportalMap && ReportalMap.maps[0]) {
      var centre = data.center;
      if (Array.isArray(centre) && centre.length === 2 && centre.every(isFinite)) {
        ReportalMap.maps[0].setView(centre, +data.zoom || ReportalMap.maps[0].getZoom());
      }
    }
  });

  var ready = { type: "ready", title: document.title };
  if (kind !== "map") {
    last = ready.height = height();
    if (window.ResizeObserver) new ResizeObserver(resized).observe(body);
  }
  post(ready);
  // Said again at 1, 2 and 4 s for a loader that was not listening yet (repeats change
  // nothing for one that was).
  [1e3, 2e3, 4e3].forEach(function (delay) {
    setTimeout(function () {
      if (kind !== "map") ready.height = last = height();
      post(ready);
    }, delay);
  });
})();
