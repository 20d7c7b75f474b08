// Rasid map — Leaflet with no tile server. Served from this server; no inline scripts (CSP).
//
// Markup (all attributes optional except one data source, and even that may be left out for a
// plain picking map):
//   <div class="rasid-map"
//        data-geojson-url="/api/..."      FeatureCollection of Points (id, title, date, marking, type, url)
//        data-geojson-id="incidents-json"  or: id of a <script type="application/json"> holding it
//        data-pick-lat="#f-lat" data-pick-lon="#f-lon"   click writes 5-decimal coordinates here
//        data-center="15.5,46" data-zoom="6"             view when there is no data
//        data-basemap-url="…/countries-50m.json"          override the basemap files
//        data-basemap-detail-url="…/countries-10m.json"
//        data-label="…">                                 accessible name of the map region
// Needs (in order): vendor/leaflet/leaflet.css, css/components.css, vendor/leaflet/leaflet.js,
// vendor/topojson-client/topojson-client.min.js, js/map.js.
//
// Global: window.RasidMap = {init(root), create(el), get(el), destroy(el), markingStyle(marking)}.
(function () {
  "use strict";

  // Basemap: Natural Earth Admin-0 from world-atlas. countries-50m.json (~740 KiB) is drawn first:
  // its Red Sea / Gulf of Aden coast has a median vertex spacing of ~11 km, which is fine up to
  // zoom 6 but shows as ~40 px straight segments at zoom 9 (~300 m/px at 15°N), where Hanish,
  // Zuqar and the Farasan islands and the Bab el-Mandeb strait matter for incident positions. So
  // countries-10m.json (~3.5 MiB, ~2 km spacing) is fetched once, lazily, when the map is zoomed
  // to DETAIL_ZOOM or closer, and replaces the 50m layer; pages that never zoom in never load it.
  var DETAIL_ZOOM = 7;
  var MAX_ZOOM = 11;
  // Yemen, the southern and central Red Sea and the Gulf of Aden.
  var DEFAULT_BOUNDS = [[10.5, 37.0], [23.5, 55.0]];

  var script = document.currentScript;
  var VENDOR = new URL("../vendor/", (script && script.src) || window.location.href).href;
  var BASEMAP_URL = VENDOR + "world-atlas/countries-50m.json";
  var BASEMAP_DETAIL_URL = VENDOR + "world-atlas/countries-10m.json";

  var TLP = {
    CLEAR: { fill: "#ffffff", stroke: "#334155", weight: 2 },
    GREEN: { fill: "#2fb344", stroke: "#14532d", weight: 1.5 },
    AMBER: { fill: "#ffc000", stroke: "#7a5200", weight: 1.5 },
    "AMBER+STRICT": { fill: "#ffc000", stroke: "#7a2e00", weight: 4 },
    RED: { fill: "#ff2b2b", stroke: "#7f1d1d", weight: 1.5 },
    UNKNOWN: { fill: "#94a3b8", stroke: "#334155", weight: 1.5 }
  };
  var ORDER = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"];

  var TEXT = {
    ar: { map: "خريطة", open: "فتح", legend: "التصنيف", picked: "الموقع المختار",
      error: "تعذر تحميل بيانات الخريطة.", basemapError: "تعذر تحميل الخريطة الأساسية." },
    en: { map: "Map", open: "Open", legend: "Marking", picked: "Chosen position",
      error: "The map data could not be loaded.", basemapError: "The base map could not be loaded." }
  };

  var instances = new WeakMap();
  var topoCache = {};

  function lang() {
    return (document.documentElement.lang || "ar").slice(0, 2) === "en" ? "en" : "ar";
  }
  function t(key) { return TEXT[lang()][key]; }
  function isRtl() { return document.documentElement.dir === "rtl"; }

  function markingKey(marking) {
    var m = String(marking || "").toUpperCase().replace(/^TLP:\s*/, "").trim();
    if (m === "WHITE") { m = "CLEAR"; }
    return TLP[m] ? m : "UNKNOWN";
  }
  function markingStyle(marking) { return TLP[markingKey(marking)]; }

  // Only same-origin-relative, http and https links; anything else (javascript:, data:) is dropped.
  function safeUrl(url) {
    if (!url) { return null; }
    try {
      var u = new URL(String(url), window.location.href);
      return (u.protocol === "http:" || u.protocol === "https:") ? u.href : null;
    } catch (e) { return null; }
  }

  function getJson(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) { throw new Error(url + ": HTTP " + r.status); }
        return r.json();
      });
  }

  function readInlineJson(id) {
    var node = document.getElementById(id);
    if (!node) { throw new Error("RasidMap: no element #" + id); }
    return JSON.parse(node.textContent);
  }

  // world-atlas is spherical: rings that cross the antimeridian (Fiji, Chukotka) jump from +180
  // to -180 and, drawn flat, sweep across the whole map. Unwrap each ring or line so successive
  // longitudes never differ by more than 180 degrees (the far side is then drawn past ±180).
  function unwrap(line) {
    var offset = 0;
    var prev = null;
    return line.map(function (p) {
      var lon = p[0] + offset;
      if (prev !== null) {
        if (lon - prev > 180) { offset -= 360; lon -= 360; } else if (lon - prev < -180) { offset += 360; lon += 360; }
      }
      prev = lon;
      return [lon, p[1]];
    });
  }
  function unwrapGeometry(g) {
    if (!g) { return g; }
    if (g.type === "Polygon" || g.type === "MultiLineString") { g.coordinates = g.coordinates.map(unwrap); }
    else if (g.type === "MultiPolygon") { g.coordinates = g.coordinates.map(function (poly) { return poly.map(unwrap); }); }
    else if (g.type === "LineString") { g.coordinates = unwrap(g.coordinates); }
    return g;
  }
  function unwrapAll(geo) {
    if (geo.type === "FeatureCollection") { geo.features.forEach(function (f) { unwrapGeometry(f.geometry); }); }
    else if (geo.type === "Feature") { unwrapGeometry(geo.geometry); }
    else { unwrapGeometry(geo); }
    return geo;
  }

  function loadTopo(url) {
    if (!topoCache[url]) {
      topoCache[url] = getJson(url).then(function (topo) {
        var objects = topo.objects;
        return {
          land: unwrapAll(window.topojson.feature(topo, objects.land)),
          borders: unwrapAll(window.topojson.mesh(topo, objects.countries, function (a, b) { return a !== b; }))
        };
      });
      topoCache[url].catch(function () { delete topoCache[url]; });
    }
    return topoCache[url];
  }

  function parseCenter(value) {
    if (!value) { return null; }
    var parts = value.split(",").map(Number);
    return parts.length === 2 && parts.every(isFinite) ? parts : null;
  }

  function popupContent(props) {
    var box = document.createElement("div");
    box.className = "rasid-map-popup";
    box.dir = isRtl() ? "rtl" : "ltr";
    var title = document.createElement("strong");
    title.className = "rasid-map-popup-title";
    title.textContent = props.title || props.id || "";
    box.appendChild(title);
    var meta = document.createElement("div");
    meta.className = "rasid-map-popup-meta";
    if (props.date) {
      var time = document.createElement("time");
      time.dateTime = String(props.date);
      time.textContent = String(props.date);
      meta.appendChild(time);
    }
    if (props.marking) {
      var badge = document.createElement("span");
      badge.className = "rasid-tlp rasid-tlp-" + markingKey(props.marking).toLowerCase().replace("+", "-");
      badge.textContent = String(props.marking);
      meta.appendChild(badge);
    }
    if (props.type) {
      var type = document.createElement("span");
      type.className = "rasid-map-popup-type";
      type.textContent = String(props.type);
      meta.appendChild(type);
    }
    box.appendChild(meta);
    var href = safeUrl(props.url);
    if (href) {
      var link = document.createElement("a");
      link.href = href;
      link.textContent = t("open");
      box.appendChild(link);
    }
    return box;
  }

  // A <details> so that on a phone the legend starts folded and leaves the map visible.
  function legendControl(markings, open) {
    var Legend = window.L.Control.extend({
      onAdd: function () {
        var box = window.L.DomUtil.create("details", "rasid-map-legend leaflet-bar");
        box.dir = isRtl() ? "rtl" : "ltr";
        box.open = open;
        var head = document.createElement("summary");
        head.className = "rasid-map-legend-title";
        head.textContent = t("legend");
        box.appendChild(head);
        markings.forEach(function (key) {
          var row = document.createElement("div");
          row.className = "rasid-map-legend-row";
          var dot = document.createElement("span");
          dot.className = "rasid-swatch rasid-tlp-" + key.toLowerCase().replace("+", "-");
          row.appendChild(dot);
          row.appendChild(document.createTextNode(key === "UNKNOWN" ? "—" : "TLP:" + key));
          box.appendChild(row);
        });
        window.L.DomEvent.disableClickPropagation(box);
        window.L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    });
    // Start corner of the reading direction; attribution takes the other bottom corner.
    return new Legend({ position: isRtl() ? "bottomright" : "bottomleft" });
  }

  function RasidMapInstance(el) {
    var L = window.L;
    var self = this;
    this.el = el;
    el.classList.add("rasid-map-ready");
    if (!el.hasAttribute("role")) { el.setAttribute("role", "region"); }
    if (!el.hasAttribute("aria-label")) { el.setAttribute("aria-label", el.dataset.label || t("map")); }

    var map = L.map(el, {
      zoomControl: false,
      attributionControl: false,
      minZoom: 2,
      maxZoom: MAX_ZOOM,
      zoomSnap: 0.5,
      worldCopyJump: false,
      maxBounds: [[-85, -200], [85, 200]],
      maxBoundsViscosity: 0.8
    });
    this.map = map;
    // Top-left in both directions, as agreed; Leaflet corners are physical, not logical.
    L.control.zoom({
      position: "topleft",
      zoomInTitle: lang() === "ar" ? "تكبير" : "Zoom in",
      zoomOutTitle: lang() === "ar" ? "تصغير" : "Zoom out"
    }).addTo(map);
    L.control.attribution({ position: isRtl() ? "bottomleft" : "bottomright", prefix: false })
      .addAttribution("Natural Earth").addTo(map);

    this.baseRenderer = L.canvas({ padding: 0.5 });
    this.baseLayers = null;
    this.detailLoaded = false;
    this.markers = L.featureGroup().addTo(map);
    this.legend = null;

    this.setInitialView();
    this.loadBasemap(el.dataset.basemapUrl || BASEMAP_URL);
    map.on("zoomend", function () {
      if (!self.detailLoaded && map.getZoom() >= DETAIL_ZOOM) {
        self.detailLoaded = true;
        self.loadBasemap(el.dataset.basemapDetailUrl || BASEMAP_DETAIL_URL);
      }
    });

    if (el.dataset.pickLat && el.dataset.pickLon) { this.setupPicker(); }
    this.reload();
  }

  RasidMapInstance.prototype.setInitialView = function () {
    var center = parseCenter(this.el.dataset.center);
    var zoom = Number(this.el.dataset.zoom);
    if (center) {
      this.map.setView(center, isFinite(zoom) && this.el.dataset.zoom ? zoom : 6);
    } else {
      this.map.fitBounds(DEFAULT_BOUNDS);
    }
  };

  RasidMapInstance.prototype.loadBasemap = function (url) {
    var self = this;
    var L = window.L;
    return loadTopo(url).then(function (geo) {
      if (!self.map) { return; }
      var land = L.geoJSON(geo.land, {
        renderer: self.baseRenderer, interactive: false, smoothFactor: 0.6,
        style: { stroke: true, color: "#9aa7b3", weight: 0.8, fill: true, fillColor: "#e9e4d8", fillOpacity: 1 }
      });
      var borders = L.geoJSON(geo.borders, {
        renderer: self.baseRenderer, interactive: false, smoothFactor: 0.6,
        style: { color: "#a3a3a3", weight: 0.8, dashArray: "3 2", fill: false }
      });
      var group = L.layerGroup([land, borders]);
      group.addTo(self.map);
      if (self.baseLayers) { self.map.removeLayer(self.baseLayers); }
      self.baseLayers = group;
    }).catch(function (err) {
      self.showError(t("basemapError"));
      if (window.console) { console.warn("RasidMap basemap:", err); }
    });
  };

  RasidMapInstance.prototype.reload = function () {
    var self = this;
    var el = this.el;
    var id = el.dataset.geojsonId || el.dataset.jsonId;
    if (id) {
      try { this.setData(readInlineJson(id)); } catch (err) { this.showError(t("error")); console.warn(err); }
      return Promise.resolve();
    }
    if (!el.dataset.geojsonUrl) { return Promise.resolve(); }
    el.setAttribute("aria-busy", "true");
    return getJson(el.dataset.geojsonUrl).then(function (data) {
      self.setData(data);
    }).catch(function (err) {
      self.showError(t("error"));
      if (window.console) { console.warn("RasidMap:", err); }
    }).then(function () { el.removeAttribute("aria-busy"); });
  };

  RasidMapInstance.prototype.setData = function (data) {
    var L = window.L;
    var self = this;
    if (!this.map) { return; }
    this.markers.clearLayers();
    var seen = {};
    var features = (data && data.features) || [];
    features.forEach(function (f) {
      var g = f && f.geometry;
      if (!g || g.type !== "Point" || !g.coordinates) { return; }
      var lon = Number(g.coordinates[0]);
      var lat = Number(g.coordinates[1]);
      if (!isFinite(lat) || !isFinite(lon)) { return; }
      var props = f.properties || {};
      var key = markingKey(props.marking);
      seen[key] = true;
      var s = TLP[key];
      var marker = L.circleMarker([lat, lon], {
        radius: 7, color: s.stroke, weight: s.weight, fillColor: s.fill, fillOpacity: 0.95,
        className: "rasid-marker rasid-tlp-" + key.toLowerCase().replace("+", "-")
      });
      marker.bindPopup(popupContent(props), { maxWidth: 260, autoPanPadding: [16, 16] });
      marker.feature = f;
      self.markers.addLayer(marker);
    });
    if (this.legend) { this.map.removeControl(this.legend); this.legend = null; }
    var present = ORDER.concat(["UNKNOWN"]).filter(function (k) { return seen[k]; });
    if (present.length) { this.legend = legendControl(present, this.el.clientWidth > 480).addTo(this.map); }
    var bounds = this.markers.getBounds();
    if (bounds.isValid()) {
      this.map.fitBounds(bounds.pad(0.15), { maxZoom: 8 });
    } else {
      this.setInitialView();
    }
    this.el.dispatchEvent(new CustomEvent("rasid:map-data", { bubbles: true, detail: { count: this.markers.getLayers().length } }));
  };

  RasidMapInstance.prototype.setupPicker = function () {
    var L = window.L;
    var self = this;
    var latInput = document.querySelector(this.el.dataset.pickLat);
    var lonInput = document.querySelector(this.el.dataset.pickLon);
    if (!latInput || !lonInput) { return; }
    this.el.classList.add("rasid-map-picking");
    this.pickMarker = null;
    var writing = false;  // our own change events must not move the marker back

    function place(lat, lon, pan) {
      if (!self.pickMarker) {
        self.pickMarker = L.marker([lat, lon], {
          draggable: true, keyboard: true, title: t("picked"), alt: t("picked"), autoPan: true
        }).addTo(self.map);
        self.pickMarker.on("dragend", function () {
          var p = self.pickMarker.getLatLng();
          write(p.lat, p.lng);
        });
      } else {
        self.pickMarker.setLatLng([lat, lon]);
      }
      if (pan) { self.map.panTo([lat, lon]); }
    }
    function write(lat, lon) {
      lon = ((lon + 540) % 360) - 180;  // wrap clicks on a neighbouring world copy
      latInput.value = lat.toFixed(5);
      lonInput.value = lon.toFixed(5);
      writing = true;
      try {
        [latInput, lonInput].forEach(function (input) {
          input.dispatchEvent(new Event("input", { bubbles: true }));
          input.dispatchEvent(new Event("change", { bubbles: true }));
        });
      } finally { writing = false; }
      self.el.dispatchEvent(new CustomEvent("rasid:map-pick", { bubbles: true, detail: { lat: Number(latInput.value), lon: Number(lonInput.value) } }));
    }
    function fromInputs() {
      var lat = parseFloat(latInput.value);
      var lon = parseFloat(lonInput.value);
      if (isFinite(lat) && isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
        place(lat, lon, true);
        return true;
      }
      return false;
    }
    this.map.on("click", function (e) {
      write(e.latlng.lat, e.latlng.lng);
      place(Number(latInput.value), Number(lonInput.value), false);
    });
    this.onInputChange = function (e) {
      if (!writing) { fromInputs(); }
    };
    latInput.addEventListener("change", this.onInputChange);
    lonInput.addEventListener("change", this.onInputChange);
    this.pickInputs = [latInput, lonInput];
    if (fromInputs() && !this.el.dataset.geojsonUrl && !this.el.dataset.geojsonId) {
      this.map.setView([parseFloat(latInput.value), parseFloat(lonInput.value)], Math.max(this.map.getZoom(), 7));
    }
  };

  RasidMapInstance.prototype.showError = function (message) {
    var box = this.el.querySelector(".rasid-map-error");
    if (!box) {
      box = document.createElement("div");
      box.className = "rasid-map-error";
      box.setAttribute("role", "alert");
      this.el.appendChild(box);
    }
    box.textContent = message;
  };

  RasidMapInstance.prototype.destroy = function () {
    var self = this;
    if (this.pickInputs) {
      this.pickInputs.forEach(function (input) { input.removeEventListener("change", self.onInputChange); });
    }
    if (this.map) { this.map.remove(); this.map = null; }
    instances.delete(this.el);
  };

  function create(el) {
    if (instances.has(el)) { return instances.get(el); }
    if (!window.L || !window.topojson) {
      console.error("RasidMap: leaflet.js and topojson-client.min.js must be loaded before map.js");
      return null;
    }
    var inst = new RasidMapInstance(el);
    instances.set(el, inst);
    return inst;
  }

  function init(root) {
    root = root || document;
    var list = [];
    if (root.matches && root.matches(".rasid-map")) { list.push(root); }
    if (root.querySelectorAll) {
      Array.prototype.forEach.call(root.querySelectorAll(".rasid-map"), function (el) { list.push(el); });
    }
    return list.map(create);
  }

  function destroyWithin(root) {
    if (!root) { return; }
    var list = [];
    if (root.matches && root.matches(".rasid-map")) { list.push(root); }
    if (root.querySelectorAll) { list = list.concat(Array.prototype.slice.call(root.querySelectorAll(".rasid-map"))); }
    list.forEach(function (el) { var inst = instances.get(el); if (inst) { inst.destroy(); } });
  }

  window.RasidMap = {
    init: init,
    create: create,
    get: function (el) { return instances.get(el) || null; },
    destroy: function (el) { destroyWithin(el); },
    markingStyle: markingStyle
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
  document.addEventListener("htmx:afterSwap", function (e) { init(e.target); });
  document.addEventListener("htmx:beforeCleanupElement", function (e) { destroyWithin(e.target); });
})();
