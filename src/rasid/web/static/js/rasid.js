// Rasid page helpers. Served from this server; no inline scripts (the CSP forbids them).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = form.querySelector("button.danger");
    if (button && !form.dataset.confirmed) {
      var message = document.documentElement.lang === "ar" ? "هل أنت متأكد؟" : "Are you sure?";
      if (!window.confirm(message)) { event.preventDefault(); return; }
      form.dataset.confirmed = "1";
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var invalid = document.querySelector(".field.invalid input, .field.invalid select");
    if (invalid) { invalid.focus(); }
  });
})();

// Record pickers (links, involvements): a click on a search result fills the id field.
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("button.pick") : null;
  if (!button) { return; }
  var input = null;
  if (button.dataset.target === "involvement") {
    var fields = document.querySelectorAll("input.involvement-id");
    for (var i = 0; i < fields.length; i++) { if (!fields[i].value) { input = fields[i]; break; } }
  } else {
    input = document.getElementById("f-" + button.dataset.target + "_id");
  }
  if (input) { input.value = button.dataset.id; input.focus(); }
});

// Gazetteer picker (place records): fills the hidden level/id and the governorate.
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("button.pick-place") : null;
  if (!button) { return; }
  var kind = document.getElementById("f-gazetteer_kind");
  var id = document.getElementById("f-gazetteer_id");
  var gov = document.getElementById("f-governorate_code");
  var chosen = document.getElementById("gaz-chosen");
  if (kind) { kind.value = button.dataset.kind; }
  if (id) { id.value = button.dataset.id; }
  if (gov) { gov.value = button.dataset.gov; }
  if (chosen) { chosen.textContent = button.dataset.label; }
});
