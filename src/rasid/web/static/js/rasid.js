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
