// Rasid timeline — plain DOM and SVG. Served from this server; no inline scripts (CSP).
//
// Markup:
//   <div class="rasid-timeline"
//        data-url="/api/..."            GeoJSON FeatureCollection (properties date, title, url, marking, type)
//        data-json-id="incidents-json"  or: id of a <script type="application/json"> holding it
//        data-heading-level="3"         level of the month headings in the list (default 3)
//        data-label="…">                accessible name of the month chart
// Draws a month axis with a bar per month (stacked by TLP marking; a bar links to its month in
// the list), and below it a scrollable list grouped by month, newest first. Time runs in the
// reading direction: right to left when <html dir="rtl">.
// Needs: css/components.css, js/timeline.js.
//
// Global: window.RasidTimeline = {init(root), create(el), get(el), destroy(el)}.
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var ORDER = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED", "UNKNOWN"];
  var KNOWN = { CLEAR: 1, GREEN: 1, AMBER: 1, "AMBER+STRICT": 1, RED: 1 };
  var TEXT = {
    ar: { chart: "عدد الأحداث في كل شهر", empty: "لا توجد أحداث.", error: "تعذر تحميل بيانات الخط الزمني.",
      loading: "جارٍ التحميل…",
      plural: { zero: "لا أحداث", one: "حدث واحد", two: "حدثان", few: "{n} أحداث", many: "{n} حدثًا", other: "{n} حدث" } },
    en: { chart: "Events per month", empty: "No events.", error: "The timeline data could not be loaded.",
      loading: "Loading…", plural: { one: "{n} event", other: "{n} events" } }
  };
  var HEIGHT = 150;
  var BASE = 104;   // y of the axis line
  var BAR_MAX = 76; // tallest bar

  var instances = new WeakMap();
  var uid = 0;

  function lang() { return document.documentElement.lang || "ar"; }
  function t(key) { return TEXT[lang().slice(0, 2) === "en" ? "en" : "ar"][key]; }
  function isRtl(node) { return getComputedStyle(node).direction === "rtl"; }
  function markingKey(marking) {
    var m = String(marking || "").toUpperCase().replace(/^TLP:\s*/, "").trim();
    if (m === "WHITE") { m = "CLEAR"; }
    return KNOWN[m] ? m : "UNKNOWN";
  }
  function cssKey(key) { return key.toLowerCase().replace("+", "-"); }
  function safeUrl(url) {
    if (!url) { return null; }
    try {
      var u = new URL(String(url), window.location.href);
      return (u.protocol === "http:" || u.protocol === "https:") ? u.href : null;
    } catch (e) { return null; }
  }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text != null) { node.textContent = text; }
    return node;
  }
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function countText(n) {
    var forms = t("plural");
    var rule = new Intl.PluralRules(lang()).select(n);
    return (forms[rule] || forms.other).replace("{n}", new Intl.NumberFormat(lang()).format(n));
  }
  function monthIndex(key) { return Number(key.slice(0, 4)) * 12 + Number(key.slice(5, 7)) - 1; }
  function monthKey(index) {
    var y = Math.floor(index / 12);
    var m = index % 12 + 1;
    return y + "-" + (m < 10 ? "0" : "") + m;
  }
  function monthDate(key) { return new Date(Date.UTC(Number(key.slice(0, 4)), Number(key.slice(5, 7)) - 1, 1)); }

  function parse(data) {
    var items = [];
    ((data && data.features) || []).forEach(function (f) {
      var p = (f && f.properties) || {};
      var date = String(p.date || "").slice(0, 10);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) { return; }
      items.push({ date: date, month: date.slice(0, 7), title: String(p.title || p.id || ""),
        url: safeUrl(p.url), marking: p.marking ? String(p.marking) : "", mk: markingKey(p.marking),
        type: p.type ? String(p.type) : "" });
    });
    items.sort(function (a, b) { return a.date < b.date ? 1 : a.date > b.date ? -1 : 0; });
    return items;
  }

  function Timeline(root) {
    var self = this;
    this.root = root;
    this.id = "rasid-tl-" + (++uid);
    this.items = [];
    root.classList.add("rasid-timeline-ready");
    this.axisWrap = el("div", "rasid-tl-axis");
    this.list = el("div", "rasid-tl-list");
    this.list.tabIndex = 0;
    this.list.setAttribute("role", "region");
    this.list.setAttribute("aria-label", root.dataset.label || t("chart"));
    this.msg = el("p", "rasid-tl-message");
    this.msg.setAttribute("role", "status");
    root.appendChild(this.axisWrap);
    root.appendChild(this.msg);
    root.appendChild(this.list);
    this.lastWidth = 0;
    if (window.ResizeObserver) {
      this.observer = new ResizeObserver(function () {
        var w = self.axisWrap.clientWidth;
        if (w && Math.abs(w - self.lastWidth) > 4) { self.drawAxis(); }
      });
      this.observer.observe(this.axisWrap);
    }
    this.reload();
  }

  Timeline.prototype.reload = function () {
    var self = this;
    var root = this.root;
    if (root.dataset.jsonId) {
      try {
        var node = document.getElementById(root.dataset.jsonId);
        if (!node) { throw new Error("RasidTimeline: no element #" + root.dataset.jsonId); }
        this.setData(JSON.parse(node.textContent));
      } catch (err) { this.msg.textContent = t("error"); console.warn(err); }
      return Promise.resolve();
    }
    if (!root.dataset.url) { this.setData(null); return Promise.resolve(); }
    this.msg.textContent = t("loading");
    root.setAttribute("aria-busy", "true");
    return fetch(root.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) { throw new Error(root.dataset.url + ": HTTP " + r.status); }
        return r.json();
      })
      .then(function (data) { self.setData(data); })
      .catch(function (err) { self.msg.textContent = t("error"); console.warn("RasidTimeline:", err); })
      .then(function () { root.removeAttribute("aria-busy"); });
  };

  Timeline.prototype.setData = function (data) {
    this.items = parse(data);
    this.months = {};
    var self = this;
    this.items.forEach(function (it) {
      var m = self.months[it.month] || (self.months[it.month] = { total: 0, by: {}, items: [] });
      m.total += 1;
      m.by[it.mk] = (m.by[it.mk] || 0) + 1;
      m.items.push(it);
    });
    this.msg.textContent = this.items.length ? "" : t("empty");
    this.monthFmt = new Intl.DateTimeFormat(lang(), { month: "short", year: "numeric", timeZone: "UTC" });
    this.dayFmt = new Intl.DateTimeFormat(lang(), { day: "numeric", month: "short", timeZone: "UTC" });
    this.drawAxis();
    this.drawList();
  };

  Timeline.prototype.drawAxis = function () {
    var wrap = this.axisWrap;
    while (wrap.firstChild) { wrap.removeChild(wrap.firstChild); }
    if (!this.items.length) { wrap.hidden = true; return; }
    wrap.hidden = false;
    var self = this;
    var keys = Object.keys(this.months).sort();
    var first = monthIndex(keys[0]);
    var last = monthIndex(keys[keys.length - 1]);
    var n = last - first + 1;
    var width = wrap.clientWidth || 600;
    this.lastWidth = width;
    var slot = Math.max(34, Math.floor(width / n));
    var total = slot * n;
    var rtl = isRtl(this.root);
    var max = 1;
    keys.forEach(function (k) { max = Math.max(max, self.months[k].total); });
    var every = Math.max(1, Math.ceil(64 / slot));

    var chart = svg("svg", { width: total, height: HEIGHT, viewBox: "0 0 " + total + " " + HEIGHT,
      "class": "rasid-tl-svg", role: "group", "aria-label": this.root.dataset.label || t("chart") });
    chart.appendChild(svg("line", { x1: 0, x2: total, y1: BASE, y2: BASE, "class": "rasid-tl-baseline" }));
    var nf = new Intl.NumberFormat(lang());

    for (var i = 0; i < n; i++) {
      var key = monthKey(first + i);
      var month = this.months[key];
      var x = rtl ? total - (i + 1) * slot : i * slot;
      var mid = x + slot / 2;
      var label = this.monthFmt.format(monthDate(key));
      chart.appendChild(svg("line", { x1: mid, x2: mid, y1: BASE, y2: BASE + 4, "class": "rasid-tl-tick" }));
      if (i % every === 0 || i === n - 1) {
        var parts = this.monthFmt.formatToParts(monthDate(key));
        var mName = parts.filter(function (p) { return p.type === "month"; }).map(function (p) { return p.value; }).join("");
        var yName = parts.filter(function (p) { return p.type === "year"; }).map(function (p) { return p.value; }).join("");
        var text = svg("text", { x: mid, y: BASE + 18, "class": "rasid-tl-label", "text-anchor": "middle" });
        text.textContent = mName;
        var text2 = svg("text", { x: mid, y: BASE + 33, "class": "rasid-tl-label rasid-tl-year", "text-anchor": "middle" });
        text2.textContent = yName;
        chart.appendChild(text);
        chart.appendChild(text2);
      }
      if (!month) { continue; }
      var link = svg("a", { href: "#" + this.id + "-" + key, "class": "rasid-tl-bar",
        "aria-label": label + ": " + countText(month.total) });
      var title = svg("title");
      title.textContent = label + ": " + countText(month.total);
      link.appendChild(title);
      var barW = Math.max(8, Math.min(36, slot * 0.62));
      var y = BASE;
      ORDER.forEach(function (mk) {
        var c = month.by[mk];
        if (!c) { return; }
        var h = Math.max(2, (c / max) * BAR_MAX);
        y -= h;
        link.appendChild(svg("rect", { x: mid - barW / 2, y: y, width: barW, height: h,
          "class": "rasid-tl-seg rasid-tlp-fill-" + cssKey(mk) }));
      });
      var count = svg("text", { x: mid, y: y - 4, "class": "rasid-tl-count", "text-anchor": "middle" });
      count.textContent = nf.format(month.total);
      link.appendChild(count);
      link.addEventListener("click", this.jump.bind(this, key));
      chart.appendChild(link);
    }
    wrap.appendChild(chart);
    // Show the newest months: the end of the reading direction.
    wrap.scrollLeft = rtl ? -wrap.scrollWidth : wrap.scrollWidth;
  };

  Timeline.prototype.jump = function (key, e) {
    var section = document.getElementById(this.id + "-" + key);
    if (!section) { return; }
    e.preventDefault();
    var heading = section.querySelector(".rasid-tl-month");
    var list = this.list;
    list.scrollTop += section.getBoundingClientRect().top - list.getBoundingClientRect().top;
    if (list.getBoundingClientRect().top < 0) { list.scrollIntoView({ block: "nearest" }); }
    if (heading) { heading.focus({ preventScroll: true }); }
  };

  Timeline.prototype.drawList = function () {
    var list = this.list;
    var self = this;
    while (list.firstChild) { list.removeChild(list.firstChild); }
    list.hidden = !this.items.length;
    var level = Math.min(6, Math.max(2, Number(this.root.dataset.headingLevel) || 3));
    Object.keys(this.months).sort().reverse().forEach(function (key) {
      var month = self.months[key];
      var section = el("section", "rasid-tl-group");
      section.id = self.id + "-" + key;
      var h = el("h" + level, "rasid-tl-month");
      h.tabIndex = -1;
      h.appendChild(el("span", null, self.monthFmt.format(monthDate(key))));
      h.appendChild(el("span", "rasid-tl-month-count", countText(month.total)));
      section.appendChild(h);
      var ul = el("ul", "rasid-tl-items");
      month.items.forEach(function (it) {
        var li = el("li", "rasid-tl-item rasid-tl-item-" + cssKey(it.mk));
        var time = el("time", "rasid-tl-date", self.dayFmt.format(new Date(it.date + "T00:00:00Z")));
        time.dateTime = it.date;
        li.appendChild(time);
        var name = it.url ? el("a", "rasid-tl-title", it.title) : el("span", "rasid-tl-title", it.title);
        if (it.url) { name.href = it.url; }
        li.appendChild(name);
        if (it.type) { li.appendChild(el("span", "rasid-tl-type", it.type)); }
        if (it.marking) { li.appendChild(el("span", "rasid-tlp rasid-tlp-" + cssKey(it.mk), it.marking)); }
        ul.appendChild(li);
      });
      section.appendChild(ul);
      list.appendChild(section);
    });
  };

  Timeline.prototype.destroy = function () {
    if (this.observer) { this.observer.disconnect(); }
    instances.delete(this.root);
  };

  function create(node) {
    if (instances.has(node)) { return instances.get(node); }
    var inst = new Timeline(node);
    instances.set(node, inst);
    return inst;
  }
  function collect(root) {
    var found = [];
    if (!root) { return found; }
    if (root.matches && root.matches(".rasid-timeline")) { found.push(root); }
    if (root.querySelectorAll) {
      found = found.concat(Array.prototype.slice.call(root.querySelectorAll(".rasid-timeline")));
    }
    return found;
  }
  function init(root) { return collect(root || document).map(create); }
  function destroy(root) {
    collect(root).forEach(function (node) { var inst = instances.get(node); if (inst) { inst.destroy(); } });
  }

  window.RasidTimeline = {
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
