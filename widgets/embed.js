/* Reportal embed loader, protocol v1. Served minified at /embed.js (see widgets/loader.py).
 * Finds [data-reportal] elements, reserves their height at once (no layout shift), inserts the
 * widget's iframe when it nears the viewport, resizes report and announcements frames from
 * their messages (origin- and source-checked, clamped), queues host messages until the frame
 * is ready, and shows the element's link instead when the frame is refused or never answers.
 * No innerHTML, no style attributes (CSSOM only): works under a strict CSP and Trusted Types.
 * Keep statements ;-terminated, no empty statements, comments on lines of their own: the
 * minifier only strips. Names are short because every byte is gzipped onto news pages:
 *   o portal origin   L widgets   I IntersectionObserver   H default heights by kind
 *   g(v) widget for an element or a frame's window   z(x, h) set the reserved height (clamped)
 *   y(x, ok, keep) show the frame (at its height) or the link (the space given back unless
 *   keep: "auto" also beats a height the host's own stylesheet reserved)
 *   s(x, m) post to the frame, queued until ready   l(x, keep) the link if not ready yet
 *   n(x) insert the frame   S() scan the page
 *   widget x: e element, k kind, u frame URL, t title, a link, f iframe, q queue, r ready,
 *   h height asked for (data-height, then the frame's messages) */
((w, d) => {
  if (w.Reportal) return;
  var o = new URL(d.currentScript.src).origin, L = [], I, H = {map: 480, report: 640, announcements: 360, stats: 360, issue: 360},
    g = v => L.find(x => x.e == v || x.f && x.f.contentWindow == v),
    z = (x, h) => x.e.style.height = Math.min(Math.max((x.h = h || x.h) || H[x.k], 120), 3e3) + "px",
    y = (x, ok, keep) => {
      x.f.style.display = ok ? "block" : "none";
      x.a.style.display = ok ? "none" : "";
      ok ? z(x) : keep || (x.e.style.height = "auto");
    },
    s = (x, m) => {
      m.reportal = 1;
      x.r ? x.f.contentWindow.postMessage(m, o) : x.q.push(m);
    },
    l = (x, keep) => x.r || y(x, 0, keep),
    n = x => {
      var f = x.f = d.createElement("iframe"), t = f.style;
      f.src = x.u;
      f.title = x.t;
      if (x.k == "report") f.allow = "geolocation";
      t.width = t.height = "100%";
      t.border = 0;
      // Refused by frame-ancestors (or broken): the frame loads but never says "ready", and
      // the box shrinks to the link. Merely slow (no load after 4 s): the link shows in the
      // space kept for the frame, so nothing moves if it answers after all.
      f.onload = () => setTimeout(l, 1e3, x);
      setTimeout(l, 4e3, x, 1);
      x.e.appendChild(f);
      y(x, 1);
    },
    S = () => d.querySelectorAll("[data-reportal]").forEach(e => {
      var c = e.dataset, k = c.reportal, p = new URLSearchParams(), a, x;
      if (g(e) || !H[k] || !c.tenant) return;
      for (a in c) if (!/^(reportal|tenant|height|title)$/.test(a)) p.set(a, c[a]);
      x = {e: e, k: k, q: [], u: o + "/w/" + encodeURIComponent(c.tenant) + "/" + k + "?" + p};
      a = e.querySelector("a");
      if (!a) {
        a = e.appendChild(d.createElement("a"));
        a.href = x.u;
        a.textContent = c.title || "Reportal";
      }
      x.a = a;
      x.t = c.title || a.textContent.trim();
      z(x, +c.height);
      L.push(x);
      I ? I.observe(e) : n(x);
    });
  w.addEventListener("message", v => {
    var m = v.data, x = v.origin == o && m && m.reportal == 1 && g(v.source);
    if (!x) return;
    if (m.type == "ready") {
      x.r = 1;
      y(x, 1);
      if (m.title) x.f.title = m.title;
      while (x.q.length) s(x, x.q.shift());
    }
    if (m.height > 0 && x.k != "map") z(x, Math.ceil(m.height));
  });
  I = w.IntersectionObserver && new IntersectionObserver(es => es.forEach(v => {
    if (v.isIntersecting) {
      I.unobserve(v.target);
      n(g(v.target));
    }
  }), {rootMargin: "400px"});
  w.Reportal = {v: 1, scan: S, send: (e, m) => (e = g(e)) && s(e, m)};
  S();
  d.addEventListener("DOMContentLoaded", S);
})(window, document);
