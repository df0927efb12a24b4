/* "Use a template" on the staff view of an issue. Without this file the "Insert" button
   posts the form and the server shows it again with the template's text. With it, choosing
   a template fills the reply box (and chooses the status the template goes with) in place;
   staff still read and may change the text before anything is sent. */
(function () {
  "use strict";
  var select = document.getElementById("status-template");
  var box = document.getElementById("status-text");
  if (!select || !box) return;
  var insert = document.getElementById("status-template-insert");
  if (insert) insert.hidden = true;
  select.addEventListener("change", function () {
    var option = select.options[select.selectedIndex];
    if (!option || !option.value) return;
    box.value = option.getAttribute("data-text") || "";
    var wanted = option.getAttribute("data-status") || "";
    var radio = wanted && select.form.querySelector('input[name="status"][value="' + wanted + '"]');
    if (radio) radio.checked = true;
    box.focus();
  });
})();
