/* "Use the place where this photo was taken?": reads the GPS position from a chosen JPEG's
   EXIF in the browser, before anything is uploaded, and offers it; never sets it silently.
   The server strips the EXIF from what it stores either way (reports/photos.py). Without this
   file the server asks the same question when the form is sent (reports/photo_place.py). */
(function () {
  "use strict";
  var form = document.querySelector("form.report-form");
  var input = form && form.querySelector("#photo");
  var offer = form && form.querySelector("#photo-place");
  if (!input || !offer || !window.FileReader || !window.DataView) return;
  var where = offer.querySelector("#photo-place-where");
  var answer = form.querySelector("#photo-place-answer");
  var status = form.querySelector("#place-status");
  var found = null;
  // Sent back by the server's own question (no-JS step): its place is the one offered.
  var sentLat = offer.querySelector("input[name=photo_lat]"), sentLon = offer.querySelector("input[name=photo_lon]");
  if (!offer.hidden && sentLat && sentLon) found = { lat: +sentLat.value, lon: +sentLon.value };

  // EXIF is a TIFF structure: a byte order, then IFDs of 12-byte entries. We need IFD0's
  // pointer to the GPS IFD (tag 0x8825), and there tags 1-4: N/S, latitude, E/W, longitude,
  // each latitude/longitude three RATIONALs (degrees, minutes, seconds).
  function gpsFromTiff(view, tiff) {
    var little = view.getUint16(tiff) === 0x4949;
    function u16(at) { return view.getUint16(at, little); }
    function u32(at) { return view.getUint32(at, little); }
    function entries(ifd) {
      var out = {}, n = u16(ifd);
      for (var i = 0; i < n; i++) {
        var e = ifd + 2 + i * 12;
        out[u16(e)] = { type: u16(e + 2), count: u32(e + 4), at: e + 8 };
      }
      return out;
    }
    var ifd0 = entries(tiff + u32(tiff + 4));
    if (!ifd0[0x8825]) return null;
    var gps = entries(tiff + u32(ifd0[0x8825].at));
    function ref(tag) { return gps[tag] ? String.fromCharCode(view.getUint8(gps[tag].at)) : ""; }
    function dms(tag) {
      var e = gps[tag];
      if (!e || e.type !== 5 || e.count !== 3) return null;
      var at = tiff + u32(e.at), parts = [];
      for (var i = 0; i < 3; i++) {
        var den = u32(at + i * 8 + 4);
        if (!den) return null;
        parts.push(u32(at + i * 8) / den);
      }
      return parts[0] + parts[1] / 60 + parts[2] / 3600;
    }
    var lat = dms(2), lon = dms(4);
    if (lat === null || lon === null || (lat === 0 && lon === 0)) return null;
    return { lat: ref(1) === "S" ? -lat : lat, lon: ref(3) === "W" ? -lon : lon };
  }

  // A JPEG's segments up to the image data; the EXIF one is APP1 starting "Exif\0\0".
  function gpsFromJpeg(buffer) {
    var view = new DataView(buffer);
    if (view.byteLength < 4 || view.getUint16(0) !== 0xFFD8) return null;
    var at = 2;
    while (at + 4 <= view.byteLength) {
      var marker = view.getUint16(at), size = view.getUint16(at + 2);
      if ((marker & 0xFF00) !== 0xFF00 || marker === 0xFFDA) return null;
      if (marker === 0xFFE1 && view.getUint32(at + 4) === 0x45786966) {
        try { return gpsFromTiff(view, at + 10); } catch (e) { return null; }
      }
      at += 2 + size;
    }
    return null;
  }

  function hide() { offer.hidden = true; found = null; }

  function say(text) { if (status) status.textContent = text || ""; }

  input.addEventListener("change", function () {
    hide();
    answer.value = "";
    var file = input.files && input.files[0];
    if (!file || file.type !== "image/jpeg") return;
    var reader = new FileReader();
    reader.onload = function () {
      var point = gpsFromJpeg(reader.result);
      if (!point) return;
      var lang = document.documentElement.lang.replace("-", "_");
      var q = new URLSearchParams({ lat: point.lat.toFixed(6), lon: point.lon.toFixed(6), lang: lang });
      fetch(offer.getAttribute("data-name-url") + "?" + q).then(function (r) {
        return r.json().then(function (data) { return { ok: r.ok, data: data }; });
      }).then(function (res) {
        if (!res.ok) {  // outside the portal's area: said, not offered
          where.textContent = offer.getAttribute("data-outside") || "";
          offer.querySelectorAll("button").forEach(function (b) { b.hidden = true; });
          offer.hidden = false;
          return;
        }
        offer.querySelectorAll("button").forEach(function (b) { b.hidden = false; });
        found = point;
        where.textContent = (offer.getAttribute("data-near") || "%(place)s")
          .replace("%(place)s", res.data.name || q.get("lat") + ", " + q.get("lon"));
        offer.hidden = false;
        offer.querySelector("#photo-place-use").focus();
      }).catch(function () {});
    };
    // The EXIF block sits at the start of the file (APP1 is at most 64 KB).
    reader.readAsArrayBuffer(file.slice(0, 128 * 1024));
  });

  offer.addEventListener("click", function (e) {
    var button = e.target.closest("button");
    if (!button) return;
    e.preventDefault();
    answer.value = button.value;
    if (button.value === "use" && found) {
      var lat = form.querySelector("#lat"), lon = form.querySelector("#lon");
      lat.value = found.lat.toFixed(6);
      lon.value = found.lon.toFixed(6);
      lon.dispatchEvent(new Event("change"));  // report.js moves the pin, names the place
      say(offer.getAttribute("data-used") || "");
    }
    hide();
    input.focus();
  });
})();
