/* DEDI explorer: map, weight sliders, search, details and league tables (no libraries). */
"use strict";
(async () => {
  const M = DEDI_METHOD;
  const data = await M.inflate(JSON.parse(document.getElementById("dedi-data").textContent));
  const n = data.n;
  const AREA = data.meta.area; // set in a one-area file (dedi explore --area)
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const fmt = (v, d = 1) => (v === null || Number.isNaN(v) ? "–" : Number(v).toFixed(d));
  const arrays = {
    population: M.decode(data.population, Float64Array),
    ranks: Object.fromEntries(Object.entries(data.ranks).map(([k, v]) => [k, M.decode(v, Int32Array)])),
    z: Object.fromEntries(Object.entries(data.z).map(([k, v]) => [k, M.decode(v, Float64Array)])),
    raw: Object.fromEntries(Object.entries(data.raw).map(([k, v]) => [k, M.decode(v, Float64Array)])),
    pub: Object.fromEntries(Object.entries(data.published).map(([k, v]) => [k, M.decode(v, { p_decile1: Float64Array, imd_decile_change: Float32Array }[k] || Int32Array)])),
    geoOf: Object.fromEntries(Object.entries(data.geo).map(([g, v]) => [g, M.decode(v.of, Int32Array)])),
  };
  arrays.ltlaOf = arrays.geoOf.ltla24;
  // GP practices: each practice's catchment (the LSOAs where its patients live) as positions
  const PRACTICES = data.practices ? { codes: data.practices.codes, names: data.practices.names, offset: M.decode(data.practices.offset, Int32Array), lsoas: M.decode(data.practices.lsoas, Int32Array) } : null;
  let catchment = { code: null, mask: null };
  function practiceMask(code) { // 1 for the LSOAs of the practice's catchment, cached per practice
    if (catchment.code !== code) {
      const mask = new Uint8Array(n), k = PRACTICES ? PRACTICES.codes.indexOf(code) : -1;
      if (k >= 0) for (let j = PRACTICES.offset[k]; j < PRACTICES.offset[k + 1]; j++) mask[PRACTICES.lsoas[j]] = 1;
      catchment = { code, mask };
    }
    return catchment.mask;
  }
  const connectivityLabels = data.connectivity_source.labels;
  const connectivityOf = M.decode(data.connectivity_source.of, Int32Array);
  const unitsLabels = data.connectivity_units.labels, unitsOf = M.decode(data.connectivity_units.of, Int32Array);
  const published = {
    dx_weight: data.method.dx_weight,
    aggregation: data.method.aggregation,
    subdomains: { ...data.method.subdomains },
    indicators: Object.fromEntries(data.method.indicators.map((i) => [i.name, i.weight])),
  };
  const state = { weights: JSON.parse(JSON.stringify(published)), level: AREA ? AREA.level : "england", area: AREA ? AREA.code : "", measure: "dedi_decile", selected: -1 };
  const MEASURES = { dedi_decile: "DEDI decile", dx_decile: "Digital exclusion (DX) decile", imd_decile: "IMD 2025 decile", rank_change: "Rank change, IMD to DEDI", imd_decile_change: "IMD decile change, 2019 to 2025", p_decile1: "Probability in most deprived DEDI decile" };
  // the published index, or not: any weight off the spec's makes this a custom view
  function customWeights() {
    const w = state.weights, out = [];
    if (w.dx_weight !== published.dx_weight) out.push(`w = ${w.dx_weight}`);
    if (w.aggregation !== published.aggregation) out.push(`routes ${w.aggregation}`);
    Object.keys(w.subdomains).forEach((k) => { if (w.subdomains[k] !== published.subdomains[k]) out.push(`${k.replace("_", " ")} route ${w.subdomains[k]}`); });
    data.method.indicators.forEach((d) => { if (w.indicators[d.name] !== published.indicators[d.name]) out.push(`${d.label} ${w.indicators[d.name]}`); });
    return out;
  }
  const CUSTOM = "custom weights: not the published index";
  function viewLabel() {
    const c = customWeights();
    return c.length ? `${CUSTOM} (${c.join(", ")})` : `published DEDI (index spec ${(data.meta.spec_sha256 || "").slice(0, 12)})`;
  }

  // ---- palettes (colour-blind safe: viridis; PuOr for change) ----
  const VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"];
  const PUOR = ["#b35806", "#e08214", "#fdb863", "#fee0b6", "#f7f7f7", "#d8daeb", "#b2abd2", "#8073ac", "#542788"];
  const CHANGE_BREAKS = [-0.15, -0.06, -0.015, -0.003, 0.003, 0.015, 0.06, 0.15].map((f) => Math.round(f * n));
  const P_BREAKS = [0.05, 0.25, 0.5, 0.75, 0.95];
  const P_COLOURS = ["#fde725", "#7ad151", "#22a884", "#2a788e", "#414487", "#440154"];
  // decile change: purple = moved towards the most deprived (decile down), orange = away
  const DECILE_CHANGE = ["#542788", "#8073ac", "#d8daeb", "#f7f7f7", "#fee0b6", "#e08214", "#b35806"];

  // ---- the recomputation ----
  let result = null;
  function recompute() {
    const dx = M.computeDX(data, arrays, state.weights);
    const dedi = M.computeDEDI(data, arrays, dx.rank, state.weights.dx_weight);
    result = { dx, dedi };
    window.DEDI_STATE = { ready: true, dxRank: dx.rank, dediRank: dedi.rank, weights: JSON.parse(JSON.stringify(state.weights)), codes: data.codes };
  }
  function valueOf(i) {
    const m = state.measure;
    if (m === "dedi_decile") return M.decile(result.dedi.rank[i], n);
    if (m === "dx_decile") return M.decile(result.dx.rank[i], n);
    if (m === "imd_decile") return M.decile(arrays.pub.imd_rank[i], n);
    if (m === "rank_change") return arrays.pub.imd_rank[i] - result.dedi.rank[i];
    if (m === "imd_decile_change") return arrays.pub.imd_decile_change[i];
    return arrays.pub.p_decile1[i];
  }
  function colourOf(v) {
    const m = state.measure;
    if (v === null || Number.isNaN(v)) return "#cccccc";
    if (m.endsWith("decile")) return VIRIDIS[v - 1];
    if (m === "rank_change") { let k = 0; while (k < CHANGE_BREAKS.length && v > CHANGE_BREAKS[k]) k++; return PUOR[k]; }
    if (m === "imd_decile_change") return DECILE_CHANGE[Math.max(0, Math.min(6, Math.round(v) + 3))];
    let k = 0; while (k < P_BREAKS.length && v >= P_BREAKS[k]) k++; return P_COLOURS[k];
  }
  function legend() {
    const m = state.measure, items = [];
    let title = "";
    if (m.endsWith("decile")) {
      title = { dedi_decile: "DEDI decile", dx_decile: "DX decile", imd_decile: "IMD 2025 decile" }[m] + ": 1 = most deprived 10% of England, 10 = least";
      VIRIDIS.forEach((c, i) => items.push([c, String(i + 1)]));
    } else if (m === "rank_change") {
      title = "IMD rank − DEDI rank (purple: more deprived once digital exclusion counts; orange: less)";
      const b = CHANGE_BREAKS;
      const lab = [`< ${b[0]}`, ...b.slice(0, -1).map((x, i) => `${x}…${b[i + 1]}`), `> ${b[b.length - 1]}`];
      PUOR.forEach((c, i) => items.push([c, lab[i]]));
    } else if (m === "imd_decile_change") {
      title = "IMD decile 2025 − IMD decile 2019 (LSOAs comparable across the releases; purple: towards the most deprived)";
      ["≤ −3", "−2", "−1", "0", "+1", "+2", "≥ +3"].forEach((l, k) => items.push([DECILE_CHANGE[k], l]));
    } else {
      title = "Probability of being in the most deprived DEDI decile (Monte Carlo, published weights)";
      const lab = ["< 5%", "5–25%", "25–50%", "50–75%", "75–95%", "≥ 95%"];
      P_COLOURS.forEach((c, i) => items.push([c, lab[i]]));
    }
    const hubs = data.hubs ? `<span id="hubs-note" style="margin-left:8px"><span class="sw" style="background:#ff2d55;border-radius:50%"></span> ${data.hubs.sites.length} hubs of siting "${esc(data.hubs.name)}" (numbered in order; black: already open)</span>` : "";
    $("legend").innerHTML = `<span class="title">${esc(title)}</span>` + items.map(([c, l]) => `<span><span class="sw" style="background:${c}"></span> ${esc(l)}</span>`).join(" ") + `<span style="margin-left:8px"><span class="sw" style="background:#cccccc"></span> no value</span>` + hubs;
  }

  // ---- geometry ----
  const G = data.geometry;
  const lat0 = (G.bbox[1] + G.bbox[3]) / 2, kx = Math.cos((lat0 * Math.PI) / 180);
  // polygons of page.py _rings as Path2D in projected units (x = lon*cos(lat0), y = lat)
  function paths(ids, offsetBuf, coordsBuf) {
    const offset = M.decode(offsetBuf, Int32Array), c = M.decode(coordsBuf, Int32Array), out = [];
    for (let s = 0; s < offset.length; s++) {
      let p = offset[s];
      const rings = c[p++], path = new Path2D();
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (let r = 0; r < rings; r++) {
        const len = c[p++];
        let qx = 0, qy = 0;
        for (let k = 0; k < len; k++) {
          qx += c[p++]; qy += c[p++];
          const x = (G.origin[0] + qx * G.quantum) * kx, y = G.origin[1] + qy * G.quantum;
          if (k === 0) path.moveTo(x, y); else path.lineTo(x, y);
          x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
        }
        path.closePath();
      }
      out.push({ i: ids[s], path, bbox: [x0, y0, x1, y1] });
    }
    return out;
  }
  const shapes = paths(M.decode(G.index, Int32Array), G.offset, G.coords);
  const shapeOf = new Int32Array(n).fill(-1);
  shapes.forEach((sh, s) => { shapeOf[sh.i] = s; });
  const outlines = Object.fromEntries(Object.entries(G.outlines).map(([g, o]) => [g, paths(M.decode(o.of, Int32Array), o.offset, o.coords)]));
  const present = new Set(shapes.map((sh) => sh.i));
  const canvas = $("map"), ctx = canvas.getContext("2d");
  let view = null; // {s, tx, ty, dpr}: projected -> canvas pixels, zoom included
  const zoom = { k: 1, x: 0, y: 0 }; // on top of the fit to the area, in canvas pixels
  function inArea(i) {
    if (AREA && !present.has(i)) return false; // a one-area file holds its area only
    if (state.level === "england" || !state.area) return true;
    if (state.level === "gp_practice") return practiceMask(state.area)[i] === 1;
    const g = data.geo[state.level];
    return g.codes[arrays.geoOf[state.level][i]] === state.area;
  }
  function visibleShapes() { return shapes.filter((sh) => inArea(sh.i)); }
  function draw() {
    const dpr = window.devicePixelRatio || 1, w = canvas.clientWidth, h = canvas.clientHeight;
    canvas.width = Math.max(1, Math.round(w * dpr)); canvas.height = Math.max(1, Math.round(h * dpr));
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    const vis = visibleShapes();
    if (!vis.length) { view = null; return; }
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    vis.forEach((sh) => { x0 = Math.min(x0, sh.bbox[0]); y0 = Math.min(y0, sh.bbox[1]); x1 = Math.max(x1, sh.bbox[2]); y1 = Math.max(y1, sh.bbox[3]); });
    const pad = 10 * dpr, s0 = Math.min((canvas.width - 2 * pad) / (x1 - x0 || 1), (canvas.height - 2 * pad) / (y1 - y0 || 1));
    const tx0 = (canvas.width - s0 * (x1 - x0)) / 2 - s0 * x0, ty0 = (canvas.height + s0 * (y1 - y0)) / 2 + s0 * y0;
    const s = s0 * zoom.k, tx = tx0 * zoom.k + zoom.x, ty = ty0 * zoom.k + zoom.y;
    view = { s, tx, ty, dpr };
    window.DEDI_STATE.view = { s, tx, ty, dpr, kx, zoom: zoom.k }; // where a lon/lat is drawn (for tests)
    // what is on screen, in projected units: shapes outside are skipped
    const sx0 = -tx / s, sx1 = (canvas.width - tx) / s, sy0 = (ty - canvas.height) / s, sy1 = ty / s;
    const onScreen = (b) => b[2] >= sx0 && b[0] <= sx1 && b[3] >= sy0 && b[1] <= sy1;
    const shown = vis.filter((sh) => onScreen(sh.bbox));
    ctx.setTransform(s, 0, 0, -s, tx, ty);
    ctx.lineWidth = (shown.length > 5000 ? 0.15 : 0.6) * dpr / s;
    ctx.strokeStyle = shown.length > 5000 ? "rgba(255,255,255,0.25)" : "rgba(255,255,255,0.8)";
    shown.forEach((sh) => { ctx.fillStyle = colourOf(valueOf(sh.i)); ctx.fill(sh.path, "evenodd"); if (shown.length <= 12000) ctx.stroke(sh.path); });
    drawOutlines(dpr, s, onScreen);
    if (state.selected >= 0 && shapeOf[state.selected] >= 0 && inArea(state.selected)) {
      ctx.lineWidth = 2.5 * dpr / s; ctx.strokeStyle = "#ff2d55"; ctx.stroke(shapes[shapeOf[state.selected]].path);
    }
    drawHubs(dpr, s);
    drawLabels(dpr, s, tx, ty);
    drawStamp(dpr);
  }
  // LTLA (thin) and ICB (thick) outlines, and LTLA names where few enough are on screen
  function drawOutlines(dpr, s, onScreen) {
    [["ltla24", 0.7, "rgba(40,40,40,0.55)"], ["icb24", 1.6, "rgba(20,20,20,0.85)"]].forEach(([g, w, colour]) => {
      ctx.lineWidth = w * dpr / s; ctx.strokeStyle = colour;
      (outlines[g] || []).forEach((o) => { if (onScreen(o.bbox)) ctx.stroke(o.path); });
    });
  }
  const labelAt = data.geometry.labels.map(([l, lon, lat]) => ({ l, x: lon * kx, y: lat }));
  function drawLabels(dpr, s, tx, ty) {
    ctx.save(); ctx.setTransform(1, 0, 0, 1, 0, 0);
    const pts = labelAt.map((p) => ({ ...p, px: s * p.x + tx, py: ty - s * p.y }))
      .filter((p) => p.px > 0 && p.px < canvas.width && p.py > 0 && p.py < canvas.height);
    window.DEDI_STATE.labels = [];
    if (pts.length <= 60) {
      ctx.font = `600 ${Math.round(11 * dpr)}px system-ui, sans-serif`; ctx.textAlign = "center"; ctx.textBaseline = "middle";
      ctx.lineWidth = 3 * dpr; ctx.strokeStyle = "rgba(255,255,255,0.9)"; ctx.fillStyle = "#111";
      const placed = [];
      pts.forEach((p) => {
        const name = data.geo.ltla24.names[p.l], w = ctx.measureText(name).width, h = 14 * dpr;
        const box = [p.px - w / 2, p.py - h / 2, p.px + w / 2, p.py + h / 2];
        if (placed.some((b) => box[0] < b[2] && box[2] > b[0] && box[1] < b[3] && box[3] > b[1])) return;
        placed.push(box); window.DEDI_STATE.labels.push(name);
        ctx.strokeText(name, p.px, p.py); ctx.fillText(name, p.px, p.py);
      });
    }
    ctx.restore();
  }
  // a custom view says so on the map itself, so that a screenshot cannot pass for DEDI
  function drawStamp(dpr) {
    if (!customWeights().length) return;
    ctx.save(); ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.font = `700 ${Math.round(13 * dpr)}px system-ui, sans-serif`; ctx.textAlign = "left"; ctx.textBaseline = "top";
    const text = CUSTOM.toUpperCase(), w = ctx.measureText(text).width;
    ctx.fillStyle = "rgba(176,0,32,0.92)"; ctx.fillRect(8 * dpr, 8 * dpr, w + 16 * dpr, 24 * dpr);
    ctx.fillStyle = "#fff"; ctx.fillText(text, 16 * dpr, 13 * dpr);
    ctx.restore();
  }
  // the sites of a `dedi hubs` run (dedi explore --hubs NAME), numbered in order of choice
  function drawHubs(dpr, s) {
    if (!data.hubs) return;
    data.hubs.sites.forEach((h) => {
      const x = h.lon * kx, y = h.lat, r = 7 * dpr / s;
      ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.fillStyle = h.existing ? "#111111" : "#ff2d55"; ctx.fill();
      ctx.lineWidth = 1.5 * dpr / s; ctx.strokeStyle = "#ffffff"; ctx.stroke();
      ctx.save(); ctx.setTransform(1, 0, 0, 1, 0, 0);  // the number in screen pixels
      ctx.fillStyle = "#ffffff"; ctx.font = `bold ${Math.round(9 * dpr)}px sans-serif`;
      ctx.textAlign = "center"; ctx.textBaseline = "middle";
      ctx.fillText(String(h.order_chosen), s * x + view.tx, view.ty - s * y);
      ctx.restore();
    });
  }
  function shapeAt(evt) {
    if (!view) return -1;
    const rect = canvas.getBoundingClientRect();
    const px = (evt.clientX - rect.left) * view.dpr, py = (evt.clientY - rect.top) * view.dpr;
    const x = (px - view.tx) / view.s, y = (view.ty - py) / view.s;
    ctx.setTransform(view.s, 0, 0, -view.s, view.tx, view.ty);
    for (const sh of shapes) {
      const b = sh.bbox;
      if (x < b[0] || x > b[2] || y < b[1] || y > b[3] || !inArea(sh.i)) continue;
      if (ctx.isPointInPath(sh.path, px, py, "evenodd")) return sh.i;
    }
    return -1;
  }
  const tooltip = $("tooltip");
  canvas.addEventListener("mousemove", (evt) => {
    const i = shapeAt(evt);
    if (i < 0) { tooltip.hidden = true; return; }
    const rect = canvas.getBoundingClientRect();
    tooltip.hidden = false;
    tooltip.style.left = `${evt.clientX - rect.left + 12}px`; tooltip.style.top = `${evt.clientY - rect.top + 12}px`;
    tooltip.innerHTML = `<b>${esc(data.names[i])}</b> (${esc(data.codes[i])})<br>DEDI decile ${M.decile(result.dedi.rank[i], n)} · DX decile ${M.decile(result.dx.rank[i], n)} · IMD decile ${M.decile(arrays.pub.imd_rank[i], n)}<br>DEDI rank ${result.dedi.rank[i].toLocaleString()} of ${n.toLocaleString()}`;
  });
  canvas.addEventListener("mouseleave", () => { tooltip.hidden = true; });
  let drag = null, dragged = false;
  canvas.addEventListener("click", (evt) => { if (dragged) return; const i = shapeAt(evt); if (i >= 0) select(i); });

  // ---- zoom and pan: wheel, drag, buttons, keyboard ----
  let frame = 0;
  function redraw() { if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(); }); }
  function zoomBy(f, px, py) {
    const k = Math.max(1, Math.min(400, zoom.k * f)), r = k / zoom.k;
    if (px === undefined) { px = canvas.width / 2; py = canvas.height / 2; }
    zoom.x = px - (px - zoom.x) * r; zoom.y = py - (py - zoom.y) * r; zoom.k = k;
    if (k === 1) { zoom.x = 0; zoom.y = 0; }
    redraw();
  }
  function panBy(dx, dy) { zoom.x += dx; zoom.y += dy; redraw(); }
  function resetZoom() { zoom.k = 1; zoom.x = 0; zoom.y = 0; redraw(); }
  canvas.addEventListener("wheel", (evt) => {
    evt.preventDefault();
    const rect = canvas.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    zoomBy(Math.exp(-evt.deltaY * 0.0015), (evt.clientX - rect.left) * dpr, (evt.clientY - rect.top) * dpr);
  }, { passive: false });
  canvas.addEventListener("mousedown", (evt) => { drag = { x: evt.clientX, y: evt.clientY }; dragged = false; });
  window.addEventListener("mousemove", (evt) => {
    if (!drag || !(evt.buttons & 1)) { drag = null; return; }
    const dx = evt.clientX - drag.x, dy = evt.clientY - drag.y;
    if (!dragged && Math.hypot(dx, dy) < 4) return;
    dragged = true; drag = { x: evt.clientX, y: evt.clientY };
    const dpr = window.devicePixelRatio || 1; panBy(dx * dpr, dy * dpr);
  });
  window.addEventListener("mouseup", () => { drag = null; });
  $("zoom-in").addEventListener("click", () => zoomBy(2));
  $("zoom-out").addEventListener("click", () => zoomBy(0.5));
  $("zoom-reset").addEventListener("click", resetZoom);
  canvas.addEventListener("keydown", (evt) => {
    const step = 60 * (window.devicePixelRatio || 1);
    const keys = { "+": () => zoomBy(2), "=": () => zoomBy(2), "-": () => zoomBy(0.5), "0": resetZoom,
      ArrowLeft: () => panBy(step, 0), ArrowRight: () => panBy(-step, 0), ArrowUp: () => panBy(0, step), ArrowDown: () => panBy(0, -step) };
    if (keys[evt.key]) { evt.preventDefault(); keys[evt.key](); }
  });

  // ---- details, tables ----
  const DOMAINS = Object.keys(data.method.imd_weights);
  const LABEL = { income: "Income", employment: "Employment", education: "Education, skills & training", health: "Health & disability", crime: "Crime", barriers: "Barriers to housing & services", living_environment: "Living environment" };
  function select(i) { state.selected = i; details(); draw(); writeHash(); }
  function details() {
    const i = state.selected, el = $("details");
    if (i < 0) return;
    const geo = (g) => data.geo[g].names[arrays.geoOf[g][i]];
    const unitOf = (d) => (d.column === "connectivity_exclusion" ? unitsLabels[unitsOf[i]] || d.units : d.units);
    const ind = data.method.indicators.map((d) => `<tr><td>${esc(d.label)}<br><small class="units">${esc(unitOf(d))}</small></td><td class="num">${fmt(arrays.raw[d.name][i], 2)}</td><td class="num">${fmt(arrays.z[d.name][i], 3)}</td><td class="num">${fmt(state.weights.indicators[d.name], 2)}</td></tr>`).join("");
    const subs = Object.keys(result.dx.subdomains).map((s) => `<dt>DX ${esc(s.replace("_", " "))} route score</dt><dd>${fmt(result.dx.subdomains[s][i], 3)}</dd>`).join("");
    const lead = M.leadingRoute(result.dx.subdomains, result.dx.subWeights, i);
    const route = lead ? `<dt>Leading route into digital exclusion</dt><dd id="leading-route">${esc(lead.replace("_", " "))}: the largest part of this LSOA's DX (${state.weights.aggregation} aggregation of the routes)</dd>` : "";
    const doms = DOMAINS.map((d) => `<dt>${esc(LABEL[d] || d)}</dt><dd>rank ${arrays.ranks[d][i].toLocaleString()} · decile ${M.decile(arrays.ranks[d][i], n)}</dd>`).join("");
    el.innerHTML = `<h2>${esc(data.names[i])}</h2><p class="hint">${esc(data.codes[i])} · ward ${esc(geo("ward24"))} · ${esc(geo("ltla24"))} · ${esc(geo("icb24"))} · ${esc(geo("region"))} · data status: <b>${esc(data.meta.data_status)}</b></p>
      <dl><dt>DEDI rank (these weights)</dt><dd>${result.dedi.rank[i].toLocaleString()} · decile ${M.decile(result.dedi.rank[i], n)}</dd>
      <dt>DEDI rank (published)</dt><dd>${arrays.pub.dedi_rank[i].toLocaleString()} (90% interval ${arrays.pub.p05[i].toLocaleString()}–${arrays.pub.p95[i].toLocaleString()})</dd>
      <dt>P(most deprived decile)</dt><dd>${fmt(100 * arrays.pub.p_decile1[i], 0)}%</dd>
      <dt>DX rank (these weights)</dt><dd>${result.dx.rank[i].toLocaleString()} · decile ${M.decile(result.dx.rank[i], n)}</dd>
      <dt>DX score</dt><dd>${fmt(result.dx.score[i], 3)}</dd>${route}${subs}
      <dt>IMD 2025</dt><dd>rank ${arrays.pub.imd_rank[i].toLocaleString()} · decile ${M.decile(arrays.pub.imd_rank[i], n)}</dd>
      <dt>IMD decile change 2019 to 2025</dt><dd>${Number.isNaN(arrays.pub.imd_decile_change[i]) ? "not comparable (boundary change or no 2019 value)" : fmt(arrays.pub.imd_decile_change[i], 1)}</dd>${doms}
      <dt>Connectivity source</dt><dd>${esc(connectivityLabels[connectivityOf[i]] || "–")}</dd></dl>
      <h3>DX indicators</h3><table><thead><tr><th>indicator</th><th class="num">value</th><th class="num">normal score</th><th class="num">weight</th></tr></thead><tbody>${ind}</tbody></table>`;
  }
  function tables() {
    const idx = [];
    for (let i = 0; i < n; i++) if (inArea(i)) idx.push(i);
    idx.sort((a, b) => result.dedi.rank[a] - result.dedi.rank[b]);
    const custom = customWeights().length > 0;
    $("league-title").textContent = `Highest need in ${areaName()} (DEDI, ${custom ? CUSTOM : "published weights"})`;
    $("league").querySelector("tbody").innerHTML = idx.slice(0, 20).map((i, k) => `<tr data-i="${i}"><td>${k + 1}</td><td>${esc(data.names[i])}</td><td class="num">${result.dedi.rank[i].toLocaleString()}</td><td class="num">${M.decile(result.dedi.rank[i], n)}</td><td class="num">${M.decile(result.dx.rank[i], n)}</td><td class="num">${M.decile(arrays.pub.imd_rank[i], n)}</td></tr>`).join("");
    const by = new Map();
    idx.forEach((i) => { const l = arrays.ltlaOf[i]; const e = by.get(l) || { n: 0, d1: 0 }; e.n++; if (M.decile(result.dedi.rank[i], n) === 1) e.d1++; by.set(l, e); });
    const rows = [...by.entries()].sort((a, b) => b[1].d1 / b[1].n - a[1].d1 / a[1].n).slice(0, 40);
    $("ltla-table").querySelector("tbody").innerHTML = rows.map(([l, e]) => `<tr data-ltla="${esc(data.geo.ltla24.codes[l])}"><td>${esc(data.geo.ltla24.names[l])}</td><td class="num">${fmt((100 * e.d1) / e.n, 1)}</td><td class="num">${e.n}</td></tr>`).join("");
  }
  $("league").addEventListener("click", (e) => { const tr = e.target.closest("tr[data-i]"); if (tr) select(Number(tr.dataset.i)); });
  $("ltla-table").addEventListener("click", (e) => { const tr = e.target.closest("tr[data-ltla]"); if (tr) { state.level = "ltla24"; state.area = tr.dataset.ltla; syncArea(); resetZoom(); update(); } });
  function areaName() {
    if (state.level === "england" || !state.area) return "England";
    const g = state.level === "gp_practice" ? PRACTICES : data.geo[state.level], k = g.codes.indexOf(state.area);
    return k >= 0 ? g.names[k] : state.area;
  }

  // ---- controls ----
  if (AREA) { // a one-area file: no England, and levels below the area only
    const order = ["region", "icb24", "ltla24", "ward24"], own = order.indexOf(AREA.level);
    [...$("level").options].forEach((o) => { const at = order.indexOf(o.value); if (o.value === "england" || (at >= 0 && at < own)) o.remove(); });
  }
  if (!PRACTICES) $("level").querySelector("option[value=gp_practice]").remove();
  function syncArea() {
    $("level").value = state.level;
    const sel = $("area");
    if (state.level === "england") { sel.innerHTML = "<option value=''>England</option>"; sel.disabled = true; state.area = ""; return; }
    sel.disabled = false;
    let opts;
    if (state.level === "gp_practice") opts = PRACTICES.codes.map((c, k) => [c, PRACTICES.names[k]]); // those of the file's LSOAs (page.py)
    else {
      const g = data.geo[state.level], of = arrays.geoOf[state.level], seen = new Set();
      for (let i = 0; i < n; i++) if (present.has(i)) seen.add(of[i]);
      opts = [...seen].map((k) => [g.codes[k], g.names[k]]);
    }
    opts = opts.filter(([c]) => c).sort((a, b) => a[1].localeCompare(b[1]));
    if (!opts.some(([c]) => c === state.area)) state.area = opts.length ? opts[0][0] : "";
    sel.innerHTML = opts.map(([c, nm]) => `<option value="${esc(c)}">${esc(nm)} (${esc(c)})</option>`).join("");
    sel.value = state.area;
  }
  $("level").addEventListener("change", (e) => { state.level = e.target.value; state.area = ""; syncArea(); resetZoom(); update(); });
  $("area").addEventListener("change", (e) => { state.area = e.target.value; resetZoom(); update(); });
  $("measure").addEventListener("change", (e) => { state.measure = e.target.value; legend(); draw(); writeHash(); });

  function slider(key, label, value, max, step, cls) {
    return `<div class="slider ${cls}"><label for="sl-${key}"><span>${esc(label)}</span><span class="val" id="val-${key}">${value}</span></label><input type="range" id="sl-${key}" data-key="${key}" min="0" max="${max}" step="${step}" value="${value}"></div>`;
  }
  function buildSliders() {
    const m = data.method;
    let html = slider("w", "DX weight w in DEDI", state.weights.dx_weight, 0.5, 0.01, "sub-0");
    const agg = (a, label) => `<option value="${a}"${state.weights.aggregation === a ? " selected" : ""}>${label}</option>`;
    html += `<div class="slider sub-0"><label for="aggregation"><span>Routes combined</span></label><select id="aggregation" title="exponential: each route ranked and transformed as the IoD transforms its domains, so one route is not cancelled by another; linear: the weighted mean">${agg("exponential", "exponential (IoD)")}${agg("linear", "linear (mean)")}</select></div>`;
    Object.keys(m.subdomains).forEach((s) => {
      html += slider(`sd.${s}`, `Route: ${s.replace("_", " ")}`, state.weights.subdomains[s], 1, 0.05, "sub-0");
      m.indicators.filter((i) => i.subdomain === s).forEach((i) => { html += slider(`in.${i.name}`, i.label, state.weights.indicators[i.name], 3, 0.25, "ind"); });
    });
    const local = m.indicators.filter((i) => i.local);
    if (local.length) { html += `<p class="hint">Local layer (share ${m.local_weight} where supplied):</p>`; local.forEach((i) => { html += slider(`in.${i.name}`, i.label, state.weights.indicators[i.name], 3, 0.25, "ind"); }); }
    $("sliders").innerHTML = html;
  }
  function setWeight(key, v) {
    if (key === "w") state.weights.dx_weight = v;
    else if (key.startsWith("sd.")) state.weights.subdomains[key.slice(3)] = v;
    else if (key.startsWith("in.")) state.weights.indicators[key.slice(3)] = v;
  }
  let pending = null;
  $("sliders").addEventListener("input", (e) => {
    const key = e.target.dataset.key; if (!key) return;
    const v = Number(e.target.value); setWeight(key, v);
    $(`val-${key}`).textContent = v;
    clearTimeout(pending); pending = setTimeout(update, 60);
  });
  $("sliders").addEventListener("change", (e) => {
    if (e.target.id !== "aggregation") return;
    state.weights.aggregation = e.target.value; update();
  });
  $("reset").addEventListener("click", () => { state.weights = JSON.parse(JSON.stringify(published)); buildSliders(); update(); });
  $("copy").addEventListener("click", () => { writeHash(); if (navigator.clipboard) navigator.clipboard.writeText(location.href).catch(() => {}); $("copy").textContent = "Link copied"; setTimeout(() => { $("copy").textContent = "Copy link"; }, 1500); });

  // ---- search ----
  const postcodes = data.postcodes;
  $("search").placeholder = postcodes ? "Postcode, LSOA code or name" : "LSOA code or name";
  $("search").addEventListener("input", (e) => {
    const q = e.target.value.trim(), out = $("search-results");
    if (q.length < 2) { out.innerHTML = ""; return; }
    const key = q.toUpperCase().replace(/\s+/g, ""), hits = [];
    if (postcodes && postcodes[key] !== undefined) hits.push([postcodes[key], `${q.toUpperCase()} → `]);
    const lower = q.toLowerCase();
    for (let i = 0; i < n && hits.length < 12; i++) {
      if (AREA && !present.has(i)) continue;
      if (data.codes[i] === key || data.names[i].toLowerCase().includes(lower)) hits.push([i, ""]);
    }
    out.innerHTML = hits.length ? hits.map(([i, pre]) => `<li data-i="${i}">${esc(pre)}${esc(data.names[i])} <small>${esc(data.codes[i])}</small></li>`).join("") : "<li>No match</li>";
  });
  $("search-results").addEventListener("click", (e) => {
    const li = e.target.closest("li[data-i]"); if (!li) return;
    const i = Number(li.dataset.i);
    if (!inArea(i)) { state.level = AREA ? AREA.level : "england"; state.area = AREA ? AREA.code : ""; syncArea(); }
    select(i); tables();
  });

  // ---- the URL carries the scenario ----
  function writeHash() {
    const p = new URLSearchParams();
    p.set("w", state.weights.dx_weight);
    p.set("agg", state.weights.aggregation);
    Object.entries(state.weights.subdomains).forEach(([k, v]) => p.set(`sd.${k}`, v));
    Object.entries(state.weights.indicators).forEach(([k, v]) => p.set(`in.${k}`, v));
    p.set("measure", state.measure);
    if (state.level !== "england" && state.area) p.set("area", `${state.level}:${state.area}`);
    if (state.selected >= 0) p.set("lsoa", data.codes[state.selected]);
    history.replaceState(null, "", `#${p.toString()}`);
  }
  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    for (const [k, v] of p.entries()) {
      const x = Number(v);
      if (k === "w" || k.startsWith("sd.") || k.startsWith("in.")) { if (Number.isFinite(x) && x >= 0) setWeight(k, x); }
      else if (k === "measure") state.measure = v;
      else if (k === "agg" && (v === "exponential" || v === "linear")) state.weights.aggregation = v;
      else if (k === "area") { const [lvl, code] = v.split(":"); if ((data.geo[lvl] || (lvl === "gp_practice" && PRACTICES)) && (!AREA || lvl !== "england")) { state.level = lvl; state.area = code; } }
      else if (k === "lsoa") state.selected = data.codes.indexOf(v);
    }
    if (state.weights.dx_weight >= 1) state.weights.dx_weight = published.dx_weight;
  }

  // ---- header, notes ----
  function header() {
    const meta = data.meta, syn = meta.data_status !== "real";
    $("synthetic-banner").hidden = !syn;
    if (AREA) $("subtitle").textContent = `${AREA.name} (${AREA.code}), LSOA 2021; ranks and deciles are England's`;
    $("status").innerHTML = `<span class="pill ${syn ? "synthetic" : ""}">${esc(meta.data_status.toUpperCase())}</span> built ${esc(meta.built_at || "")}${meta.scenario ? ` · scenario <b>${esc(meta.scenario)}</b>` : ""} · spec ${esc((meta.spec_sha256 || "").slice(0, 12))}`;
    const absent = meta.absent.length ? `<span id="absent">Inputs absent from this build, so not in DX: ${meta.absent.map(esc).join("; ")}.</span> ` : "";
    $("notes").innerHTML = `<b>How to read this.</b> Deciles and ranks are national (all ${n.toLocaleString()} LSOAs of this build): 1 = most deprived. DEDI is the IMD 2025 with digital exclusion (DX) added as an eighth domain at weight w; it is relative, not an official statistic. ${absent}Moving the sliders recomputes DX and DEDI for all England by the published method, and makes the view a custom one, no longer the published index; the Monte Carlo probability is for the published weights only. Zoom with the wheel, the buttons or + and −; drag to move.
      <details><summary>Sources and vintages</summary><ul>${meta.vintages.map((v) => `<li>${esc(v)}</li>`).join("")}</ul></details>
      <p>${esc(meta.attribution || "")} DEDI ${esc(meta.dedi_version || "")}.</p>`;
  }

  function viewState() {
    const c = customWeights();
    $("custom-banner").hidden = !c.length;
    $("custom-banner").textContent = c.length ? `Custom weights: not the published index. ${c.join(" · ")}` : "";
    $("view-pill").hidden = !c.length;
    $("map-title").textContent = `${MEASURES[state.measure]} · ${areaName()} · ${viewLabel()}`;
  }
  function update() { recompute(); viewState(); legend(); draw(); tables(); details(); writeHash(); }

  // ---- take it away: the current view as CSV ----
  function csv() {
    const q = (v) => { const t = String(v ?? ""); return /[",\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t; };
    const rows = [
      `# DEDI explorer export: ${viewLabel()}`,
      `# data status: ${data.meta.data_status}; built ${data.meta.built_at || ""}; index spec ${data.meta.spec_sha256 || ""}`,
      `# area: ${areaName()}; map measure: ${MEASURES[state.measure]}; ranks and deciles are national (1 = most deprived of ${n})`,
      `# weights: w = ${state.weights.dx_weight}; routes ${state.weights.aggregation}; ${Object.entries(state.weights.subdomains).map(([k, v]) => `${k} ${v}`).join("; ")}; ${Object.entries(state.weights.indicators).map(([k, v]) => `${k} ${v}`).join("; ")}`,
      ["lsoa21_code", "lsoa21_name", "ltla24_name", "measure", "value", "dedi_rank", "dedi_decile", "dx_rank", "dx_decile", "imd_rank", "imd_decile", "weights"].join(","),
    ];
    const idx = [];
    for (let i = 0; i < n; i++) if (inArea(i)) idx.push(i);
    idx.sort((a, b) => result.dedi.rank[a] - result.dedi.rank[b]);
    const tag = customWeights().length ? "custom" : "published";
    idx.forEach((i) => {
      const v = valueOf(i);
      rows.push([data.codes[i], data.names[i], data.geo.ltla24.names[arrays.ltlaOf[i]], state.measure, Number.isNaN(v) ? "" : v,
        result.dedi.rank[i], M.decile(result.dedi.rank[i], n), result.dx.rank[i], M.decile(result.dx.rank[i], n),
        arrays.pub.imd_rank[i], M.decile(arrays.pub.imd_rank[i], n), tag].map(q).join(","));
    });
    return rows.join("\n") + "\n";
  }
  $("download").addEventListener("click", () => {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([csv()], { type: "text/csv" }));
    const where = state.level === "england" || !state.area ? "england" : state.area;
    a.download = `dedi_${where}_${state.measure}${customWeights().length ? "_custom-weights" : ""}.csv`;
    document.body.appendChild(a); a.click(); a.remove();
  });
  readHash();
  header(); buildSliders(); syncArea();
  $("measure").value = state.measure;
  window.DEDI_STATE = { ready: false };
  update();
  window.addEventListener("resize", draw);
})();
