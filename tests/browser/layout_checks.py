"""What the layout tests measure in a page: layout shift, sideways scrolling, the header's
height, and the throttled connection they measure it on (issue 13's "3G").

`watch_layout_shift(context)` installs a PerformanceObserver in every page the context opens,
before the page's own scripts; `layout_shift(page)` reads the sum of the shifts so far that no
input caused. The sum over the whole visit is at least the CLS a browser reports (CLS is the
worst five-second window of it), so a page that passes here passes there.
"""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page

# Issue 13's throttled connection: 400 kbps each way, 400 ms round trip.
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8,
           "uploadThroughput": 400_000 / 8}

_OBSERVER = """
window.__layoutShift = 0; window.__layoutShifts = [];
new PerformanceObserver(function (list) {
  list.getEntries().forEach(function (e) {
    if (e.hadRecentInput) return;
    window.__layoutShift += e.value;
    window.__layoutShifts.push({value: e.value, nodes: (e.sources || []).map(function (s) {
      var n = s.node; if (!n || !n.tagName) return String(n && n.nodeName);
      var cls = typeof n.className === "string" ? n.className.trim() : "";
      return n.tagName.toLowerCase() + (n.id ? "#" + n.id : "") +
        (cls ? "." + cls.replace(/\\s+/g, ".") : "");
    })});
  });
}).observe({type: "layout-shift", buffered: true});
"""


def watch_layout_shift(context: BrowserContext) -> None:
    context.add_init_script(_OBSERVER)


def throttle(page: Page, conditions: dict | None = None) -> None:
    """Slow this page's network down through the DevTools protocol (Chromium only)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", conditions or SLOW_3G)


def layout_shift(page: Page) -> tuple[float, list[dict]]:
    """(the summed shift so far, each shift with the elements that moved)."""
    return page.evaluate("[window.__layoutShift || 0, window.__layoutShifts || []]")


def sideways_overflow(page: Page) -> int:
    """How many CSS pixels the page scrolls sideways (0 when it fits its viewport)."""
    return page.evaluate("(d => d.scrollWidth - d.clientWidth)(document.documentElement)")


def header_height(page: Page) -> float:
    return page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")
