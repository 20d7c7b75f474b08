// Rasid link chart — Cytoscape.js. Served from this server; no inline scripts (CSP).
//
// Markup:
//   <div class="rasid-linkchart"
//        data-url="/api/v1/graph/12"                 first graph to draw
//        data-json-id="graph-json"                   or: id of a <script type="application/json">
//        data-expand-url="/api/v1/graph/{id}"        {id} = the node's numeric id ("e12" -> 12)
//        data-label="…">                             accessible name of the chart
// JSON: {"nodes": [{"id", "label", "kind", "marking", "url", "entity_id"?}],
//        "edges": [{"id", "source", "target", "label", "marking"}]}
// A click (tap) on a node fetches data-expand-url and merges what comes back (no duplicates),
// then lays the graph out again; a double click, Enter on the focused chart, or the "Open"
// button goes to the node's url. The chart is focusable: arrow keys move the selection, Enter
// opens, + or Space expands. Below it a list of every node (links, with an expand button)
// is kept up to date for keyboards and screen readers.
// Needs (in order): css/components.css, vendor/cytoscape/cytoscape.min.js, js/linkchart.js.
//
// Global: window.RasidLinkChart = {init(root), create(el), get(el), destroy(el)}.
(function () {
  "use strict";

  var FONT = "\"Noto Sans Arabic\", \"Noto Sans\", sans-serif";
  var KINDS = {
    person: { shape: "ellipse", fill: "#0b4f6c", ar: "شخص", en: "Person" },
    group: { shape: "round-rectangle", fill: "#6d4c9f", ar: "جماعة", en: "Group" },
    vehicle: { shape: "triangle", fill: "#8a5a00", ar: "مركبة", en: "Vehicle" },
    vessel: { shape: "diamond", fill: "#1f6f8b", ar: "سفينة", en: "Vessel" },
    place: { shape: "hexagon", fill: "#3f6e3a", ar: "مكان", en: "Place" }
  };
  var OTHER_KIND = { shape: "ellipse", fill: "#64748b", ar: "أخرى", en: "Other" };
  var TLP = {
    CLEAR: { color: "#ffffff", width: 4, style: "solid", outline: 1 },
    GREEN: { color: "#2fb344", width: 4, style: "solid", outline: 0 },
    AMBER: { color: "#ffc000", width: 4, style: "solid", outline: 0 },
    "AMBER+STRICT": { color: "#ffc000", width: 7, style: "double", outline: 0 },
    RED: { color: "#ff2b2b", width: 4, style: "solid", outline: 0 },
    UNKNOWN: { color: "#94a3b8", width: 2, style: "dashed", outline: 0 }
  };
  var ORDER = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"];
  var TEXT = {
    ar: { chart: "مخطط العلاقات", open: "فتح المحدد", fit: "ملاءمة العرض", expand: "توسيع",
      expanded: "موسّع", loading: "جارٍ التحميل…", nothing: "لا روابط جديدة",
      added: { one: "أضيف عنصر واحد", two: "أضيف عنصران", few: "أضيفت {n} عناصر", many: "أضيف {n} عنصرًا", other: "أضيف {n} عنصر" },
      error: "تعذر تحميل بيانات المخطط.", nodes: "العناصر", kinds: "النوع", markings: "التصنيف",
      hint: "انقر عنصراً لتوسيعه، وانقر مرتين لفتحه. بلوحة المفاتيح: الأسهم للتنقل، Enter للفتح، + للتوسيع." },
    en: { chart: "Link chart", open: "Open selected", fit: "Fit", expand: "Expand",
      expanded: "Expanded", loading: "Loading…", nothing: "No new links",
      added: { one: "{n} item added", other: "{n} items added" },
      error: "The chart data could not be loaded.", nodes: "Items", kinds: "Kind", markings: "Marking",
      hint: "Click an item to expand it, double-click to open it. Keyboard: arrows to move, Enter to open, + to expand." }
  };
  var SVG_NS = "http://www.w3.org/2000/svg";

  var instances = new WeakMap();
  var fontsReady = null;
  var uid = 0;

  function lang() {
    return (document.documentElement.lang || "ar").slice(0, 2) === "en" ? "en" : "ar";
  }
  function t(key) { return TEXT[lang()][key]; }
  function markingKey(marking) {
    var m = String(marking || "").toUpperCase().replace(/^TLP:\s*/, "").trim();
    if (m === "WHITE") { m = "CLEAR"; }
    return TLP[m] ? m : "UNKNOWN";
  }
  function cssKey(key) { return key.toLowerCase().replace("+", "-"); }
  function kindOf(kind) { return KINDS[String(kind || "").toLowerCase()] || OTHER_KIND; }
  function safeUrl(url) {
    if (!url) { return null; }
    try {
      var u = new URL(String(url), window.location.href);
      return (u.protocol === "http:" || u.protocol === "https:") ? u.href : null;
    } catch (e) { return null; }
  }
  function reducedMotion() {
    return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }
  function getJson(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) { throw new Error(url + ": HTTP " + r.status); }
        return r.json();
      });
  }
  // Canvas text is measured once: wait (briefly) for the web fonts so Arabic labels are shaped
  // and sized with Noto Sans Arabic rather than a fallback.
  function waitForFonts() {
    if (!fontsReady) {
      if (!document.fonts || !document.fonts.load) {
        fontsReady = Promise.resolve();
      } else {
        var load = Promise.all([
          document.fonts.load("11px \"Noto Sans Arabic\"", "محمد"),
          document.fonts.load("11px \"Noto Sans\"", "Ab")
        ]).catch(function () {});
        fontsReady = Promise.race([load, new Promise(function (r) { setTimeout(r, 2000); })]);
      }
    }
    return fontsReady;
  }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text != null) { node.textContent = text; }
    return node;
  }
  function numericId(data) {
    if (data.entity_id != null) { return String(data.entity_id); }
    var digits = String(data.id).replace(/^\D+/, "");
    return digits || String(data.id);
  }

  function shapeIcon(shape, fill) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 20 20");
    svg.setAttribute("width", "16");
    svg.setAttribute("height", "16");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "rasid-lc-icon");
    var node;
    if (shape === "round-rectangle") {
      node = document.createElementNS(SVG_NS, "rect");
      node.setAttribute("x", "2"); node.setAttribute("y", "4");
      node.setAttribute("width", "16"); node.setAttribute("height", "12"); node.setAttribute("rx", "4");
    } else if (shape === "ellipse") {
      node = document.createElementNS(SVG_NS, "circle");
      node.setAttribute("cx", "10"); node.setAttribute("cy", "10"); node.setAttribute("r", "8");
    } else {
      node = document.createElementNS(SVG_NS, "polygon");
      node.setAttribute("points", {
        triangle: "10,2 18,17 2,17",
        diamond: "10,1 19,10 10,19 1,10",
        hexagon: "5,2 15,2 19,10 15,18 5,18 1,10"
      }[shape] || "2,2 18,2 18,18 2,18");
    }
    node.setAttribute("fill", fill);
    svg.appendChild(node);
    return svg;
  }

  function nodeData(n) {
    var kind = kindOf(n.kind);
    var mk = markingKey(n.marking);
    var tlp = TLP[mk];
    return {
      id: String(n.id), label: String(n.label == null ? n.id : n.label), kind: n.kind || "",
      marking: n.marking || "", url: safeUrl(n.url) || "", entity_id: n.entity_id,
      _shape: kind.shape, _fill: kind.fill, _border: tlp.color, _bw: tlp.width, _bs: tlp.style,
      _ow: tlp.outline, _mk: mk
    };
  }
  function edgeData(e) {
    var mk = markingKey(e.marking);
    return {
      id: String(e.id || ("edge:" + e.source + ">" + e.target + ":" + (e.label || ""))),
      source: String(e.source), target: String(e.target), label: String(e.label || ""),
      marking: e.marking || "", _mk: mk
    };
  }

  function stylesheet() {
    return [
      { selector: "node", style: {
        "shape": "data(_shape)", "background-color": "data(_fill)", "width": 30, "height": 30,
        "border-color": "data(_border)", "border-width": "data(_bw)", "border-style": "data(_bs)",
        "outline-color": "#475569", "outline-width": "data(_ow)",
        "label": "data(label)", "font-family": FONT, "font-size": 13, "color": "#17212b",
        "text-wrap": "wrap", "text-max-width": "120px", "text-valign": "bottom", "text-halign": "center",
        "text-margin-y": 5, "text-background-color": "#ffffff", "text-background-opacity": 0.85,
        "text-background-padding": "2px", "text-background-shape": "round-rectangle"
      } },
      { selector: "node.rasid-root", style: { "width": 40, "height": 40, "font-weight": "bold" } },
      { selector: "node:selected", style: { "overlay-color": "#c9a227", "overlay-opacity": 0.35, "overlay-padding": 6 } },
      { selector: "node.rasid-loading", style: { "opacity": 0.6 } },
      { selector: "edge", style: {
        "width": 1.6, "line-color": "#8b99a8", "curve-style": "bezier",
        "target-arrow-shape": "triangle", "target-arrow-color": "#8b99a8", "arrow-scale": 0.9,
        "label": "data(label)", "font-family": FONT, "font-size": 10, "color": "#3b4a59",
        "text-rotation": "autorotate", "text-wrap": "wrap", "text-max-width": "100px",
        "text-background-color": "#f3f5f7", "text-background-opacity": 0.9, "text-background-padding": "1px"
      } },
      { selector: "edge[_mk = \"RED\"]", style: { "line-color": "#d33", "target-arrow-color": "#d33" } },
      { selector: "edge[_mk = \"AMBER\"], edge[_mk = \"AMBER+STRICT\"]", style: { "line-color": "#c98f00", "target-arrow-color": "#c98f00" } }
    ];
  }

  function LinkChart(root) {
    this.root = root;
    this.id = "rasid-lc-" + (++uid);
    this.expanded = {};
    this.pending = {};
    this.build();
    var self = this;
    var first = root.dataset.jsonId
      ? Promise.resolve().then(function () {
        var node = document.getElementById(root.dataset.jsonId);
        if (!node) { throw new Error("RasidLinkChart: no element #" + root.dataset.jsonId); }
        return JSON.parse(node.textContent);
      })
      : (root.dataset.url ? getJson(root.dataset.url) : Promise.resolve({ nodes: [], edges: [] }));
    this.status(t("loading"));
    root.setAttribute("aria-busy", "true");
    Promise.all([first, waitForFonts()]).then(function (results) {
      if (self.destroyed) { return; }
      self.start(results[0]);
      self.status("");
    }).catch(function (err) {
      self.status(t("error"), true);
      console.warn("RasidLinkChart:", err);
    }).then(function () { root.removeAttribute("aria-busy"); });
  }

  LinkChart.prototype.build = function () {
    var self = this;
    var root = this.root;
    root.classList.add("rasid-linkchart-ready");
    var bar = el("div", "rasid-lc-bar");
    this.statusEl = el("span", "rasid-lc-status");
    this.statusEl.setAttribute("role", "status");
    this.statusEl.setAttribute("aria-live", "polite");
    this.openBtn = el("button", "rasid-lc-open", t("open"));
    this.openBtn.type = "button";
    this.openBtn.disabled = true;
    this.openBtn.addEventListener("click", function () { self.openSelected(); });
    var fitBtn = el("button", "rasid-lc-fit", t("fit"));
    fitBtn.type = "button";
    fitBtn.addEventListener("click", function () {
      if (self.cy) { self.cy.animate({ fit: { eles: self.cy.elements(), padding: 30 } }, { duration: reducedMotion() ? 0 : 200 }); }
    });
    bar.appendChild(this.openBtn);
    bar.appendChild(fitBtn);
    bar.appendChild(this.statusEl);

    this.canvas = el("div", "rasid-lc-canvas");
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute("aria-label", root.dataset.label || t("chart"));
    var hint = el("p", "rasid-lc-hint", t("hint"));
    hint.id = this.id + "-hint";
    this.canvas.setAttribute("aria-describedby", hint.id);
    this.canvas.addEventListener("keydown", function (e) { self.onKey(e); });

    this.legend = el("div", "rasid-lc-legend");
    var listWrap = el("div", "rasid-lc-list-wrap");
    this.listTitle = el("p", "rasid-lc-list-title", t("nodes"));
    this.listTitle.id = this.id + "-list";
    this.list = el("ul", "rasid-lc-list");
    this.list.setAttribute("aria-labelledby", this.listTitle.id);
    listWrap.appendChild(this.listTitle);
    listWrap.appendChild(this.list);

    root.appendChild(bar);
    root.appendChild(this.canvas);
    root.appendChild(hint);
    root.appendChild(this.legend);
    root.appendChild(listWrap);
    this.buildLegend();
  };

  LinkChart.prototype.buildLegend = function () {
    var L = lang();
    var kinds = el("div", "rasid-lc-legend-group");
    kinds.appendChild(el("span", "rasid-lc-legend-title", t("kinds")));
    Object.keys(KINDS).forEach(function (k) {
      var item = el("span", "rasid-lc-legend-item");
      item.appendChild(shapeIcon(KINDS[k].shape, KINDS[k].fill));
      item.appendChild(document.createTextNode(KINDS[k][L]));
      kinds.appendChild(item);
    });
    var marks = el("div", "rasid-lc-legend-group");
    marks.appendChild(el("span", "rasid-lc-legend-title", t("markings")));
    ORDER.forEach(function (k) {
      var item = el("span", "rasid-lc-legend-item");
      item.appendChild(el("span", "rasid-swatch rasid-swatch-ring rasid-tlp-" + cssKey(k)));
      item.appendChild(document.createTextNode("TLP:" + k));
      marks.appendChild(item);
    });
    this.legend.appendChild(kinds);
    this.legend.appendChild(marks);
  };

  // Cytoscape prepends <style id="__________cytoscape_stylesheet"> to <head> unless an element
  // with that id exists; the CSP (style-src 'self') blocks that inline style and logs an error.
  // Its one rule (".__________cytoscape_container { position: relative; }") is in
  // components.css, so an inert placeholder with the id is enough.
  function cytoscapeStylesheetPlaceholder() {
    var id = "__________cytoscape_stylesheet";
    if (!document.getElementById(id)) {
      var meta = document.createElement("meta");
      meta.id = id;
      meta.name = "rasid-cytoscape-stylesheet";
      meta.content = "css/components.css";
      document.head.appendChild(meta);
    }
  }

  LinkChart.prototype.start = function (data) {
    var self = this;
    cytoscapeStylesheetPlaceholder();
    var cy = window.cytoscape({
      container: this.canvas,
      elements: [],
      style: stylesheet(),
      minZoom: 0.2,
      maxZoom: 3,
      boxSelectionEnabled: false,
      selectionType: "single"
    });
    this.cy = cy;
    this.merge(data);
    var rootNode = cy.nodes()[0];
    if (rootNode) {
      rootNode.addClass("rasid-root");
      this.expanded[rootNode.id()] = true;
    }
    this.layout(true);
    this.renderList();

    cy.on("tap", "node", function (e) { self.expand(e.target); });
    cy.on("dbltap", "node", function (e) { self.open(e.target); });
    cy.on("select unselect", "node", function () { self.syncSelection(); });
    cy.on("mouseover", "node", function () { self.canvas.classList.add("rasid-lc-pointer"); });
    cy.on("mouseout", "node", function () { self.canvas.classList.remove("rasid-lc-pointer"); });
  };

  // Adds nodes and edges not already present; returns the nodes added.
  LinkChart.prototype.merge = function (data, near) {
    var cy = this.cy;
    var add = [];
    var ids = {};
    var center = near ? near.position() : null;
    ((data && data.nodes) || []).forEach(function (n) {
      if (n == null || n.id == null) { return; }
      var d = nodeData(n);
      if (ids[d.id] || cy.getElementById(d.id).length) { return; }
      ids[d.id] = true;
      var item = { group: "nodes", data: d };
      if (center) {
        var a = Math.random() * 2 * Math.PI;
        item.position = { x: center.x + 70 * Math.cos(a), y: center.y + 70 * Math.sin(a) };
      }
      add.push(item);
    });
    ((data && data.edges) || []).forEach(function (e) {
      if (e == null || e.source == null || e.target == null) { return; }
      var d = edgeData(e);
      if (ids[d.id] || cy.getElementById(d.id).length) { return; }
      var known = function (id) { return ids[id] || cy.getElementById(id).length; };
      if (!known(d.source) || !known(d.target)) { return; }
      ids[d.id] = true;
      add.push({ group: "edges", data: d });
    });
    return add.length ? cy.add(add).nodes() : cy.collection();
  };

  // cose, then the result is stretched to the chart's aspect ratio (a wide, low box) so that a
  // fit does not shrink the labels, and nodes glide from their old places to the new ones.
  LinkChart.prototype.layout = function (first) {
    var self = this;
    var cy = this.cy;
    var animate = !first && !reducedMotion();
    var old = {};
    cy.nodes().forEach(function (n) { var p = n.position(); old[n.id()] = { x: p.x, y: p.y }; });
    var lay = cy.layout({
      name: "cose", randomize: !!first, animate: false, fit: false, nodeDimensionsIncludeLabels: true,
      nodeRepulsion: function () { return 6000; }, idealEdgeLength: function () { return 70; }
    });
    lay.one("layoutstop", function () {
      if (!self.cy) { return; }
      var view = self.stretch();
      if (!animate) { cy.viewport(view); return; }
      var nodes = cy.nodes();
      var target = {};
      nodes.forEach(function (n) { var p = n.position(); target[n.id()] = { x: p.x, y: p.y }; });
      cy.batch(function () { nodes.forEach(function (n) { if (old[n.id()]) { n.position(old[n.id()]); } }); });
      nodes.forEach(function (n) { n.animate({ position: target[n.id()] }, { duration: 400 }); });
      cy.animate(view, { duration: 400 });
    });
    lay.run();
  };

  // Scales node positions to the container's box (0.75x to 3x per axis) and returns the
  // {zoom, pan} that fits them, with the zoom capped so a small graph is not blown up.
  LinkChart.prototype.stretch = function () {
    var cy = this.cy;
    var nodes = cy.nodes();
    var W = cy.width() || 600;
    var H = cy.height() || 400;
    var pad = 40;
    var bb = nodes.boundingBox({ includeLabels: false, includeOverlays: false });
    var cx = (bb.x1 + bb.x2) / 2;
    var cyy = (bb.y1 + bb.y2) / 2;
    var clamp = function (v) { return Math.min(3, Math.max(0.75, v)); };
    if (nodes.length > 2 && bb.w > 1 && bb.h > 1) {
      // Aim for a zoom near 1 (labels at their set size): each axis to the box, within 0.75x-3x (less would make labels overlap).
      var sx = clamp((W - 2 * pad - 100) / bb.w);
      var sy = clamp((H - 2 * pad - 20) / bb.h);
      cy.batch(function () {
        nodes.forEach(function (n) {
          var p = n.position();
          n.position({ x: cx + (p.x - cx) * sx, y: cyy + (p.y - cyy) * sy });
        });
      });
    }
    var box = nodes.boundingBox({ includeLabels: true, includeOverlays: false });
    var zoom = Math.min((W - 2 * pad) / Math.max(box.w, 1), (H - 2 * pad) / Math.max(box.h, 1), 1.5);
    zoom = Math.max(zoom, cy.minZoom());
    return { zoom: zoom, pan: { x: W / 2 - zoom * (box.x1 + box.x2) / 2, y: H / 2 - zoom * (box.y1 + box.y2) / 2 } };
  };

  LinkChart.prototype.expand = function (node) {
    var self = this;
    var template = this.root.dataset.expandUrl;
    var id = node.id();
    if (!template || this.expanded[id] || this.pending[id]) { return Promise.resolve(); }
    this.pending[id] = true;
    node.addClass("rasid-loading");
    this.status(t("loading"));
    var url = template.replace("{id}", encodeURIComponent(numericId(node.data())));
    return getJson(url).then(function (data) {
      if (!self.cy) { return; }
      var added = self.merge(data, node);
      self.expanded[id] = true;
      var forms = t("added");
      var form = forms[new Intl.PluralRules(lang()).select(added.length)] || forms.other;
      self.status(added.length ? form.replace("{n}", new Intl.NumberFormat(lang()).format(added.length)) : t("nothing"));
      self.layout(false);
      self.renderList();
    }).catch(function (err) {
      self.status(t("error"), true);
      console.warn("RasidLinkChart:", err);
    }).then(function () {
      delete self.pending[id];
      node.removeClass("rasid-loading");
    });
  };

  LinkChart.prototype.open = function (node) {
    var url = node && node.data("url");
    if (url) { window.location.assign(url); }
  };
  LinkChart.prototype.openSelected = function () { this.open(this.cy && this.cy.nodes(":selected")[0]); };

  LinkChart.prototype.syncSelection = function () {
    var sel = this.cy.nodes(":selected")[0];
    this.openBtn.disabled = !(sel && sel.data("url"));
    Array.prototype.forEach.call(this.list.children, function (li) {
      li.classList.toggle("rasid-lc-selected", !!sel && li.dataset.nodeId === sel.id());
    });
  };

  LinkChart.prototype.select = function (node) {
    this.cy.nodes(":selected").unselect();
    node.select();
    this.cy.animate({ center: { eles: node } }, { duration: reducedMotion() ? 0 : 200 });
    this.status(node.data("label"));
  };

  LinkChart.prototype.onKey = function (e) {
    if (!this.cy) { return; }
    var nodes = this.cy.nodes();
    if (!nodes.length) { return; }
    var sel = this.cy.nodes(":selected")[0];
    var i = sel ? nodes.indexOf(sel) : -1;
    var rtl = getComputedStyle(this.root).direction === "rtl";
    var key = e.key;
    if (key === "ArrowDown" || key === (rtl ? "ArrowLeft" : "ArrowRight")) {
      this.select(nodes[(i + 1) % nodes.length]);
    } else if (key === "ArrowUp" || key === (rtl ? "ArrowRight" : "ArrowLeft")) {
      this.select(nodes[(i - 1 + nodes.length) % nodes.length]);
    } else if (key === "Enter" && sel) {
      this.open(sel);
    } else if ((key === "+" || key === " ") && sel) {
      this.expand(sel);
    } else {
      return;
    }
    e.preventDefault();
  };

  LinkChart.prototype.renderList = function () {
    var self = this;
    var cy = this.cy;
    var L = lang();
    var list = this.list;
    while (list.firstChild) { list.removeChild(list.firstChild); }
    cy.nodes().forEach(function (node) {
      var d = node.data();
      var li = el("li", "rasid-lc-item");
      li.dataset.nodeId = d.id;
      var name = d.url ? el("a", "rasid-lc-name", d.label) : el("span", "rasid-lc-name", d.label);
      if (d.url) { name.href = d.url; }
      name.addEventListener("focus", function () { cy.nodes(":selected").unselect(); node.select(); });
      li.appendChild(shapeIcon(d._shape, d._fill));
      li.appendChild(name);
      li.appendChild(el("span", "rasid-lc-kind", kindOf(d.kind)[L]));
      if (d.marking) { li.appendChild(el("span", "rasid-tlp rasid-tlp-" + cssKey(d._mk), d.marking)); }
      if (self.root.dataset.expandUrl) {
        var done = !!self.expanded[d.id];
        var btn = el("button", "rasid-lc-expand", done ? t("expanded") : t("expand"));
        btn.type = "button";
        btn.disabled = done;
        btn.setAttribute("aria-label", (done ? t("expanded") : t("expand")) + ": " + d.label);
        btn.addEventListener("click", function () {
          btn.disabled = true;
          self.expand(node).then(function () { self.renderList(); });
        });
        li.appendChild(btn);
      }
      var out = node.outgoers("edge");
      var inc = node.incomers("edge");
      if (out.length || inc.length) {
        var rel = el("ul", "rasid-lc-rel");
        out.forEach(function (edge) {
          rel.appendChild(el("li", null, edge.data("label") + ": " + edge.target().data("label")));
        });
        inc.forEach(function (edge) {
          rel.appendChild(el("li", null, edge.source().data("label") + " — " + edge.data("label")));
        });
        li.appendChild(rel);
      }
      list.appendChild(li);
    });
    this.listTitle.textContent = t("nodes") + " (" + cy.nodes().length + ")";
    this.syncSelection();
  };

  LinkChart.prototype.status = function (message, isError) {
    this.statusEl.textContent = message || "";
    this.statusEl.classList.toggle("rasid-lc-error", !!isError);
  };

  LinkChart.prototype.destroy = function () {
    this.destroyed = true;
    if (this.cy) { this.cy.destroy(); this.cy = null; }
    instances.delete(this.root);
  };

  function create(node) {
    if (instances.has(node)) { return instances.get(node); }
    if (!window.cytoscape) {
      console.error("RasidLinkChart: cytoscape.min.js must be loaded before linkchart.js");
      return null;
    }
    var inst = new LinkChart(node);
    instances.set(node, inst);
    return inst;
  }
  function collect(root) {
    var found = [];
    if (!root) { return found; }
    if (root.matches && root.matches(".rasid-linkchart")) { found.push(root); }
    if (root.querySelectorAll) {
      found = found.concat(Array.prototype.slice.call(root.querySelectorAll(".rasid-linkchart")));
    }
    return found;
  }
  function init(root) { return collect(root || document).map(create); }
  function destroy(root) {
    collect(root).forEach(function (node) { var inst = instances.get(node); if (inst) { inst.destroy(); } });
  }

  window.RasidLinkChart = {
    init: init,
    create: create,
    get: function (node) { return instances.get(node) || null; },
    destroy: destroy
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
  document.addEventListener("htmx:afterSwap", function (e) { init(e.target); });
  document.addEventListener("htmx:beforeCleanupElement", function (e) { destroy(e.target); });
})();
