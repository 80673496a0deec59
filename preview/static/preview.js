/* Draws one dashboard from the JSON document in #md-data, as Grafana lays it out.
 * Sets window.mdPreviewReady = true when every panel is drawn (the screenshot waits for it).
 * Strings from the dashboard go into the DOM with textContent only. */
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("md-data").textContent);
  // Grafana's "classic palette" and named colours (dark theme).
  const PALETTE = ["#7EB26D", "#EAB839", "#6ED0E0", "#EF843C", "#E24D42", "#1F78C1", "#BA43A9", "#705DA0",
    "#508642", "#CCA300", "#447EBC", "#C15C17", "#890F02", "#0A437C", "#6D1F62", "#584477", "#B7DBAB",
    "#F4D598", "#70DBED", "#F9BA8F", "#F29191", "#82B5D8", "#E5A8E2", "#AEA2E0", "#629E51", "#E5AC0E"];
  const NAMED = { green: "#73BF69", red: "#F2495C", orange: "#FF9830", yellow: "#FADE2A", blue: "#5794F2",
    purple: "#B877D9", "dark-green": "#37872D", "dark-red": "#C4162A", "dark-orange": "#FA6400",
    "dark-yellow": "#E0B400", "dark-blue": "#1F60C4", "dark-purple": "#8F3BB8", "semi-dark-green": "#56A64B",
    "semi-dark-red": "#E02F44", "semi-dark-orange": "#FF780A", "semi-dark-yellow": "#F2CC0C",
    "semi-dark-blue": "#3274D9", "light-green": "#96D98D", "light-red": "#FF7383", "light-orange": "#FFB357",
    "light-yellow": "#FFEE52", "light-blue": "#8AB8FF", text: "#ccccdc", transparent: "rgba(0,0,0,0)" };
  function color(c) { return NAMED[c] || c || NAMED.green; }
  function alpha(hex, a) {
    const m = /^#([0-9a-f]{6})$/i.exec(hex);
    if (!m) return hex;
    const n = parseInt(m[1], 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + a + ")";
  }
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }
  function setPath(obj, path, value) {
    const parts = path.split(".");
    let o = obj;
    for (let i = 0; i < parts.length - 1; i++) { o[parts[i]] = Object.assign({}, o[parts[i]] || {}); o = o[parts[i]]; }
    o[parts[parts.length - 1]] = value;
  }
  // fieldConfig.defaults with the overrides that match one series (byName, byRegexp, byFrameRefID).
  function fieldFor(panel, s) {
    const fc = panel.fieldConfig || {};
    const out = JSON.parse(JSON.stringify(fc.defaults || {}));
    for (const o of fc.overrides || []) {
      const m = o.matcher || {}, opt = m.options;
      let hit = false;
      if (m.id === "byName") hit = opt === s.name;
      else if (m.id === "byRegexp") { try { hit = new RegExp(opt).test(s.name); } catch (e) { hit = false; } }
      else if (m.id === "byFrameRefID") hit = opt === s.refId;
      else if (m.id === "byNames") hit = ((opt || {}).names || []).indexOf(s.name) >= 0;
      if (hit) for (const p of o.properties || []) setPath(out, p.id, p.value);
    }
    return out;
  }
  function steps(field) {
    const st = ((field.thresholds || {}).steps || []).slice();
    return st.length ? st : [{ color: "green", value: null }];
  }
  function thresholdColor(field, v, lo, hi) {
    const t = field.thresholds || {};
    let x = v;
    if (t.mode === "percentage" && hi > lo) x = ((v - lo) / (hi - lo)) * 100;
    let c = steps(field)[0].color;
    for (const s of steps(field)) if (s.value == null || x >= s.value) c = s.color;
    return color(c);
  }
  function reduce(values, calc) {
    const nn = values.filter(v => v != null);
    if (!nn.length) return null;
    switch (calc) {
      case "last": return values[values.length - 1];
      case "first": return values[0];
      case "firstNotNull": return nn[0];
      case "mean": return nn.reduce((a, b) => a + b, 0) / nn.length;
      case "max": return Math.max.apply(null, nn);
      case "min": return Math.min.apply(null, nn);
      case "sum": return nn.reduce((a, b) => a + b, 0);
      case "count": return nn.length;
      case "range": return Math.max.apply(null, nn) - Math.min.apply(null, nn);
      default: return nn[nn.length - 1];  // lastNotNull, Grafana's default
    }
  }
  const CALC_NAMES = { lastNotNull: "Last *", last: "Last", mean: "Mean", max: "Max", min: "Min", sum: "Total",
    first: "First", firstNotNull: "First *", count: "Count", range: "Range" };
  function fmt(v, field) { return v == null ? "" : mdFormat(v, field.unit, field.decimals); }
  function seriesColor(field, i, s) {
    const c = field.color || {};
    if (c.mode === "fixed" || c.mode === "shades") return color(c.fixedColor);
    if (c.mode === "thresholds") return thresholdColor(field, reduce(s.values, "lastNotNull") || 0);
    return PALETTE[i % PALETTE.length];
  }
  function message(body, text, cls) {
    const m = el("div", "md-message" + (cls ? " " + cls : ""), text);
    body.appendChild(m);
    return m;
  }
  // Panels whose queries failed or returned nothing: Grafana's "No data" or the error text.
  function dataState(panel, body, div) {
    const d = panel.data || { state: "nodata" };
    div.dataset.state = d.state;
    if (d.state === "error") { message(body, d.error, "md-error"); return null; }
    const noValue = (panel.fieldConfig.defaults || {}).noValue;
    if (d.state !== "ok" || !d.frame || !d.frame.series.length) {
      div.dataset.state = "nodata";
      message(body, noValue && panel.type === "stat" ? noValue : "No data");
      return null;
    }
    return d.frame;
  }

  function legend(panel, body, series, fields, colors) {
    const opts = (panel.options || {}).legend || {};
    if (opts.showLegend === false || opts.displayMode === "hidden") return;
    const box = el("div", "md-legend");
    const calcs = opts.calcs || [];
    if (opts.displayMode === "table") {
      const t = el("table"), head = el("tr");
      head.appendChild(el("th", null, "Name"));
      for (const c of calcs) head.appendChild(el("th", null, CALC_NAMES[c] || c));
      t.appendChild(head);
      series.forEach((s, i) => {
        const tr = el("tr"), name = el("td");
        const sw = el("span", "md-swatch"); sw.style.background = colors[i];
        name.appendChild(sw); name.appendChild(document.createTextNode(s.name));
        tr.appendChild(name);
        for (const c of calcs) tr.appendChild(el("td", null, fmt(reduce(s.values, c), fields[i])));
        t.appendChild(tr);
      });
      box.appendChild(t);
    } else {
      series.forEach((s, i) => {
        const item = el("span", "md-legend-item"), sw = el("span", "md-swatch");
        sw.style.background = colors[i];
        item.appendChild(sw);
        let text = s.name;
        for (const c of calcs) text += "  " + (CALC_NAMES[c] || c) + ": " + fmt(reduce(s.values, c), fields[i]);
        item.appendChild(document.createTextNode(text));
        box.appendChild(item);
      });
    }
    box.style.maxHeight = Math.floor(body.clientHeight * 0.4) + "px";
    body.appendChild(box);
  }

  const AXIS_FONT = "11px DejaVu Sans, Arial, sans-serif";
  // Time ticks in 24-hour UTC, as precise as the tick spacing needs.
  function timeTicks(u, splits, axisIdx, space, incr) {
    const pattern = incr < 60 ? "{HH}:{mm}:{ss}" : incr < 86400 ? "{HH}:{mm}" : "{MM}/{DD}";
    const f = uPlot.fmtDate(pattern);
    return splits.map(v => f(uPlot.tzDate(new Date(v * 1000), "Etc/UTC")));
  }
  // Value ticks: the fewest decimals that keep neighbouring ticks apart (Grafana does the same).
  function axisValues(splits, unit, decimals) {
    if (decimals != null) return splits.map(v => mdFormat(v, unit, decimals));
    for (let d = 0; d <= 6; d++) {
      const out = splits.map(v => mdFormat(v, unit, d));
      if (new Set(out).size === out.length) return out.map(t => t.replace(/\.0+(?=\D|$)|(\.\d*?)0+(?=\D|$)/, "$1"));
    }
    return splits.map(v => mdFormat(v, unit, null));
  }
  const measure = document.createElement("canvas").getContext("2d");
  function axisSize(u, values) {
    if (!values) return 40;
    measure.font = AXIS_FONT;
    return Math.ceil(Math.max.apply(null, values.map(v => measure.measureText(v).width).concat([10]))) + 18;
  }

  function timeseries(panel, body, div) {
    const frame = dataState(panel, body, div);
    if (!frame) return;
    const base = fieldFor(panel, { name: "", refId: "" });
    const custom = base.custom || {};
    const fields = frame.series.map(s => fieldFor(panel, s));
    const colors = frame.series.map((s, i) => seriesColor(fields[i], i, s));
    const chart = el("div", "md-chart");
    body.appendChild(chart);
    legend(panel, body, frame.series, fields, colors);
    // Stacking (normal / percent): cumulative values, as Grafana draws them.
    const stackMode = (custom.stacking || {}).mode || "none";
    let ys = frame.series.map(s => s.values.slice());
    if (stackMode === "normal" || stackMode === "percent") {
      const totals = frame.x.map((_, j) => ys.reduce((a, v) => a + (v[j] || 0), 0));
      const acc = frame.x.map(() => 0);
      ys = ys.map(v => v.map((y, j) => {
        if (y == null) return null;
        acc[j] += stackMode === "percent" ? (totals[j] ? y / totals[j] : 0) : y;
        return acc[j];
      }));
    }
    const thr = steps(base).filter(s => s.value != null);
    const thrMode = (custom.thresholdsStyle || {}).mode || "off";
    const showThr = thrMode !== "off" && thr.length > 0;
    let lo = Infinity, hi = -Infinity;
    for (const v of ys) for (const y of v) if (y != null) { lo = Math.min(lo, y); hi = Math.max(hi, y); }
    if (showThr && (thrMode.indexOf("line") >= 0 || thrMode.indexOf("dashed") >= 0)) {
      for (const s of thr) { lo = Math.min(lo, s.value); hi = Math.max(hi, s.value); }
    }
    if (custom.axisSoftMin != null) lo = Math.min(lo, custom.axisSoftMin);
    if (custom.axisSoftMax != null) hi = Math.max(hi, custom.axisSoftMax);
    if (base.min != null) lo = base.min;
    if (base.max != null) hi = base.max;
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    if (hi === lo) { hi = lo + (Math.abs(lo) || 1); if (lo > 0) lo = 0; }
    const pad = (hi - lo) * 0.05;
    const yMin = base.min != null ? base.min : (lo >= 0 && lo - pad < 0 ? 0 : lo - pad);
    const yMax = base.max != null ? base.max : hi + pad;
    const fill = (custom.fillOpacity || 0) / 100;
    const seriesOpts = frame.series.map((s, i) => {
      const c = fields[i].custom || {};
      const o = { label: s.name, stroke: colors[i], width: c.lineWidth == null ? 1 : c.lineWidth, spanGaps: !!c.spanNulls,
        points: { show: c.drawStyle === "points" || c.showPoints === "always" } };
      const f = c.fillOpacity == null ? fill : c.fillOpacity / 100;
      if (f > 0) o.fill = alpha(colors[i], f);
      if (c.drawStyle === "bars") o.paths = uPlot.paths.bars({ size: [0.6, 100] });
      else if (c.lineInterpolation === "smooth") o.paths = uPlot.paths.spline();
      else if (c.lineInterpolation === "stepAfter") o.paths = uPlot.paths.stepped({ align: 1 });
      else if (c.lineInterpolation === "stepBefore") o.paths = uPlot.paths.stepped({ align: -1 });
      if (c.hideFrom && c.hideFrom.viz) o.show = false;
      return o;
    });
    const axisColor = "#ccccdc", gridColor = "rgba(204,204,220,0.07)";
    const marks = [];
    const opts = {
      width: Math.max(10, Math.floor(chart.clientWidth)), height: Math.max(10, Math.floor(chart.clientHeight)),
      pxRatio: 1,
      tzDate: ts => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      legend: { show: false }, cursor: { show: false }, select: { show: false },
      scales: { x: { time: true }, y: { range: () => [yMin, yMax] } },
      axes: [
        { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 },
          font: AXIS_FONT, values: timeTicks },
        { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 },
          font: AXIS_FONT, size: axisSize,
          values: (u, splits) => axisValues(splits, base.unit, base.decimals),
          label: custom.axisLabel || undefined, labelFont: "12px DejaVu Sans, Arial, sans-serif" },
      ],
      series: [{}].concat(seriesOpts),
      hooks: { drawAxes: [u => { if (showThr) drawThresholds(u); }] },
    };
    function drawThresholds(u) {
      const ctx = u.ctx, b = u.bbox, all = steps(base);
      marks.length = 0;
      ctx.save();
      if (thrMode.indexOf("area") >= 0) {
        for (let i = 0; i < all.length; i++) {
          const from = all[i].value == null ? yMin : all[i].value;
          const to = i + 1 < all.length ? all[i + 1].value : yMax;
          const y0 = u.valToPos(Math.max(from, yMin), "y", true), y1 = u.valToPos(Math.min(to, yMax), "y", true);
          ctx.fillStyle = alpha(color(all[i].color), 0.15);
          ctx.fillRect(b.left, Math.min(y0, y1), b.width, Math.abs(y0 - y1));
        }
      }
      if (thrMode.indexOf("line") >= 0 || thrMode.indexOf("dashed") >= 0) {
        ctx.lineWidth = 1;
        ctx.setLineDash(thrMode.indexOf("dashed") >= 0 ? [10, 10] : []);
        for (const s of thr) {
          const y = Math.round(u.valToPos(s.value, "y", true)) + 0.5;
          ctx.strokeStyle = color(s.color);
          ctx.beginPath(); ctx.moveTo(b.left, y); ctx.lineTo(b.left + b.width, y); ctx.stroke();
          marks.push({ value: s.value, color: color(s.color), y: y - 0.5, left: b.left, right: b.left + b.width });
        }
      }
      ctx.restore();
    }
    // After uPlot's first draw, record what was drawn where (canvas pixels) for checks.
    pending++;
    opts.hooks.draw = [u => {
      div.dataset.thresholds = JSON.stringify(marks);
      div.dataset.series = String(frame.series.length);
      div.dataset.colors = JSON.stringify(colors);
      div.dataset.scale = JSON.stringify({ min: u.scales.y.min, max: u.scales.y.max, top: u.bbox.top,
        height: u.bbox.height, left: u.bbox.left, width: u.bbox.width });
      if (!div.dataset.drawn) { div.dataset.drawn = "1"; settle(); }
    }];
    try {
      return new uPlot(opts, [frame.x].concat(ys), chart);
    } catch (e) {
      settle();
      throw e;
    }
  }

  function stat(panel, body, div) {
    const frame = dataState(panel, body, div);
    if (!frame) return;
    const opts = panel.options || {};
    const calc = ((opts.reduceOptions || {}).calcs || ["lastNotNull"])[0];
    const box = el("div", "md-stats");
    body.appendChild(box);
    const n = frame.series.length;
    const size = Math.max(12, Math.min(body.clientHeight / (n > 1 ? 2.2 : 1.6), body.clientWidth / (n * 3.2)));
    frame.series.forEach((s, i) => {
      const f = fieldFor(panel, s), v = reduce(s.values, calc);
      const cell = el("div", "md-stat");
      if (n > 1 || opts.textMode === "value_and_name" || opts.textMode === "name") cell.appendChild(el("div", "md-stat-name", f.displayName || s.name));
      const text = v == null ? (f.noValue || "No data") : fmt(v, f);
      const val = el("div", "md-stat-value", opts.textMode === "name" ? "" : text);
      val.style.fontSize = Math.round(size) + "px";
      val.dataset.value = v == null ? "" : String(v);
      const c = v == null ? NAMED.text : (f.color || {}).mode === "fixed" ? color(f.color.fixedColor) : thresholdColor(f, v, f.min, f.max);
      if (opts.colorMode === "background") { cell.style.background = c; val.style.color = "#fff"; }
      else if (opts.colorMode !== "none") val.style.color = c;
      cell.appendChild(val);
      box.appendChild(cell);
      if (opts.graphMode === "area" && n === 1 && frame.x.length > 1) sparkline(body, frame.x, s.values, c);
    });
  }

  // Grafana's stat "graph mode: area": the series as a filled line along the panel's bottom.
  function sparkline(body, xs, values, col) {
    const box = el("div", "md-sparkline");
    body.insertBefore(box, body.firstChild);
    const h = Math.max(10, Math.floor(body.clientHeight * 0.4));
    pending++;
    const opts = { width: Math.max(10, body.clientWidth - 16), height: h, pxRatio: 1, legend: { show: false },
      cursor: { show: false }, select: { show: false }, axes: [{ show: false }, { show: false }],
      scales: { x: { time: false } }, series: [{}, { stroke: col, fill: alpha(col, 0.2), width: 1, points: { show: false } }],
      hooks: { draw: [() => { if (!box.dataset.drawn) { box.dataset.drawn = "1"; settle(); } }] } };
    try { new uPlot(opts, [xs, values], box); } catch (e) { settle(); throw e; }
  }

  function bargauge(panel, body, div) {
    const frame = dataState(panel, body, div);
    if (!frame) return;
    const opts = panel.options || {};
    const calc = ((opts.reduceOptions || {}).calcs || ["lastNotNull"])[0];
    const vertical = opts.orientation === "vertical";
    const rows = frame.series.map(s => ({ s: s, f: fieldFor(panel, s), v: reduce(s.values, calc) }));
    const vals = rows.map(r => r.v).filter(v => v != null);
    const box = el("div", "md-bars " + (vertical ? "md-vertical" : "md-horizontal"));
    body.appendChild(box);
    for (const r of rows) {
      const lo = r.f.min != null ? r.f.min : Math.min(0, Math.min.apply(null, vals));
      const hi = r.f.max != null ? r.f.max : Math.max.apply(null, vals);
      const bar = el("div", "md-bar");
      bar.appendChild(el("div", "md-bar-name", r.f.displayName || r.s.name));
      const track = el("div", "md-bar-track"), fillEl = el("div", "md-bar-fill");
      const share = r.v == null || hi <= lo ? 0 : Math.max(0, Math.min(1, (r.v - lo) / (hi - lo)));
      const c = r.v == null ? NAMED.text : thresholdColor(r.f, r.v, lo, hi);
      fillEl.style.background = c;
      if (vertical) { fillEl.style.width = "100%"; fillEl.style.height = (share * 100) + "%"; }
      else { fillEl.style.height = "100%"; fillEl.style.width = (share * 100) + "%"; }
      track.appendChild(fillEl);
      bar.appendChild(track);
      const val = el("div", "md-bar-value", r.v == null ? "No data" : fmt(r.v, r.f));
      val.style.color = c;
      val.dataset.value = r.v == null ? "" : String(r.v);
      bar.appendChild(val);
      box.appendChild(bar);
    }
  }

  // Grafana's link variables, as far as a static page knows them.
  function linkText(url, s, v) {
    return String(url || "")
      .replace(/\$\{__field\.labels\.(\w+)\}/g, (_, k) => (s.labels || {})[k] || "")
      .replace(/\$\{__value\.(?:raw|text|numeric)\}/g, v == null ? "" : String(v))
      .replace(/\$\{__field\.name\}/g, s.name)
      .replace(/\$\{__url_time_range\}/g, "from=" + (D.from || "") + "&to=" + (D.to || ""));
  }

  function cellMode(f) {
    const c = f.custom || {};
    return (c.cellOptions || {}).type || c.displayMode || "auto";
  }

  // Rows and columns come from page.py (modeldash.preview.tables: frames, merge, organize).
  function table(panel, body, div) {
    const frame = dataState(panel, body, div);
    if (!frame) return;
    const model = panel.table || { tables: [], notes: [] };
    for (const n of model.notes) message(body, n, "md-unsupported");
    const tbl = model.tables[(panel.options || {}).frameIndex || 0] || model.tables[0];
    if (!tbl) return;
    const wrap = el("div", "md-table-wrap"), t = el("table", "md-table"), head = el("tr");
    const cols = tbl.columns;
    for (const c of cols) head.appendChild(el("th", null, c.displayName));
    t.appendChild(head);
    const fields = cols.map(c => fieldFor(panel, { name: c.displayName, refId: c.value && c.name.indexOf("Value #") === 0 ? c.name.slice(7) : "A" }));
    for (const row of tbl.rows) {
      const tr = el("tr"), byName = {}, labels = {};
      cols.forEach((c, i) => {
        const text = row[i] == null ? "" : String(row[i]);
        byName[c.name] = text; byName[c.displayName] = text;
        if (!c.value && c.name !== "Time") labels[c.name] = text;
      });
      cols.forEach((c, i) => {
        const f = fields[i], raw = row[i];
        const text = c.value ? fmt(raw, f) : (raw == null ? "" : String(raw));
        const td = el("td"), span = el("span", null, text);
        td.appendChild(span);
        const mode = cellMode(f);
        if (c.value && raw != null && (mode === "color-background" || mode === "color-text")) {
          const col = thresholdColor(f, raw, f.min, f.max);
          if (mode === "color-background") { td.style.background = col; td.style.color = "#fff"; } else td.style.color = col;
          td.dataset.color = col;
        }
        const links = f.links || [];
        if (links.length) {
          span.className = "md-link";
          const url = String(links[0].url || "").replace(/\$\{__data\.fields(?:\.|\[")([^}"\]]+)(?:"\])?\}/g, (_, k) => byName[k] || "");
          td.appendChild(el("span", "md-link-url", linkText(url, { name: c.displayName, labels: labels }, raw)));
        }
        tr.appendChild(td);
      });
      t.appendChild(tr);
    }
    wrap.appendChild(t);
    body.appendChild(wrap);
  }

  function text(panel, body, div) {
    const box = el("div", "md-text");
    box.innerHTML = panel.html;  // markdown-it output, raw HTML disabled (see page.py)
    body.appendChild(box);
    div.dataset.state = "ok";
  }

  // Grafana's alert list reads Grafana's own alert state, which a preview has no access to:
  // say what the panel lists instead of drawing it empty.
  function alertlist(panel, body, div) {
    const o = panel.options || {};
    message(body, "Grafana alert list: " + (o.alertInstanceLabelFilter || "all alerts") +
            " (drawn by Grafana from its alert state)", "md-alertlist");
    div.dataset.state = "ok";
  }

  function unsupported(panel, body, div) {
    div.dataset.state = "unsupported";
    message(body, "Panel type \u201c" + panel.type + "\u201d is not drawn by modeldash preview", "md-unsupported");
  }

  // Ready when main() has laid out every panel and every chart has drawn once.
  let pending = 1;
  function settle() { if (--pending === 0) window.mdPreviewReady = true; }

  const DRAW = { timeseries: timeseries, stat: stat, bargauge: bargauge, table: table, text: text, alertlist: alertlist };

  function header(root) {
    const h = el("div", "md-header");
    h.appendChild(el("h1", null, D.title));
    const vars = Object.keys(D.variables).sort().map(k => k + " = " + D.variables[k]).join("   ");
    h.appendChild(el("span", "md-meta", D.range));
    if (vars) h.appendChild(el("span", "md-meta", vars));
    root.appendChild(h);
  }

  function main() {
    document.body.style.width = D.width + "px";
    const root = document.getElementById("md-dashboard");
    header(root);
    const grid = el("div", "md-grid");
    grid.style.height = D.gridHeight + "px";
    grid.style.width = (D.width - 2 * D.padding) + "px";
    root.appendChild(grid);
    for (const p of D.panels) {
      const div = el("div", "md-panel" + (p.type === "row" ? " md-row" : "") + (p.transparent ? " md-transparent" : ""));
      div.dataset.panelId = String(p.id);
      div.dataset.type = p.type;
      Object.assign(div.style, { left: p.box.left + "px", top: p.box.top + "px", width: p.box.width + "px", height: p.box.height + "px" });
      grid.appendChild(div);
      if (p.type === "row") {
        div.appendChild(el("div", "md-panel-title", (p.collapsed ? "\u25B8 " : "\u25BE ") + p.title));
        if (p.hidden) div.appendChild(el("span", "md-row-note", "(" + p.hidden + " panels, collapsed)"));
        div.dataset.state = "ok";
        continue;
      }
      if (p.title) div.appendChild(el("div", "md-panel-title", p.title));
      const body = el("div", "md-panel-body");
      div.appendChild(body);
      try {
        (DRAW[p.type] || unsupported)(p, body, div);
      } catch (e) {
        div.dataset.state = "error";
        message(body, "preview failed to draw this panel: " + e, "md-error");
      }
    }
    settle();
  }
  main();
})();
