/* DEDI explorer: map, weight sliders, search, details and league tables (no libraries). */
"use strict";
(() => {
  const M = DEDI_METHOD;
  const data = JSON.parse(document.getElementById("dedi-data").textContent);
  const n = data.n;
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const fmt = (v, d = 1) => (v === null || Number.isNaN(v) ? "–" : Number(v).toFixed(d));
  const arrays = {
    population: M.decode(data.population, Float64Array),
    ranks: Object.fromEntries(Object.entries(data.ranks).map(([k, v]) => [k, M.decode(v, Int32Array)])),
    z: Object.fromEntries(Object.entries(data.z).map(([k, v]) => [k, M.decode(v, Float64Array)])),
    raw: Object.fromEntries(Object.entries(data.raw).map(([k, v]) => [k, M.decode(v, Float64Array)])),
    pub: Object.fromEntries(Object.entries(data.published).map(([k, v]) => [k, M.decode(v, k === "p_decile1" ? Float64Array : Int32Array)])),
    geoOf: Object.fromEntries(Object.entries(data.geo).map(([g, v]) => [g, M.decode(v.of, Int32Array)])),
  };
  arrays.ltlaOf = arrays.geoOf.ltla24;
  const connectivityLabels = data.connectivity_source.labels;
  const connectivityOf = M.decode(data.connectivity_source.of, Int32Array);
  const published = {
    dx_weight: data.method.dx_weight,
    aggregation: data.method.aggregation,
    subdomains: { ...data.method.subdomains },
    indicators: Object.fromEntries(data.method.indicators.map((i) => [i.name, i.weight])),
  };
  const state = { weights: JSON.parse(JSON.stringify(published)), level: "england", area: "", measure: "dedi_decile", selected: -1 };

  // ---- palettes (colour-blind safe: viridis; PuOr for change) ----
  const VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"];
  const PUOR = ["#b35806", "#e08214", "#fdb863", "#fee0b6", "#f7f7f7", "#d8daeb", "#b2abd2", "#8073ac", "#542788"];
  const CHANGE_BREAKS = [-0.15, -0.06, -0.015, -0.003, 0.003, 0.015, 0.06, 0.15].map((f) => Math.round(f * n));
  const P_BREAKS = [0.05, 0.25, 0.5, 0.75, 0.95];
  const P_COLOURS = ["#fde725", "#7ad151", "#22a884", "#2a788e", "#414487", "#440154"];

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
    return arrays.pub.p_decile1[i];
  }
  function colourOf(v) {
    const m = state.measure;
    if (v === null || Number.isNaN(v)) return "#cccccc";
    if (m.endsWith("decile")) return VIRIDIS[v - 1];
    if (m === "rank_change") { let k = 0; while (k < CHANGE_BREAKS.length && v > CHANGE_BREAKS[k]) k++; return PUOR[k]; }
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
  const gIndex = M.decode(G.index, Int32Array), gOffset = M.decode(G.offset, Int32Array), gCoords = M.decode(G.coords, Int32Array);
  const lat0 = (G.bbox[1] + G.bbox[3]) / 2, kx = Math.cos((lat0 * Math.PI) / 180);
  const shapes = []; // {i, path, bbox:[x0,y0,x1,y1]} in projected units (x = lon*cos(lat0), y = lat)
  const shapeOf = new Int32Array(n).fill(-1);
  for (let s = 0; s < gIndex.length; s++) {
    let p = gOffset[s];
    const rings = gCoords[p++], path = new Path2D();
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let r = 0; r < rings; r++) {
      const len = gCoords[p++];
      let qx = 0, qy = 0;
      for (let k = 0; k < len; k++) {
        qx += gCoords[p++]; qy += gCoords[p++];
        const x = (G.origin[0] + qx * G.quantum) * kx, y = G.origin[1] + qy * G.quantum;
        if (k === 0) path.moveTo(x, y); else path.lineTo(x, y);
        x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
      }
      path.closePath();
    }
    shapeOf[gIndex[s]] = shapes.length;
    shapes.push({ i: gIndex[s], path, bbox: [x0, y0, x1, y1] });
  }
  const canvas = $("map"), ctx = canvas.getContext("2d");
  let view = null; // {s, tx, ty}
  function inArea(i) {
    if (state.level === "england" || !state.area) return true;
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
    const pad = 10 * dpr, s = Math.min((canvas.width - 2 * pad) / (x1 - x0 || 1), (canvas.height - 2 * pad) / (y1 - y0 || 1));
    const tx = (canvas.width - s * (x1 - x0)) / 2 - s * x0, ty = (canvas.height + s * (y1 - y0)) / 2 + s * y0;
    view = { s, tx, ty, dpr };
    ctx.setTransform(s, 0, 0, -s, tx, ty);
    ctx.lineWidth = (vis.length > 5000 ? 0.15 : 0.6) * dpr / s;
    ctx.strokeStyle = vis.length > 5000 ? "rgba(255,255,255,0.25)" : "rgba(255,255,255,0.8)";
    vis.forEach((sh) => { ctx.fillStyle = colourOf(valueOf(sh.i)); ctx.fill(sh.path, "evenodd"); if (vis.length <= 12000) ctx.stroke(sh.path); });
    if (state.selected >= 0 && shapeOf[state.selected] >= 0 && inArea(state.selected)) {
      ctx.lineWidth = 2.5 * dpr / s; ctx.strokeStyle = "#ff2d55"; ctx.stroke(shapes[shapeOf[state.selected]].path);
    }
    drawHubs(dpr, s);
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
  canvas.addEventListener("click", (evt) => { const i = shapeAt(evt); if (i >= 0) select(i); });

  // ---- details, tables ----
  const DOMAINS = Object.keys(data.method.imd_weights);
  const LABEL = { income: "Income", employment: "Employment", education: "Education, skills & training", health: "Health & disability", crime: "Crime", barriers: "Barriers to housing & services", living_environment: "Living environment" };
  function select(i) { state.selected = i; details(); draw(); writeHash(); }
  function details() {
    const i = state.selected, el = $("details");
    if (i < 0) return;
    const geo = (g) => data.geo[g].names[arrays.geoOf[g][i]];
    const ind = data.method.indicators.map((d) => `<tr><td>${esc(d.label)}</td><td class="num">${fmt(arrays.raw[d.name][i], 2)}</td><td class="num">${fmt(arrays.z[d.name][i], 3)}</td><td class="num">${fmt(state.weights.indicators[d.name], 2)}</td></tr>`).join("");
    const subs = Object.keys(result.dx.subdomains).map((s) => `<dt>DX ${esc(s.replace("_", " "))} route score</dt><dd>${fmt(result.dx.subdomains[s][i], 3)}</dd>`).join("");
    const lead = M.leadingRoute(result.dx.subdomains, result.dx.subWeights, i);
    const route = lead ? `<dt>Leading route into digital exclusion</dt><dd id="leading-route">${esc(lead.replace("_", " "))}: the largest part of this LSOA's DX (${state.weights.aggregation} aggregation of the routes)</dd>` : "";
    const doms = DOMAINS.map((d) => `<dt>${esc(LABEL[d] || d)}</dt><dd>rank ${arrays.ranks[d][i].toLocaleString()} · decile ${M.decile(arrays.ranks[d][i], n)}</dd>`).join("");
    el.innerHTML = `<h2>${esc(data.names[i])}</h2><p class="hint">${esc(data.codes[i])} · ${esc(geo("ltla24"))} · ${esc(geo("icb24"))} · ${esc(geo("region"))} · data status: <b>${esc(data.meta.data_status)}</b></p>
      <dl><dt>DEDI rank (these weights)</dt><dd>${result.dedi.rank[i].toLocaleString()} · decile ${M.decile(result.dedi.rank[i], n)}</dd>
      <dt>DEDI rank (published)</dt><dd>${arrays.pub.dedi_rank[i].toLocaleString()} (90% interval ${arrays.pub.p05[i].toLocaleString()}–${arrays.pub.p95[i].toLocaleString()})</dd>
      <dt>P(most deprived decile)</dt><dd>${fmt(100 * arrays.pub.p_decile1[i], 0)}%</dd>
      <dt>DX rank (these weights)</dt><dd>${result.dx.rank[i].toLocaleString()} · decile ${M.decile(result.dx.rank[i], n)}</dd>
      <dt>DX score</dt><dd>${fmt(result.dx.score[i], 3)}</dd>${route}${subs}
      <dt>IMD 2025</dt><dd>rank ${arrays.pub.imd_rank[i].toLocaleString()} · decile ${M.decile(arrays.pub.imd_rank[i], n)}</dd>${doms}
      <dt>Connectivity source</dt><dd>${esc(connectivityLabels[connectivityOf[i]] || "–")}</dd></dl>
      <h3>DX indicators</h3><table><thead><tr><th>indicator</th><th class="num">value</th><th class="num">normal score</th><th class="num">weight</th></tr></thead><tbody>${ind}</tbody></table>`;
  }
  function tables() {
    const idx = [];
    for (let i = 0; i < n; i++) if (inArea(i)) idx.push(i);
    idx.sort((a, b) => result.dedi.rank[a] - result.dedi.rank[b]);
    $("league-title").textContent = `Highest need in ${areaName()} (DEDI, these weights)`;
    $("league").querySelector("tbody").innerHTML = idx.slice(0, 20).map((i, k) => `<tr data-i="${i}"><td>${k + 1}</td><td>${esc(data.names[i])}</td><td class="num">${result.dedi.rank[i].toLocaleString()}</td><td class="num">${M.decile(result.dedi.rank[i], n)}</td><td class="num">${M.decile(result.dx.rank[i], n)}</td><td class="num">${M.decile(arrays.pub.imd_rank[i], n)}</td></tr>`).join("");
    const by = new Map();
    idx.forEach((i) => { const l = arrays.ltlaOf[i]; const e = by.get(l) || { n: 0, d1: 0 }; e.n++; if (M.decile(result.dedi.rank[i], n) === 1) e.d1++; by.set(l, e); });
    const rows = [...by.entries()].sort((a, b) => b[1].d1 / b[1].n - a[1].d1 / a[1].n).slice(0, 40);
    $("ltla-table").querySelector("tbody").innerHTML = rows.map(([l, e]) => `<tr data-ltla="${esc(data.geo.ltla24.codes[l])}"><td>${esc(data.geo.ltla24.names[l])}</td><td class="num">${fmt((100 * e.d1) / e.n, 1)}</td><td class="num">${e.n}</td></tr>`).join("");
  }
  $("league").addEventListener("click", (e) => { const tr = e.target.closest("tr[data-i]"); if (tr) select(Number(tr.dataset.i)); });
  $("ltla-table").addEventListener("click", (e) => { const tr = e.target.closest("tr[data-ltla]"); if (tr) { state.level = "ltla24"; state.area = tr.dataset.ltla; syncArea(); update(); } });
  function areaName() {
    if (state.level === "england" || !state.area) return "England";
    const g = data.geo[state.level], k = g.codes.indexOf(state.area);
    return k >= 0 ? g.names[k] : state.area;
  }

  // ---- controls ----
  const present = new Set(shapes.map((sh) => sh.i));
  function syncArea() {
    $("level").value = state.level;
    const sel = $("area");
    if (state.level === "england") { sel.innerHTML = "<option value=''>England</option>"; sel.disabled = true; state.area = ""; return; }
    sel.disabled = false;
    const g = data.geo[state.level], of = arrays.geoOf[state.level], seen = new Set();
    for (let i = 0; i < n; i++) if (present.has(i)) seen.add(of[i]);
    const opts = [...seen].map((k) => [g.codes[k], g.names[k]]).filter(([c]) => c).sort((a, b) => a[1].localeCompare(b[1]));
    if (!opts.some(([c]) => c === state.area)) state.area = opts.length ? opts[0][0] : "";
    sel.innerHTML = opts.map(([c, nm]) => `<option value="${esc(c)}">${esc(nm)} (${esc(c)})</option>`).join("");
    sel.value = state.area;
  }
  $("level").addEventListener("change", (e) => { state.level = e.target.value; state.area = ""; syncArea(); update(); });
  $("area").addEventListener("change", (e) => { state.area = e.target.value; update(); });
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
      if (data.codes[i] === key || data.names[i].toLowerCase().includes(lower)) hits.push([i, ""]);
    }
    out.innerHTML = hits.length ? hits.map(([i, pre]) => `<li data-i="${i}">${esc(pre)}${esc(data.names[i])} <small>${esc(data.codes[i])}</small></li>`).join("") : "<li>No match</li>";
  });
  $("search-results").addEventListener("click", (e) => {
    const li = e.target.closest("li[data-i]"); if (!li) return;
    const i = Number(li.dataset.i);
    if (!inArea(i)) { state.level = "england"; state.area = ""; syncArea(); }
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
      else if (k === "area") { const [lvl, code] = v.split(":"); if (data.geo[lvl]) { state.level = lvl; state.area = code; } }
      else if (k === "lsoa") state.selected = data.codes.indexOf(v);
    }
    if (state.weights.dx_weight >= 1) state.weights.dx_weight = published.dx_weight;
  }

  // ---- header, notes ----
  function header() {
    const meta = data.meta, syn = meta.data_status !== "real";
    $("synthetic-banner").hidden = !syn;
    $("status").innerHTML = `<span class="pill ${syn ? "synthetic" : ""}">${esc(meta.data_status.toUpperCase())}</span> built ${esc(meta.built_at || "")}${meta.scenario ? ` · scenario <b>${esc(meta.scenario)}</b>` : ""} · spec ${esc((meta.spec_sha256 || "").slice(0, 12))}`;
    const absent = meta.absent_indicators.length ? `Inputs absent from this build (not in DX): ${esc(meta.absent_indicators.join(", "))}. ` : "";
    $("notes").innerHTML = `<b>How to read this.</b> Deciles and ranks are national (all ${n.toLocaleString()} LSOAs of this build): 1 = most deprived. DEDI is the IMD 2025 with digital exclusion (DX) added as an eighth domain at weight w; it is relative, not an official statistic. ${absent}Moving the sliders recomputes DX and DEDI for all England by the published method; the Monte Carlo probability is for the published weights only.
      <details><summary>Sources and vintages</summary><ul>${meta.vintages.map((v) => `<li>${esc(v)}</li>`).join("")}</ul></details>
      <p>${esc(meta.attribution || "")} DEDI ${esc(meta.dedi_version || "")}.</p>`;
  }

  function update() { recompute(); legend(); draw(); tables(); details(); writeHash(); }
  readHash();
  header(); buildSliders(); syncArea();
  $("measure").value = state.measure;
  update();
  window.addEventListener("resize", draw);
})();
