/* The new-portal form's preview, kept live. Without this file "Preview" posts the form and
   the page comes back with the preview. With it, every change to a name, a language, the
   theme or the colour asks the server for the same page in the background (without the
   uploaded files and layer, which the preview does not show) and swaps in its preview and
   its stylesheet, so the contrast table and the offered shade follow the typing; "Use
   #shade" sets the colour in place. Creating the portal is still the form's own post. */
(function () {
  "use strict";
  var form = document.getElementById("portal-form");
  if (!form || !window.fetch || !window.DOMParser) return;
  var LOOK = /^(name_|languages$|default_language$|theme$|colour$|kind$)/;
  var timer = 0, asked = 0;

  function ask() {
    var body = new FormData(form), mine = ++asked;
    ["area_file", "logo_file", "layer_geojson", "drawn_geojson", "swapped_geojson"].forEach(
      function (name) { body.delete(name); });
    body.set("action", "preview");
    var section = document.getElementById("preview");
    if (section) section.setAttribute("aria-busy", "true");
    // form.action is the "action" buttons here, not the attribute
    fetch(form.getAttribute("action"), {method: "POST", body: body, credentials: "same-origin"})
      .then(function (response) { return response.text(); })
      .then(function (html) {
        if (mine !== asked) return;  // a later change asked again; its answer wins
        var page = new DOMParser().parseFromString(html, "text/html");
        swap(page.getElementById("preview"), document.getElementById("preview"));
        var css = page.getElementById("preview-css"), mineCss = document.getElementById("preview-css");
        if (css && mineCss) mineCss.href = css.getAttribute("href");
        else if (css) document.head.appendChild(document.importNode(css, true));
      })
      .catch(function () {
        var left = document.getElementById("preview");
        if (left) left.removeAttribute("aria-busy");  // the Preview button still works
      });
  }

  function swap(fresh, old) {
    if (!fresh) return;
    fresh = document.importNode(fresh, true);
    if (old) old.parentNode.replaceChild(fresh, old);
    else form.appendChild(fresh);
  }

  function changed(event) {
    if (!event.target.name || !LOOK.test(event.target.name)) return;
    clearTimeout(timer);
    timer = setTimeout(ask, 400);
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest('button[name="use_colour"]');
    if (!button) return;
    event.preventDefault();
    form.elements.colour.value = button.value;
    ask();
    form.elements.colour.focus();
  });
})();
