/* The header's menus are <details>, so they work without this file. It adds what a menu
   button is expected to do: Escape closes it (focus back on its button), a click or focus
   outside closes it, and opening one closes the other. */
(function () {
  "use strict";
  var menus = Array.prototype.slice.call(document.querySelectorAll(".site-header details.menu"));
  if (!menus.length) return;
  function closeAll(except) {
    menus.forEach(function (d) { if (d !== except) d.open = false; });
  }
  menus.forEach(function (d) {
    d.addEventListener("toggle", function () { if (d.open) closeAll(d); });
    d.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && d.open) {
        d.open = false;
        d.querySelector("summary").focus();
      }
    });
  });
  document.addEventListener("click", function (e) {
    closeAll(menus.filter(function (d) { return d.contains(e.target); })[0]);
  });
  document.addEventListener("focusin", function (e) {
    closeAll(menus.filter(function (d) { return d.contains(e.target); })[0]);
  });
})();
