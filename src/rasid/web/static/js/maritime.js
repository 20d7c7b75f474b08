// Rasid maritime layers on a RasidMap (map.js): vessels by category and state, open alerts,
// zones, a vessel's track on click, an alert's evidence. Served from this server; no inline
// scripts (CSP). Needs leaflet.js, topojson-client, map.js before it.
//
// Markup: <div class="rasid-map maritime-map"
//   data-picture-url="/maritime/picture.geojson"   vessels + open alerts (refreshed)
//   data-refresh="30"                               seconds between refreshes (0: never)
//   data-zones-url="/maritime/zones.geojson"        zones (polygons and port points)
//   data-track-url="/api/v1/maritime/vessels/…/track"  one vessel's track (vessel page)
//   data-evidence-id="evidence-json">               inline evidence fixes (alert page)
// After each load the element gets data-vessels / data-alerts / data-track-fixes counts and
// fires "rasid:maritime-data".
(function () {
  "use strict";

  var COLORS = {
    cargo: "#2563eb", tanker: "#b91c1c", passenger: "#7c3aed", fishing: "#0d9488",
    high_speed: "#ea580c", service: "#0891b2", military: "#334155", leisure: "#db2777",
    small_craft: "#ca8a04", unknown: "#6b7280"
  };
  var SEVERITY = { low: "#64748b", medium: "#f59e0b", high: "#dc2626", critical: "#7f1d1d" };
  var TEXT = {
    ar: { open: "فتح", track: "عرض المسار", speed: "السرعة", knots: "عقدة", course: "الاتجاه",
      vessels: "السفن", alerts: "التنبيهات", error: "تعذر تحميل صورة الحركة.", heard: "آخر إشارة" },
    en: { open: "Open", track: "Show track", speed: "Speed", knots: "kn", course: "Course",
      vessels: "Vessels", alerts: "Alerts", error: "The traffic picture could not be loaded.", heard: "Last heard" }
  };

  function lang() { return (document.documentElement.lang || "ar").slice(0, 2) === "en" ? "en" : "ar"; }
  function t(key) { return TEXT[lang()][key]; }
  function isRtl() { return document.documentElement.dir === "rtl"; }

  function getJson(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(url + ": HTTP " + r.status); } return r.json(); });
  }
  function safeUrl(url) {
    try {
      var u = new URL(String(url), window.location.href);
      return u.origin === window.location.origin ? u.href : null;
    } catch (e) { return null; }
  }

  function popup(props, onTrack) {
    var box = document.createElement("div");
    box.className = "rasid-map-popup";
    box.dir = isRtl() ? "rtl" : "ltr";
    var title = document.createElement("strong");
    title.className = "rasid-map-popup-title";
    title.textContent = props.title || String(props.mmsi || "");
    box.appendChild(title);
    var meta = document.createElement("div");
    meta.className = "rasid-map-popup-meta";
    function add(text) {
      if (!text) { return; }
      var span = document.createElement("span");
      span.textContent = text;
      meta.appendChild(span);
    }
    if (props.kind === "vessel") {
      add("MMSI " + props.mmsi);
      add(props.category_label);
      if (props.sog !== null && props.sog !== undefined) { add(t("speed") + " " + props.sog + " " + t("knots")); }
      if (props.cog !== null && props.cog !== undefined) { add(t("course") + " " + Math.round(props.cog) + "°"); }
    } else {
      add(props.severity);
      if (props.mmsi) { add("MMSI " + props.mmsi); }
    }
    if (props.date) {
      var time = document.createElement("time");
      time.dateTime = String(props.date);
      time.textContent = String(props.date).replace("T", " ").replace(/\.\d+/, "").replace("Z", " UTC");
      meta.appendChild(time);
    }
    box.appendChild(meta);
    var href = props.url && safeUrl(props.url);
    if (href) {
      var link = document.createElement("a");
      link.href = href;
      link.textContent = t("open");
      box.appendChild(link);
    }
    if (onTrack) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "maritime-track-button";
      button.textContent = t("track");
      button.addEventListener("click", onTrack);
      box.appendChild(document.createTextNode(" "));
      box.appendChild(button);
    }
    return box;
  }

  function Layers(el, inst) {
    var L = window.L;
    this.el = el;
    this.map = inst.map;
    this.vessels = L.featureGroup().addTo(this.map);
    this.alerts = L.featureGroup().addTo(this.map);
    this.zones = L.featureGroup().addTo(this.map);
    this.track = L.featureGroup().addTo(this.map);
    this.fitted = false;
    this.trackUrl = null;
  }

  Layers.prototype.vesselMarker = function (f) {
    var L = window.L;
    var p = f.properties || {};
    var c = f.geometry.coordinates;
    var stale = p.state === "stale";
    var marker = L.circleMarker([c[1], c[0]], {
      radius: p.state === "stopped" ? 4 : 6,
      color: stale ? "#9ca3af" : "#111827",
      weight: 1,
      dashArray: stale ? "2 2" : null,
      fillColor: COLORS[p.category] || COLORS.unknown,
      fillOpacity: stale ? 0.35 : 0.9,
      className: "maritime-vessel maritime-" + (p.category || "unknown") + " maritime-" + (p.state || "")
    });
    var self = this;
    marker.bindPopup(popup(p, p.track_url ? function () { self.showTrack(p.track_url); } : null));
    marker.feature = f;
    return marker;
  };

  Layers.prototype.alertMarker = function (f) {
    var L = window.L;
    var p = f.properties || {};
    var c = f.geometry.coordinates;
    var marker = L.circleMarker([c[1], c[0]], {
      radius: 11, color: SEVERITY[p.severity] || SEVERITY.medium, weight: 3, fill: false,
      className: "maritime-alert maritime-alert-" + (p.severity || "medium")
    });
    marker.bindPopup(popup(p, null));
    marker.feature = f;
    return marker;
  };

  Layers.prototype.setPicture = function (data) {
    var self = this;
    this.vessels.clearLayers();
    this.alerts.clearLayers();
    var nv = 0;
    var na = 0;
    (data.features || []).forEach(function (f) {
      if (!f.geometry || f.geometry.type !== "Point") { return; }
      if (f.properties && f.properties.kind === "alert") { self.alerts.addLayer(self.alertMarker(f)); na += 1; }
      else { self.vessels.addLayer(self.vesselMarker(f)); nv += 1; }
    });
    this.el.dataset.vessels = String(nv);
    this.el.dataset.alerts = String(na);
    if (!this.fitted) {
      var bounds = this.vessels.getBounds();
      if (bounds.isValid()) { this.map.fitBounds(bounds.pad(0.1), { maxZoom: 9 }); this.fitted = true; }
    }
    this.el.dispatchEvent(new CustomEvent("rasid:maritime-data", { bubbles: true, detail: { vessels: nv, alerts: na } }));
  };

  Layers.prototype.setZones = function (data) {
    var L = window.L;
    this.zones.clearLayers();
    var layer = L.geoJSON(data, {
      interactive: true,
      style: function (f) {
        var kind = (f.properties && f.properties.kind) || "";
        var color = kind === "war_risk" ? "#b91c1c" : kind === "tss" ? "#7c3aed" : kind === "corridor" ? "#2563eb" : "#0f766e";
        return { color: color, weight: 1, fillOpacity: kind === "war_risk" ? 0.03 : 0.08, dashArray: kind === "territorial_sea" ? "4 3" : null };
      },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { radius: 3, color: "#0f766e", weight: 1, fillOpacity: 0.6 });
      },
      onEachFeature: function (f, l) {
        var p = f.properties || {};
        var name = lang() === "ar" ? (p.name_ar || p.name || p.id) : (p.name_en || p.name || p.id);
        if (name) { l.bindTooltip(String(name), { sticky: true }); }
      }
    });
    this.zones.addLayer(layer);
    this.zones.bringToBack();
    this.el.dataset.zones = String((data.features || []).length);
  };

  Layers.prototype.drawTrack = function (data, fit) {
    var L = window.L;
    this.track.clearLayers();
    var fixes = 0;
    var lines = {};
    (data.features || []).forEach(function (f) {
      var g = f.geometry;
      if (!g) { return; }
      if (g.type === "LineString") {
        lines.track = g.coordinates.map(function (c) { return [c[1], c[0]]; });
      } else if (g.type === "Point" && f.properties && f.properties.kind === "fix") {
        fixes += 1;
        var key = String(f.properties.mmsi || "");
        (lines[key] = lines[key] || []).push([g.coordinates[1], g.coordinates[0]]);
      }
    });
    var self = this;
    var palette = ["#dc2626", "#2563eb", "#16a34a", "#9333ea"];
    Object.keys(lines).forEach(function (key, i) {
      if (lines.track && key !== "track") { return; }  // a track's own line is enough
      self.track.addLayer(L.polyline(lines[key], { color: palette[i % palette.length], weight: 2.5, className: "maritime-track" }));
      lines[key].forEach(function (ll) {
        self.track.addLayer(L.circleMarker(ll, { radius: 2.5, color: palette[i % palette.length], weight: 1, className: "maritime-fix" }));
      });
    });
    this.el.dataset.trackFixes = String(fixes);
    if (fit) {
      var b = this.track.getBounds();
      if (b.isValid()) { this.map.fitBounds(b.pad(0.2), { maxZoom: 10 }); }
    }
    this.el.dispatchEvent(new CustomEvent("rasid:maritime-track", { bubbles: true, detail: { fixes: fixes } }));
  };

  Layers.prototype.showTrack = function (url) {
    var self = this;
    var href = safeUrl(url);
    if (!href) { return Promise.resolve(); }
    return getJson(href).then(function (data) { self.drawTrack(data, true); })
      .catch(function (err) { if (window.console) { console.warn("maritime track:", err); } });
  };

  // Drawing a zone: each click adds a corner; the ring goes, as [[lon, lat], …], into the
  // form field named by data-draw. Clicking the first corner again, or "Clear", starts over.
  Layers.prototype.startDrawing = function (input) {
    if (!input) { return; }
    var L = window.L;
    var self = this;
    var points = [];
    var shape = null;
    this.el.classList.add("rasid-map-picking");
    function redraw() {
      if (shape) { self.map.removeLayer(shape); }
      var latlngs = points.map(function (p) { return [p[1], p[0]]; });
      shape = points.length >= 3
        ? L.polygon(latlngs, { color: "#b91c1c", weight: 2, className: "maritime-drawn" })
        : L.polyline(latlngs, { color: "#b91c1c", weight: 2, className: "maritime-drawn" });
      shape.addTo(self.map);
      input.value = points.length ? JSON.stringify(points) : "";
      self.el.dataset.drawnPoints = String(points.length);
    }
    this.map.on("click", function (e) {
      var lon = ((e.latlng.lng + 540) % 360) - 180;
      points.push([Math.round(lon * 1e5) / 1e5, Math.round(e.latlng.lat * 1e5) / 1e5]);
      redraw();
    });
    var Clear = L.Control.extend({
      onAdd: function () {
        var b = L.DomUtil.create("button", "leaflet-bar maritime-draw-clear");
        b.type = "button";
        b.textContent = lang() === "ar" ? "مسح الرسم" : "Clear drawing";
        L.DomEvent.on(b, "click", function (ev) { L.DomEvent.stop(ev); points = []; redraw(); });
        return b;
      }
    });
    new Clear({ position: "topright" }).addTo(this.map);
    try { var start = JSON.parse(input.value || "[]"); if (Array.isArray(start)) { points = start; redraw(); } } catch (e) { /* ignore */ }
  };

  function showError(el, message) {
    var box = el.querySelector(".rasid-map-error");
    if (!box) {
      box = document.createElement("div");
      box.className = "rasid-map-error";
      box.setAttribute("role", "alert");
      el.appendChild(box);
    }
    box.textContent = message;
  }

  function start(el) {
    if (!window.RasidMap) { return; }
    var inst = window.RasidMap.create(el);
    if (!inst || el.maritimeLayers) { return; }
    var layers = new Layers(el, inst);
    el.maritimeLayers = layers;
    if (el.dataset.zonesUrl) {
      getJson(el.dataset.zonesUrl).then(function (d) { layers.setZones(d); })
        .catch(function (err) { if (window.console) { console.warn("maritime zones:", err); } });
    }
    if (el.dataset.evidenceId) {
      var node = document.getElementById(el.dataset.evidenceId);
      if (node) { layers.drawTrack(JSON.parse(node.textContent), true); }
    }
    if (el.dataset.trackUrl) { layers.showTrack(el.dataset.trackUrl); }
    if (el.dataset.draw) { layers.startDrawing(document.querySelector(el.dataset.draw)); }
    if (el.dataset.pictureUrl) {
      var load = function () {
        el.setAttribute("aria-busy", "true");
        return getJson(el.dataset.pictureUrl).then(function (d) { layers.setPicture(d); })
          .catch(function (err) { showError(el, t("error")); if (window.console) { console.warn(err); } })
          .then(function () { el.removeAttribute("aria-busy"); });
      };
      load();
      var every = Number(el.dataset.refresh || 0);
      if (every > 0) { el.maritimeTimer = window.setInterval(load, every * 1000); }
    }
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll(".maritime-map"), start);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
