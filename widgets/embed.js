/* Reportal embed loader, protocol v1. Served minified at /embed.js (see widgets/loader.py).
 * Finds [data-reportal] elements, reserves their height at once (no layout shift), inserts the
 * widget's iframe when it nears the viewport, resizes report and announcements frames from
 * their messages (origin- and source-checked, clamped), queues host messages until the frame
 * is ready, and shows the element's link instead when the frame is refused or never answers.
 * An element that already holds the frame (the generator's snippet: an <iframe> whose height
 * attribute reserves the space before any script or stylesheet) is enhanced the same way (a
 * frame that loaded before the loader ran says "ready" again a few times, see widget.js).
 * No innerHTML, no style attributes (CSSOM only): works under a strict CSP and Trusted Types.
 * Keep statements ;-terminated, no empty statements, comments on lines of their own: the
 * minifier only strips. Names are short because every byte is gzipped onto news pages:
 *   o portal origin   L widgets   I IntersectionObserver   H default heights by kind
 *   g(v) widget for an element or a frame's window   z(x, h) set the reserved height (clamped)
 *   y(x, q, p) show the frame (q: at its height) or the link (the space given back unless
 *   p, keep: "auto" also beats a height the host's own stylesheet reserved)
 *   s(x, m) post to the frame, queued until ready   j(x, p) judge a frame
 *   that has not said "ready" (p: keep its space)   l(x) judge it in a second
 *   n(x) insert the frame   S() scan the page
 *   widget x: e element, k kind, u frame URL, t title, a link, f iframe, q queue, r ready,
 *   h height asked for (data-height, then the frame's messages) */
((w, d) => {
  if (w.Reportal) return;
  var o = new URL(d.currentScript.src).origin, L = [], I, H = {map: 480, report: 640, announcements: 360, stats: 360, issue: 360},
    g = v => L.find(x => x.e == v || x.f?.contentWindow == v),
    z = (x, h) => x.e.style.height = Math.min(Math.max((x.h = h || x.h) || H[x.k], 120), 3e3) + "px",
    y = (x, q, p) => {
      x.f.style.display = q ? "" : "none";
      x.a.hidden = q;
      q ? z(x) : p || (x.e.style.height = "auto");
    },
    s = (x, m) => {
      m.reportal = 1;
      x.r ? x.f.contentWindow.postMessage(m, o) : x.q.push(m);
    },
    j = (x, p) => x.r || y(x, 0, p),
    l = x => setTimeout(j, 1e3, x),
    n = x => {
      var f = x.f, t;
      // Refused by frame-ancestors (or broken): the frame loads but never says "ready", and
      // the box shrinks to the link. Merely slow (no load after 4 s): the link shows in the
      // space kept for the frame, so nothing moves if it answers after all. The snippet's own
      // frame may have loaded before the loader ran: it is asked to say "ready" again, and
      // judged once the page, its frames included, has loaded.
      // Of "loading", "interactive" and "complete", only "complete" sorts before "d".
      if (f) d.readyState < "d" ? l(x) : w.addEventListener("load", () => l(x));
      else {
        f = x.f = d.createElement("iframe");
        f.src = x.u;
        f.title = x.t;
        if (x.k == "report") f.allow = "geolocation";
        x.e.appendChild(f);
        setTimeout(j, 4e3, x, 1);
      }
      t = f.style;
      t.width = t.height = "100%";
      t.border = 0;
      f.onload = () => l(x);
      y(x, 1);
    },
    S = () => d.querySelectorAll("[data-reportal]").forEach(e => {
      var c = e.dataset, k = c.reportal, p = new URLSearchParams(), a, x;
      if (g(e) || !H[k] || !c.tenant) return;
      for (a in c) if (!/^(reportal|tenant|height|title)$/.test(a)) p.set(a, c[a]);
      x = {e, k, q: [], u: o + "/w/" + encodeURIComponent(c.tenant) + "/" + k + "?" + p};
      x.f = e.querySelector("iframe");
      a = e.querySelector("a");
      if (!a) {
        a = e.appendChild(d.createElement("a"));
        a.href = x.u;
        a.textContent = c.title || "Reportal";
      }
      x.a = a;
      x.t = c.title || a.textContent;
      z(x, +c.height);
      L.push(x);
      I.observe(e);
    });
  w.addEventListener("message", v => {
    var m = v.data, x = v.origin == o && m?.reportal == 1 && g(v.source);
    if (!x) return;
    if (m.type == "ready") {
      x.r = 1;
      y(x, 1);
      x.q.splice(0).map(m => s(x, m));
    }
    if (m.height > 0 && x.k != "map") z(x, Math.ceil(m.height));
  });
  // Every browser that runs this arrow-function code but one Safari (10–12.0) has it.
  I = new IntersectionObserver(es => es.forEach(v => v.isIntersecting && (I.unobserve(v = v.target), n(g(v)))), {rootMargin: "400px"});
  w.Reportal = {v: 1, scan: S, send: (e, m) => (e = g(e)) && s(e, m)};
  S();
  d.addEventListener("DOMContentLoaded", S);
})(window, document);
