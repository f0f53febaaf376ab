/* DEDI method in the browser: a line-by-line port of pipeline/method/dx.py and iod.py.
 * Every sum runs in numpy's order (sequential over indicators, numpy's pairwise summation
 * over LSOAs) so that the ranks equal the Python pipeline's for the same spec. */
"use strict";
const DEDI_METHOD = (() => {
  // arrays arrive as "gz:" + base64 of their gzipped bytes (page.py _pack); inflate() turns
  // every one of them into an ArrayBuffer with the browser's own DecompressionStream
  async function unpack(b64) {
    const bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).arrayBuffer();
  }
  async function inflate(data) {
    const jobs = [];
    const walk = (o) => {
      for (const k of Object.keys(o)) {
        const v = o[k];
        if (typeof v === "string" && v.startsWith("gz:")) jobs.push(unpack(v.slice(3)).then((b) => { o[k] = b; }));
        else if (v && typeof v === "object" && !Array.isArray(v)) walk(v);
      }
    };
    walk(data);
    await Promise.all(jobs);
    return data;
  }
  function decode(buffer, Type) { return new Type(buffer); }

  // numpy's pairwise summation (loops_utils.h: blocks of 8, split at 128)
  function pairwiseSum(a, start, n) {
    if (n < 8) {
      let res = 0.0;
      for (let i = 0; i < n; i++) res += a[start + i];
      return res;
    }
    if (n <= 128) {
      const r = [a[start], a[start + 1], a[start + 2], a[start + 3], a[start + 4],
                 a[start + 5], a[start + 6], a[start + 7]];
      let i = 8;
      for (; i < n - (n % 8); i += 8) {
        for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
      }
      let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
      for (; i < n; i++) res += a[start + i];
      return res;
    }
    let n2 = Math.floor(n / 2);
    n2 -= n2 % 8;
    return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
  }
  const sum = (a) => pairwiseSum(a, 0, a.length);

  // cephes ndtri (as scipy.special.ndtri)
  const P0 = [-5.99633501014107895267E1, 9.80010754185999661536E1, -5.66762857469070293439E1,
    1.39312609387279679503E1, -1.23916583867381258016E0];
  const Q0 = [1.95448858338141759834E0, 4.67627912898881538453E0, 8.63602421390890590575E1,
    -2.25462687854119370527E2, 2.00260212380060660359E2, -8.20372256168333339912E1,
    1.59056225126211695515E1, -1.18331621121330003142E0];
  const P1 = [4.05544892305962419923E0, 3.15251094599893866154E1, 5.71628192246421288162E1,
    4.40805073893200834700E1, 1.46849561928858024014E1, 2.18663306850790267539E0,
    -1.40256079171354495875E-1, -3.50424626827848203418E-2, -8.57456785154685413611E-4];
  const Q1 = [1.57799883256466749731E1, 4.53907635128879210584E1, 4.13172038254672030440E1,
    1.50425385692907503408E1, 2.50464946208309415979E0, -1.42182922854787788574E-1,
    -3.80806407691578277194E-2, -9.33259480895457427372E-4];
  const P2 = [3.23774891776946035970E0, 6.91522889068984211695E0, 3.93881025292474443415E0,
    1.33303460815807542389E0, 2.01485389549179081538E-1, 1.23716634817820021358E-2,
    3.01581553508235416007E-4, 2.65806974686737550832E-6, 6.23974539184983293730E-9];
  const Q2 = [6.02427039364742014255E0, 3.67983563856160859403E0, 1.37702099489081330271E0,
    2.16236993594496635890E-1, 1.34204006088543189037E-2, 3.28014464682127739104E-4,
    2.89247864745380683936E-6, 6.79019408009981274425E-9];
  function polevl(x, c) { let a = c[0]; for (let i = 1; i < c.length; i++) a = a * x + c[i]; return a; }
  function p1evl(x, c) { let a = x + c[0]; for (let i = 1; i < c.length; i++) a = a * x + c[i]; return a; }
  const EXPM2 = 0.13533528323661269189, S2PI = 2.50662827463100050242E0;
  function ndtri(y0) {
    if (y0 === 0) return -Infinity;
    if (y0 === 1) return Infinity;
    if (!(y0 > 0 && y0 < 1)) return NaN;
    let code = 1, y = y0;
    if (y > 1.0 - EXPM2) { y = 1.0 - y; code = 0; }
    if (y > EXPM2) {
      y = y - 0.5;
      const y2 = y * y;
      const x = y + y * (y2 * polevl(y2, P0) / p1evl(y2, Q0));
      return x * S2PI;
    }
    let x = Math.sqrt(-2.0 * Math.log(y));
    const x0 = x - Math.log(x) / x;
    const z = 1.0 / x;
    const x1 = x < 8.0 ? z * polevl(z, P1) / p1evl(z, Q1) : z * polevl(z, P2) / p1evl(z, Q2);
    x = x0 - x1;
    return code !== 0 ? -x : x;
  }

  // ascending ranks, ties averaged, NaN stays NaN (scipy rankdata "average")
  function averageRanks(x) {
    const idx = [];
    for (let i = 0; i < x.length; i++) if (!Number.isNaN(x[i])) idx.push(i);
    idx.sort((a, b) => (x[a] - x[b]) || (a - b));
    const r = new Float64Array(x.length).fill(NaN);
    for (let i = 0; i < idx.length;) {
      let j = i;
      while (j + 1 < idx.length && x[idx[j + 1]] === x[idx[i]]) j++;
      const rank = (i + 1 + j + 1) / 2;
      for (let k = i; k <= j; k++) r[idx[k]] = rank;
      i = j + 1;
    }
    return { ranks: r, n: idx.length };
  }

  function standardise(x, method) {
    const out = new Float64Array(x.length);
    if (method === "zscores") {
      let n = 0;
      const xs = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) if (!Number.isNaN(x[i])) { xs[i] = x[i]; n++; }
      const nn = Math.max(n, 1), mean = sum(xs) / nn;
      const sq = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) if (!Number.isNaN(x[i])) { const d = x[i] - mean; sq[i] = d * d; }
      const sd = Math.sqrt(sum(sq) / nn);
      for (let i = 0; i < x.length; i++) {
        out[i] = Number.isNaN(x[i]) ? NaN : (sd > 0 ? (x[i] - mean) / sd : 0.0);
      }
      return out;
    }
    const { ranks, n } = averageRanks(x);
    const nn = Math.max(n, 1);
    for (let i = 0; i < x.length; i++) {
      const p = (ranks[i] - 0.5) / nn;
      out[i] = method === "normal_scores" ? ndtri(p) : p;
    }
    return out;
  }

  // a route's aggregated score on the scale it is combined on (dx.transform_subdomain):
  // exponential: ascending rank r of n (ties averaged), X = -C ln(1 - (r/n) k); linear:
  // standardised again (one indicator: kept as is)
  function transformSubdomain(score, m, members, aggregation) {
    if (aggregation === "exponential") {
      const { ranks, n } = averageRanks(score);
      const nn = Math.max(n, 1), out = new Float64Array(score.length);
      for (let i = 0; i < score.length; i++) {
        out[i] = -m.constant * Math.log1p(-(ranks[i] / nn) * m.transform_k);
      }
      return out;
    }
    return members === 1 ? score : standardise(score, m.normalisation);
  }

  // the route with the largest term w_s * S_s of the LSOA's DX (dx.leading_route)
  function leadingRoute(subScores, subW, i) {
    let best = null, bestV = -Infinity;
    Object.keys(subScores).forEach((s, j) => {
      const v = subScores[s][i] * subW[j];
      if (!Number.isNaN(v) && v > bestV) { best = s; bestV = v; }
    });
    return best;
  }

  // weighted mean over the indicators an LSOA has (dx.aggregate)
  function aggregate(zs, ws, n) {
    const num = new Float64Array(n), den = new Float64Array(n);
    for (let k = 0; k < zs.length; k++) {
      const z = zs[k], w = ws[k];
      for (let i = 0; i < n; i++) {
        const have = !Number.isNaN(z[i]);
        num[i] = num[i] + (have ? z[i] : 0.0) * w;
        den[i] = den[i] + (have ? 1 : 0) * w;
      }
    }
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = den[i] > 0 ? num[i] / den[i] : NaN;
    return out;
  }

  function searchsortedLeft(sorted, x) {
    if (Number.isNaN(x)) return sorted.length;
    let lo = 0, hi = sorted.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid] < x) lo = mid + 1; else hi = mid; }
    return lo;
  }

  // dx.layer_local and dx._rank_offset for one weight set
  function layerLocal(national, layer, laOf, population, share) {
    const n = national.length, out = Float64Array.from(national);
    if (share <= 0) return out;
    const ranked = Float64Array.from(national, (v) => (Number.isNaN(v) ? -Infinity : v)).sort();
    const colsOf = new Map();
    for (let i = 0; i < n; i++) {
      if (!colsOf.has(laOf[i])) colsOf.set(laOf[i], []);
      colsOf.get(laOf[i]).push(i);
    }
    for (const cols of colsOf.values()) {
      const m_ = cols.length, h = cols.map((i) => !Number.isNaN(layer[i]));
      if (!h.some(Boolean)) continue;
      const p = Float64Array.from(cols, (i, j) => (h[j] ? population[i] : 0.0));
      const tot = sum(p);
      const nat = Float64Array.from(cols, (i) => national[i]);
      const lay = Float64Array.from(cols, (i, j) => (h[j] ? layer[i] : 0.0));
      const wmean = (x) => {
        const px = new Float64Array(m_);
        for (let j = 0; j < m_; j++) px[j] = p[j] * x[j];
        return tot > 0 ? sum(px) / tot : 0.0;
      };
      const m = wmean(nat.map((v, j) => (h[j] ? v : 0.0)));
      const lbar = wmean(lay);
      const s = Math.sqrt(wmean(nat.map((v, j) => (h[j] ? (v - m) * (v - m) : 0.0))));
      const sL = Math.sqrt(wmean(lay.map((v, j) => (h[j] ? (v - lbar) * (v - lbar) : 0.0))));
      const mixed = new Float64Array(m_);
      for (let j = 0; j < m_; j++) {
        const v = m + s * (sL > 0 ? (lay[j] - lbar) / sL : 0.0);
        mixed[j] = h[j] ? (1 - share) * nat[j] + share * v : nat[j];
      }
      const meanPct = (x) => {
        const px = new Float64Array(m_);
        for (let j = 0; j < m_; j++) px[j] = p[j] * searchsortedLeft(ranked, x[j]);
        return sum(px) / (tot > 0 ? tot : 1);
      };
      const target = meanPct(nat);
      let spread = 0;
      for (let j = 0; j < m_; j++) spread = Math.max(spread, Math.abs(h[j] ? mixed[j] - nat[j] : 0.0));
      spread += 1e-9;
      let lo = -spread, hi = spread;
      const trial = new Float64Array(m_);
      for (let it = 0; it < 40; it++) {
        const mid = (lo + hi) / 2;
        for (let j = 0; j < m_; j++) trial[j] = h[j] ? mixed[j] + mid : mixed[j];
        if (meanPct(trial) > target) hi = mid; else lo = mid;
      }
      const c = (lo + hi) / 2;
      cols.forEach((i, j) => { out[i] = h[j] ? mixed[j] + c : nat[j]; });
    }
    return out;
  }

  // 1 = highest score, ties by position (dx.rank_rows)
  function rankDescending(scores) {
    const n = scores.length, idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    const key = (v) => (Number.isNaN(v) ? Infinity : -v);
    idx.sort((a, b) => (key(scores[a]) - key(scores[b])) || (a - b));
    const r = new Int32Array(n);
    for (let k = 0; k < n; k++) r[idx[k]] = k + 1;
    return r;
  }

  const sumSeq = (vals) => vals.reduce((a, b) => a + b, 0);

  /* DX for one set of weights: {dx_weight, aggregation, subdomains: {s: w}, indicators: {k: w}}
   * (aggregation: "exponential" or "linear"; the release's when absent). */
  function computeDX(data, arrays, weights) {
    const n = data.n, m = data.method;
    const used = m.indicators.filter((ind) => weights.indicators[ind.name] > 0);
    const national = used.filter((ind) => !ind.local), local = used.filter((ind) => ind.local);
    const subsPresent = Object.keys(m.subdomains).filter(
      (s) => national.some((ind) => ind.subdomain === s));
    if (!subsPresent.length) throw new Error("no national DX indicator has a positive weight");
    const rawSub = subsPresent.map((s) => weights.subdomains[s]);
    const total = sumSeq(rawSub);
    const subW = rawSub.map((w) => w / total);
    const normalised = (group) => {
      const ws = group.map((ind) => weights.indicators[ind.name]);
      const t = pairwiseSum(ws, 0, ws.length);
      return ws.map((w) => w / t);
    };
    const subScores = {};
    subsPresent.forEach((s) => {
      const members = national.filter((ind) => ind.subdomain === s);
      const score = aggregate(members.map((ind) => arrays.z[ind.name]), normalised(members), n);
      subScores[s] = transformSubdomain(score, m, members.length,
                                        weights.aggregation || m.aggregation);
    });
    const nat = aggregate(subsPresent.map((s) => subScores[s]), subW, n);
    let dx = nat;
    if (local.length) {
      const layer = aggregate(local.map((ind) => arrays.z[ind.name]), normalised(local), n);
      dx = layerLocal(nat, layer, arrays.ltlaOf, arrays.population, m.local_weight);
    }
    return { score: dx, rank: rankDescending(dx), subdomains: subScores, subWeights: subW };
  }

  /* DEDI from the seven domain ranks and the DX rank (dx.dedi_scores). */
  function computeDEDI(data, arrays, dxRank, dxWeight) {
    const n = data.n, m = data.method, k = m.transform_k;
    const X = (rank) => {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = -m.constant * Math.log1p(-((n - rank[i] + 1.0) / n) * k);
      return out;
    };
    const names = Object.keys(m.imd_weights);
    const total = sumSeq(names.map((d) => m.imd_weights[d]));
    const score = new Float64Array(n);
    names.forEach((d) => {
      const xd = X(arrays.ranks[d]), wd = (m.imd_weights[d] * (1 - dxWeight)) / 100.0;
      for (let i = 0; i < n; i++) score[i] = score[i] + xd[i] * wd;
    });
    const xdx = X(dxRank), wdx = (dxWeight * total) / 100.0;
    for (let i = 0; i < n; i++) score[i] = score[i] + xdx[i] * wdx;
    return { score, rank: rankDescending(score) };
  }

  const decile = (rank, n) => Math.ceil((rank * 10.0) / n);

  return { inflate, decode, ndtri, standardise, transformSubdomain, leadingRoute, aggregate, layerLocal,
           rankDescending, computeDX, computeDEDI, decile, pairwiseSum };
})();
