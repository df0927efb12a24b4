/* Report form: set the place on a map (click, drag, or your location), then offer the request
   types of the bodies responsible there. Without this file the form works with plain fields. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var form = document.querySelector("form.report-form");
  if (!form) return;
  var lat = form.querySelector("#lat"), lon = form.querySelector("#lon");
  var options = form.querySelector("#type-options");
  var status = form.querySelector("#place-status");
  var mapEl = form.querySelector("#report-map");
  var locate = form.querySelector("#use-location");
  var marker = null, map = null, typesAsked = 0, typesPlace = null;
  var STREET_ZOOM = 18;

  function say(text) { if (status) status.textContent = text || ""; }

  // The new list's option for a chosen key: the same key, or else the same kind of problem
  // from the body that has it here (the server routes a moved pin's choice the same way).
  function optionFor(key) {
    var inputs = options.querySelectorAll("input[name=request_type]");
    var code = key.split("/").pop(), sameKind = null;
    for (var i = 0; i < inputs.length; i++) {
      if (inputs[i].value === key) return inputs[i];
      if (!sameKind && inputs[i].value.split("/").pop() === code) sameKind = inputs[i];
    }
    return sameKind;
  }

  function typeOption(t) {
    var label = document.createElement("label");
    label.className = "type-option";
    var input = document.createElement("input");
    input.type = "radio"; input.name = "request_type"; input.value = t.key; input.required = true;
    var name = document.createElement("span");
    name.className = "type-name"; name.textContent = t.name;
    label.appendChild(input); label.appendChild(name);
    if (t.help) {
      var help = document.createElement("span");
      help.className = "type-help"; help.textContent = t.help;
      label.appendChild(help);
    }
    var body = document.createElement("span");
    body.className = "type-body";
    body.textContent = (options.getAttribute("data-sent-to") || "%(body)s").replace("%(body)s", t.body);
    label.appendChild(body);
    return label;
  }

  function loadTypes() {
    if (!lat.value || !lon.value || !mapEl) return;
    // The same place again (a change event after a drag, say): keep the list and the choice,
    // and ask nothing while the list for it is on its way.
    var here = lat.value + "," + lon.value;
    if (options.getAttribute("data-place") === here || typesPlace === here) return;
    typesPlace = here;
    var url = mapEl.getAttribute("data-types-url") + "?" + new URLSearchParams({ lat: lat.value, lon: lon.value, lang: document.documentElement.lang.replace("-", "_") });
    var mine = ++typesAsked;
    fetch(url).then(function (r) { return r.json(); }).then(function (data) {
      if (mine !== typesAsked) return;  // the place moved again; the later answer wins
      typesPlace = null;
      if (data.errors) {
        say(data.errors.lat || data.errors.lon || "");
        return;
      }
      // The named announcement (below) says more; this one only when it has not come.
      if (named !== lat.value + "," + lon.value) say(options.getAttribute("data-place-set") || "");
      // Read the choice now, not when asking: on a slow connection a resident often picks a
      // type before the list for the new place arrives, and that choice must survive it.
      var checked = form.querySelector("input[name=request_type]:checked");
      while (options.firstChild) options.removeChild(options.firstChild);
      data.request_types.forEach(function (t) { options.appendChild(typeOption(t)); });
      var keep = checked && optionFor(checked.value);
      if (keep) keep.checked = true;
      else if (data.request_types.length === 1) options.querySelector("input").checked = true;
      options.setAttribute("data-place", here);
      loadNearby();
    }).catch(function () { if (mine === typesAsked) typesPlace = null; });
  }

  // "Already reported?": once place and type are chosen, the issues of that type nearby, as
  // the server renders them (the same part of the form the no-JS step shows).
  var nearbyBox = form.querySelector("#nearby"), nearbyAsked = "";
  function loadNearby() {
    var chosen = form.querySelector("input[name=request_type]:checked");
    if (!nearbyBox || !chosen || !lat.value || !lon.value) return;
    var query = new URLSearchParams({ lat: lat.value, lon: lon.value, type: chosen.value,
      lang: document.documentElement.lang.replace("-", "_") }).toString();
    if (query === nearbyAsked) return;
    nearbyAsked = query;
    fetch(nearbyBox.getAttribute("data-url") + "?" + query).then(function (r) {
      return r.ok ? r.text() : "";
    }).then(function (html) {
      if (query !== nearbyAsked) return;  // a later choice's answer wins
      nearbyBox.innerHTML = html;
      if (nearbyBox.querySelector(".nearby")) say(nearbyBox.getAttribute("data-found") || "");
    }).catch(function () {});
  }
  options.addEventListener("change", loadNearby);

  function showPin(latlng) {
    if (!map) return;
    if (!marker) {
      var label = mapEl.getAttribute("data-pin-label") || "";
      marker = L.marker(latlng, { draggable: true, autoPan: true, title: label, alt: label,
        icon: L.divIcon({ className: "pin-you", iconSize: [24, 24], iconAnchor: [12, 24] }) }).addTo(map);
      marker.on("dragend", function () { place(marker.getLatLng(), false); });
    } else {
      marker.setLatLng(latlng);
    }
  }

  // Says where the pin now is, by name when the portal knows one ("Place set near 120
  // Chapel St, Downtown"), through the form's live region.
  var naming = 0, named = "";
  function announce() {
    var url = mapEl && mapEl.getAttribute("data-name-url");
    if (!url) return;
    var ticket = ++naming;
    fetch(url + "?" + new URLSearchParams({ lat: lat.value, lon: lon.value, lang: document.documentElement.lang.replace("-", "_") }))
      .then(function (r) { return r.json(); }).then(function (data) {
        if (ticket !== naming || !data.name) return;
        named = lat.value + "," + lon.value;
        say((mapEl.getAttribute("data-set-near") || "%(place)s").replace("%(place)s", data.name));
      }).catch(function () {});
  }

  function place(latlng, pan) {
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
    showPin(latlng);
    if (map && pan) map.panTo(latlng);
    loadTypes();
    announce();
  }

  // The keyboard's pin: arrows move it by ten pixels (fifty with Shift), so a step is a few
  // metres close up and a street or more zoomed out; Enter (or Space) sets the place there.
  function keyboardPin() {
    var cursor = null;
    map.keyboard.disable();  // Leaflet's own arrows pan the map; here they move the pin
    mapEl.setAttribute("tabindex", "0");
    mapEl.setAttribute("role", "application");
    mapEl.setAttribute("aria-label", mapEl.getAttribute("data-map-label") || "");
    var keys = document.getElementById("map-keys");
    if (keys) keys.hidden = false;
    mapEl.addEventListener("keydown", function (e) {
      if (e.target !== mapEl || e.altKey || e.ctrlKey || e.metaKey) return;
      var step = e.shiftKey ? 50 : 10, dx = 0, dy = 0;
      if (e.key === "ArrowLeft") dx = -step;
      else if (e.key === "ArrowRight") dx = step;
      else if (e.key === "ArrowUp") dy = -step;
      else if (e.key === "ArrowDown") dy = step;
      else if (e.key === "+" || e.key === "=") { e.preventDefault(); map.zoomIn(); return; }
      else if (e.key === "-" || e.key === "_") { e.preventDefault(); map.zoomOut(); return; }
      else if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        place(cursor || (marker ? marker.getLatLng() : map.getCenter()), false);
        cursor = null;
        return;
      } else return;
      e.preventDefault();
      var start = cursor || (marker ? marker.getLatLng() : map.getCenter());
      cursor = map.containerPointToLatLng(map.latLngToContainerPoint(start).add([dx, dy]));
      showPin(cursor);
      if (!map.getBounds().pad(-0.15).contains(cursor)) map.panTo(cursor);
      say(mapEl.getAttribute("data-moved") || "");
    });
  }

  // The map starts now if Leaflet is on the page, or later (the report widget loads it on demand).
  function startMap() {
    if (map || !mapEl || !window.L || !window.ReportalMap) return;
    map = window.ReportalMap.baseMap(mapEl);
    map.on("click", function (e) { place(e.latlng, false); });
    keyboardPin();
    // Only now may the hint speak of the map: without it, it says how to do without.
    var plainHint = document.getElementById("place-hint"), mapHint = document.getElementById("map-hint");
    if (plainHint && mapHint) { plainHint.hidden = true; mapHint.hidden = false; }
    if (lat.value && lon.value && isFinite(+lat.value) && isFinite(+lon.value)) {
      // A place already set (from a place search, or a form sent back) is shown up close.
      map.setView([+lat.value, +lon.value], STREET_ZOOM);
      place({ lat: +lat.value, lng: +lon.value }, false);
    }
  }
  startMap();
  window.ReportalReport = { startMap: startMap };
  // "Hide the map": for those who find the place by search, location or coordinates (a
  // screen reader, a small screen); remembered on this device. Everything works without it.
  var toggle = form.querySelector("#toggle-map");
  function mapHidden(hide) {
    mapEl.hidden = hide;
    var keys = document.getElementById("map-keys");
    if (keys && map) keys.hidden = hide;
    toggle.setAttribute("aria-pressed", hide ? "true" : "false");
    try { window.localStorage.setItem("reportal.map", hide ? "hidden" : "shown"); } catch (e) { /* private mode */ }
    if (!hide && map) map.invalidateSize();
  }
  if (toggle && mapEl && map) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      mapHidden(!mapEl.hidden);
      if (mapEl.hidden) say(toggle.getAttribute("data-hidden-label") || "");
    });
    try { if (window.localStorage.getItem("reportal.map") === "hidden") mapHidden(true); } catch (e) { /* private mode */ }
  }
  [lat, lon].forEach(function (input) {
    input.addEventListener("change", function () {
      if (isFinite(parseFloat(lat.value)) && isFinite(parseFloat(lon.value))) {
        place({ lat: parseFloat(lat.value), lng: parseFloat(lon.value) }, true);
      }
    });
  });
  // A choice in the place search (places.js): the pin goes there, the map to street level,
  // and its name becomes the address unless the resident typed one.
  document.addEventListener("reportal:place", function (e) {
    var d = e.detail;
    var address = form.querySelector("#address");
    if (address && (!address.value || address.getAttribute("data-from-search") === address.value)) {
      address.value = d.label;
      address.setAttribute("data-from-search", d.label);
    }
    if (map) map.setView([d.lat, d.lon], Math.max(d.zoom || STREET_ZOOM, map.getZoom()));
    place({ lat: d.lat, lng: d.lon }, false);
  });
  if (locate && navigator.geolocation) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      say(locate.getAttribute("data-finding") || "");
      navigator.geolocation.getCurrentPosition(function (pos) {
        place({ lat: pos.coords.latitude, lng: pos.coords.longitude }, true);
      }, function () { say(locate.getAttribute("data-failed") || ""); }, { enableHighAccuracy: true, timeout: 10000 });
    });
  }
  var send = form.querySelector("#send-report");
  var sendLabel = send ? send.textContent : "";
  form.addEventListener("submit", function (e) {
    var button = e.submitter;
    if (button && button.name === "step") return;  // setting the place files nothing
    if (form.getAttribute("data-sending")) { e.preventDefault(); return; }
    form.setAttribute("data-sending", "1");
    // A photo takes seconds on a slow connection: say that it is under way.
    if (send) {
      send.textContent = send.getAttribute("data-sending") || sendLabel;
      send.setAttribute("aria-disabled", "true");
      send.classList.add("is-sending");
    }
  });
  // Back from the next page (the browser may keep this one as it was): ready to send again.
  window.addEventListener("pageshow", function () {
    form.removeAttribute("data-sending");
    if (send) { send.textContent = sendLabel; send.removeAttribute("aria-disabled"); send.classList.remove("is-sending"); }
  });
})();
