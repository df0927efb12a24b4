/* Place search: suggestions while typing, in an ARIA combobox (the APG "list autocomplete"
   pattern). Up and down move through the list, Enter chooses, Escape closes. A choice fires
   a "reportal:place" event on the form ({lat, lon, zoom, label, kind}); the report form
   (report.js) sets its pin from it, and on the home and watch pages the map moves here.
   Without this file the box is a plain search form that lists the matches on a page. */
(function () {
  "use strict";
  var DELAY = 200;  // ms after the last key press: a request per pause, not per letter

  function setUp(form) {
    var input = form.querySelector("input[data-suggest-url]");
    var list = form.querySelector("[role=listbox]");
    var status = form.querySelector("[aria-live]");
    if (!input || !list) return;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    var items = [], active = -1, timer = null, controller = null, asked = "";

    function say(text) { if (status) status.textContent = text || ""; }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      options.forEach(function (o, i) { o.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function show(found) {
      items = found;
      while (list.firstChild) list.removeChild(list.firstChild);
      found.forEach(function (s, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.className = "combobox-option";
        var name = document.createElement("span");
        name.textContent = s.label;
        var kind = document.createElement("span");
        kind.className = "combobox-kind";
        kind.textContent = s.kind_label;
        li.appendChild(name);
        li.appendChild(document.createTextNode(" "));
        li.appendChild(kind);
        // mousedown, not click: the input keeps the focus (and the list stays until chosen).
        li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
        list.appendChild(li);
      });
      active = -1;
      if (found.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        say((input.getAttribute("data-count") || "%(n)s").replace("%(n)s", String(found.length)));
      } else {
        close();
        say(input.getAttribute("data-none") || "");
      }
    }

    function ask() {
      var q = input.value;
      if (q.trim().length < 2) { close(); items = []; return; }
      if (q === asked) return;
      asked = q;
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      var lang = document.documentElement.lang.replace("-", "_");
      fetch(input.getAttribute("data-suggest-url") + "?" + new URLSearchParams({ q: q, lang: lang }),
        { signal: controller ? controller.signal : undefined, headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (data) { if (input.value === q && data.suggestions) show(data.suggestions); })
        .catch(function () {});
    }

    function choose(index) {
      var s = items[index];
      if (!s) return;
      input.value = s.label;
      asked = s.label;
      close();
      say((input.getAttribute("data-chosen") || "%(place)s").replace("%(place)s", s.label));
      var detail = { lat: s.lat, lon: s.lon, zoom: s.zoom, label: s.label, kind: s.kind };
      form.dispatchEvent(new CustomEvent("reportal:place", { bubbles: true, detail: detail }));
      var target = form.getAttribute("data-target");
      if (target === "watch") {
        ["lat", "lon"].forEach(function (name) {
          var field = document.getElementById(name);
          if (!field) return;
          field.value = (name === "lat" ? s.lat : s.lon).toFixed(6);
          field.dispatchEvent(new Event("change"));
        });
        var around = document.querySelector("input[name=kind][value=circle]");
        if (around) around.checked = true;
      }
      // The report form moves its own pin (report.js); elsewhere the page's map follows.
      if (target !== "report" && window.ReportalMap && window.ReportalMap.maps.length) {
        window.ReportalMap.maps[0].setView([s.lat, s.lon], s.zoom);
      }
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, DELAY);
    });
    input.addEventListener("keydown", function (e) {
      var open = !list.hidden && items.length;
      if (e.key === "ArrowDown") {
        e.preventDefault();
        if (!open) { if (items.length) { list.hidden = false; input.setAttribute("aria-expanded", "true"); highlight(0); } return; }
        highlight(active < items.length - 1 ? active + 1 : 0);
      } else if (e.key === "ArrowUp") {
        if (!open) return;
        e.preventDefault();
        highlight(active > 0 ? active - 1 : items.length - 1);
      } else if (e.key === "Enter") {
        // A highlighted suggestion is chosen; otherwise the form is sent (the results page).
        if (open && active >= 0) { e.preventDefault(); choose(active); }
      } else if (e.key === "Escape") {
        if (open) { e.preventDefault(); close(); } else if (input.value) { e.preventDefault(); input.value = ""; }
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }

  document.querySelectorAll("form.place-search").forEach(setUp);
})();
