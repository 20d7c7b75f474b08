// End-use check visit: serials typed or scanned (a scanner types like a keyboard and ends
// with Enter) mark the serial present; every entry is kept in this browser's storage as it
// is made, so a visit recorded without a connection is saved when the connection is back.
(function () {
  "use strict";
  var form = document.getElementById("check-record");
  if (!form) return;
  var key = "rasid.check." + form.getAttribute("data-check");
  var scan = document.getElementById("scan");
  var message = document.getElementById("scan-message");
  var offline = document.getElementById("offline-status");
  var counts = document.getElementById("check-counts");
  var sending = false;

  function msg(name, params) {
    var text = form.getAttribute("data-msg-" + name) || "";
    Object.keys(params || {}).forEach(function (k) {
      text = text.split("%(" + k + ")s").join(params[k]);
    });
    return text;
  }

  function fields() {
    return Array.prototype.slice.call(form.querySelectorAll("select[name^='result.'], input[name^='notes.'], input[name='done_on']"));
  }

  function read() {
    var values = {};
    fields().forEach(function (el) { values[el.name] = el.value; });
    return values;
  }

  function load() {
    try { return JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }

  function save(pending) {
    var draft = { values: read(), pending: !!pending, saved_at: new Date().toISOString() };
    try { window.localStorage.setItem(key, JSON.stringify(draft)); } catch (e) { /* storage full or off */ }
    return draft;
  }

  function updateCounts() {
    var selects = form.querySelectorAll("select[name^='result.']");
    var done = 0;
    Array.prototype.forEach.call(selects, function (s) {
      if (s.value) done += 1;
      var row = s.closest("tr");
      if (row) row.setAttribute("data-entered", s.value || "");
    });
    if (counts) counts.textContent = msg("counts", { done: String(done), total: String(selects.length) });
  }

  function restore() {
    var draft = load();
    if (!draft || !draft.values) return null;
    var any = false;
    fields().forEach(function (el) {
      if (Object.prototype.hasOwnProperty.call(draft.values, el.name) && draft.values[el.name] !== el.value) {
        el.value = draft.values[el.name];
        any = any || el.value !== "";
      }
    });
    if (any) offline.textContent = msg("restored");
    return draft;
  }

  function findRow(serial) {
    var rows = form.querySelectorAll("tr[data-serial]");
    for (var i = 0; i < rows.length; i += 1) {
      if (rows[i].getAttribute("data-serial") === serial) return rows[i];
    }
    return null;
  }

  function send() {
    if (sending) return;
    sending = true;
    offline.textContent = msg("sending");
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) {
        if (response.ok) {
          window.localStorage.removeItem(key);
          window.location.assign(response.url || form.action);
          return null;
        }
        save(false);
        return response.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var error = doc.getElementById("form-error");
          offline.textContent = msg("failed") + " " + (error ? error.textContent : String(response.status));
          offline.className = "error";
        });
      })
      .catch(function () {
        save(true);
        offline.textContent = msg("kept");
      })
      .then(function () { sending = false; });
  }

  form.addEventListener("input", function () { save(false); updateCounts(); });
  form.addEventListener("change", function () { save(false); updateCounts(); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (navigator.onLine === false) {
      save(true);
      offline.textContent = msg("kept");
      return;
    }
    send();
  });
  window.addEventListener("online", function () {
    var draft = load();
    if (draft && draft.pending) send();
  });
  if (scan) {
    scan.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault();
      var serial = scan.value.trim().toUpperCase();
      scan.value = "";
      if (!serial) return;
      var row = findRow(serial);
      if (!row) {
        message.textContent = msg("unknown", { serial: serial });
        message.className = "error";
        return;
      }
      var select = row.querySelector("select");
      if (select && !select.value) select.value = "present";
      row.classList.add("scanned");
      message.textContent = msg("marked", { serial: serial });
      message.className = "";
      save(false);
      updateCounts();
    });
  }
  var draft = restore();
  updateCounts();
  if (draft && draft.pending && navigator.onLine !== false) send();
}());
