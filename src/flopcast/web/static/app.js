// flopcast web app: reads the forms, calls the JSON API, renders tables and SVG charts. No dependencies.
"use strict";

const SUFFIX = { k: 1e3, m: 1e6, b: 1e9, g: 1e9, t: 1e12 };

function parseNumber(text) {
  let raw = text.trim().replace(/[_,]/g, "");
  let mult = 1;
  const last = raw.slice(-1).toLowerCase();
  if (raw && SUFFIX[last] && !/e$/i.test(raw.slice(0, -1))) { mult = SUFFIX[last]; raw = raw.slice(0, -1); }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(raw)) throw new Error(`"${text}" is not a number`);
  return Number(raw) * mult;
}

// "x" -> x; "lo..hi" -> [lo, hi]; "" -> undefined
function parseValue(text, kind) {
  if (!text || !text.trim()) return undefined;
  if (kind === "int") { const v = parseNumber(text); if (!Number.isInteger(v)) throw new Error(`"${text}" is not a whole number`); return v; }
  if (text.includes("..")) {
    if (kind === "point") throw new Error("give one number here, not an interval");
    const [lo, hi] = text.split("..").map(parseNumber);
    return [lo, hi];
  }
  return parseNumber(text);
}

const fmtNum = (x) => {
  if (x === null || x === undefined || Number.isNaN(x)) return "-";
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return x.toExponential(2).replace("e+", "e");
  return x.toLocaleString("en-US", { maximumSignificantDigits: 4 });
};
const fmtUsd = (x) => {
  if (x === null || x === undefined) return "-";
  const a = Math.abs(x);
  if (a >= 1e9) return `$${(x / 1e9).toPrecision(3)}B`;
  if (a >= 1e6) return `$${(x / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `$${(x / 1e3).toPrecision(3)}k`;
  return `$${x.toPrecision(3)}`;
};
const fmtSeconds = (x) => (x < 1 ? `${Number((x * 1e3).toPrecision(3))} ms` : `${Number(x.toPrecision(3))} s`);
const fmt = (x, unit) => (unit === "USD" ? fmtUsd(x) : unit === "s" ? fmtSeconds(x) : fmtNum(x) + (unit ? ` ${unit}` : ""));
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

function formBody(form) {
  const body = {};
  const errors = [];
  for (const el of form.elements) {
    if (!el.name) continue;
    el.classList.remove("invalid");
    if (el.type === "checkbox") { if (el.checked) body[el.name] = true; continue; }
    if (el.tagName === "SELECT") { if (el.value) body[el.name] = el.value; continue; }
    const kind = el.dataset.kind;
    const numeric = kind || !["hardware", "a", "b", "model"].includes(el.name);
    try {
      const v = numeric ? parseValue(el.value, kind) : (el.value.trim() || undefined);
      if (v !== undefined) body[el.name] = v;
    } catch (e) { el.classList.add("invalid"); errors.push(`${el.name}: ${e.message}`); }
  }
  return { body, errors };
}

function row(cells, head = false) {
  const tag = head ? "th" : "td";
  return `<tr>${cells.map((c, i) => `<${tag}${i > 0 ? ' class="num"' : ""}>${c}</${tag}>`).join("")}</tr>`;
}

function summaryRows(entries) {
  return row(["quantity", "median", "90% interval"], true) + entries.map(([name, s]) =>
    row([esc(name), fmt(s.median, s.unit), `${fmt(s.p5, s.unit)} – ${fmt(s.p95, s.unit)}`])).join("");
}

// -- charts (SVG) --------------------------------------------------------------------------
const SVG_NS = "http://www.w3.org/2000/svg";
function svgEl(tag, attrs, parent) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function histogramChart(container, hists, unit) {
  const W = 640, H = 90, pad = 40;
  const entries = Object.entries(hists).filter(([, h]) => h);
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${entries.length * (H + 30) + 10}`, class: "histogram", role: "img" });
  entries.forEach(([name, h], i) => {
    const y0 = i * (H + 30) + 10;
    const max = Math.max(...h.counts);
    const lo = h.log10_edges[0], hi = h.log10_edges[h.log10_edges.length - 1];
    const x = (v) => pad + ((v - lo) / (hi - lo)) * (W - 2 * pad);
    h.counts.forEach((c, j) => {
      const bh = max ? (c / max) * H : 0;
      svgEl("rect", { x: x(h.log10_edges[j]), y: y0 + H - bh, width: Math.max(x(h.log10_edges[j + 1]) - x(h.log10_edges[j]) - 0.5, 0.5), height: bh, class: "bar" }, svg);
    });
    svgEl("text", { x: 2, y: y0 + 12, class: "label" }, svg).textContent = name;
    for (let t = Math.ceil(lo); t <= Math.floor(hi); t++) {
      svgEl("text", { x: x(t), y: y0 + H + 14, class: "tick", "text-anchor": "middle" }, svg).textContent = fmt(10 ** t, unit);
    }
  });
  container.appendChild(svg);
}

function trendChart(container, d) {
  const W = 700, H = 380, L = 60, R = 20, T = 20, B = 40;
  const xs = d.band.year.concat(d.points.map((p) => p.year));
  const ys = d.band.pred_low.concat(d.band.pred_high, d.points.map((p) => p.value)).filter((v) => v > 0).map(Math.log10);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.floor(Math.min(...ys)), y1 = Math.ceil(Math.max(...ys));
  const X = (v) => L + ((v - x0) / (x1 - x0)) * (W - L - R);
  const Y = (v) => T + (1 - (Math.log10(v) - y0) / (y1 - y0)) * (H - T - B);
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "trend", role: "img" });
  const area = (lo, hi, cls) => {
    const pts = d.band.year.map((yr, i) => `${X(yr)},${Y(hi[i])}`).concat(d.band.year.map((yr, i) => `${X(yr)},${Y(lo[i])}`).reverse());
    svgEl("polygon", { points: pts.join(" "), class: cls }, svg);
  };
  area(d.band.pred_low, d.band.pred_high, "band-pred");
  area(d.band.line_low, d.band.line_high, "band-line");
  svgEl("polyline", { points: d.band.year.map((yr, i) => `${X(yr)},${Y(d.band.median[i])}`).join(" "), class: "line" }, svg);
  for (const p of d.points) {
    const c = svgEl("circle", { cx: X(p.year), cy: Y(p.value), r: 3.5, class: "point" }, svg);
    svgEl("title", {}, c).textContent = `${p.label}: ${fmt(p.value, d.unit)}`;
  }
  for (let t = y0; t <= y1; t++) svgEl("text", { x: L - 6, y: Y(10 ** t) + 4, class: "tick", "text-anchor": "end" }, svg).textContent = `1e${t}`;
  for (let t = Math.ceil(x0); t <= Math.floor(x1); t += Math.max(1, Math.round((x1 - x0) / 8))) {
    svgEl("text", { x: X(t), y: H - B + 18, class: "tick", "text-anchor": "middle" }, svg).textContent = t;
  }
  svgEl("text", { x: L, y: 14, class: "label" }, svg).textContent = `${d.title} (${d.unit}, log scale)`;
  container.appendChild(svg);
}

// -- renderers -------------------------------------------------------------------------------
const RENDER = {
  estimate(d, table, chart, extra) {
    const entries = [["training compute", d.training_compute_flop], ["chip-hours", d.chip_hours]];
    if (d.duration_s) entries.push(["duration", { ...d.duration_s, median: d.duration_s.median / 86400, p5: d.duration_s.p5 / 86400, p95: d.duration_s.p95 / 86400, unit: "days" }]);
    const scaled = (s, k, unit) => ({ ...s, median: s.median / k, p5: s.p5 / k, p95: s.p95 / k, unit });
    if (d.peak_power_w) entries.push(["peak power (facility)", scaled(d.peak_power_w, 1e6, "MW")]);
    if (d.energy_chip_j) entries.push(["energy, chip-level (TDP × hours)", scaled(d.energy_chip_j, 3.6e9, "MWh")]);
    if (d.energy_facility_j) entries.push(["energy, facility-level", scaled(d.energy_facility_j, 3.6e9, "MWh")]);
    if (d.emissions_kg_co2e) entries.push(["emissions", scaled(d.emissions_kg_co2e, 1e3, "tCO2e")]);
    for (const [m, s] of Object.entries(d.cost_usd)) entries.push([`cost (${m})`, { ...s, unit: "USD" }]);
    table.innerHTML = summaryRows(entries.map(([n, s]) => [n, { unit: "", ...s }]));
    histogramChart(chart, d.histograms, "USD");
    let html = `<p class="muted">${esc(d.dollars)} · ${esc(d.source || "")}</p>`;
    if (d.development) {  // development beyond the final run: its own table, never in the cost rows
      const dv = d.development;
      const lines = [["final run", dv.final_run_usd], ["experiments", dv.experiments_usd], ["R&D staff", dv.rd_staff_usd], ["total development", dv.total_usd]];
      html += `<h3>Development cost beyond the final run (${esc(dv.cost_method)})</h3><table class="development">${summaryRows(lines.map(([n, s]) => [n, { ...s, unit: "USD" }]))}</table>`;
      html += `<p class="muted">Experiments multiplier ${fmtNum(dv.experiments_multiplier.median)} (${esc(dv.experiments)}), R&D staff share ${(100 * dv.staff_share.median).toFixed(0)}% (Cottier et al. 2024).</p>`;
    }
    if (d.reported_power_w) html += `<p class="muted">Epoch's database gives a training power draw of ${fmtNum(d.reported_power_w / 1e6)} MW (its method: chips × TDP × server overhead × PUE).</p>`;
    html += Object.entries(d.skipped_methods || {}).map(([m, why]) => `<p class="note">${esc(m)} cost skipped: ${esc(why)}</p>`).join("");
    html += (d.warnings || []).map((w) => `<p class="note">warning: ${esc(w)}</p>`).join("");
    html += (d.notes || []).map((n) => `<p class="muted">note: ${esc(n)}</p>`).join("");
    if (d.sensitivity) {
      const key = Object.keys(d.sensitivity).find((k) => k.startsWith("cost_usd")) || Object.keys(d.sensitivity)[0];
      html += `<h3>Which inputs drive ${esc(key)}</h3><table>${row(["input", "rank correlation", "share"], true)}${d.sensitivity[key].map((r) => row([esc(r.input), r.rank_correlation.toFixed(2), `${(100 * r.share).toFixed(0)}%`])).join("")}</table>`;
    }
    html += `<h3>Inputs</h3><table>${row(["input", "median", "provenance"], true)}${d.inputs.map((r) => row([esc(r.name), fmt(r.median, r.unit), esc(r.provenance)])).join("")}</table>`;
    extra.innerHTML = html;
  },
  deploy(d, table, chart, extra) {
    const names = { tokens_per_s_per_instance: "output tokens/s per instance", time_per_output_token_s: "time per output token", time_to_first_token_s: "time to first token", tokens_per_day: "output tokens a day", prompt_tokens_per_day: "prompt tokens a day", instances: "instances", fleet_load_factor: "fleet load factor", usd_per_million_tokens: "$ per million tokens (prompt and output)", usd_per_million_output_tokens: "$ per million output tokens", usd_per_day: "$ a day", usd_per_year: "$ a year" };
    const unit = (k) => (k.startsWith("usd") ? "USD" : k.endsWith("_s") ? "s" : "");
    table.innerHTML = summaryRows(Object.entries(names).filter(([k]) => d[k]).map(([k, n]) => [n, { ...d[k], unit: unit(k) }]));
    histogramChart(chart, d.histograms, "USD");
    const p = d.plan || {};
    let html = `<p><strong>${esc(d.configuration)}</strong>; requests of ${Math.round(d.prompt_tokens)} prompt and ${Math.round(d.output_tokens)} output tokens.</p>`;
    if (p.fixed) html += `<p>Every choice was given: this configuration ${p.meets_targets ? "meets" : "misses"} ${esc(p.targets.text)}.</p>`;
    else if (p.targets) html += `<p>Cheapest of ${p.feasible} configurations that fit, within ${esc(p.targets.text)}: ${p.binding && p.binding.length ? `the target binds (${esc(p.binding.join(", "))}); without it, ${esc(p.unconstrained.configuration)} would cost ${fmtUsd(p.unconstrained.usd_per_day)} a day` : "no target binds"}.</p>`;
    html += `<p class="muted">${esc(d.price_source)}</p>`;
    if (d.vs_training) { const r = d.vs_training.ratio; html += `<p><strong>Deployment / development: ${(100 * r.median).toFixed(0)}%</strong> (90% CI ${(100 * r.p5).toFixed(0)}–${(100 * r.p95).toFixed(0)}%). ${esc(d.vs_training.basis)}. ${esc(d.vs_training.published)}</p>`; }
    extra.innerHTML = html + d.notes.map((n) => `<p class="muted">${esc(n)}</p>`).join("");
  },
  hardware(d, table) {
    table.innerHTML = row(["", esc(d.a), esc(d.b), "b / a"], true) +
      row(["peak FLOP/s", fmtNum(d.peak_flop_per_s_a), fmtNum(d.peak_flop_per_s_b), `${d.peak_flop_per_s_ratio.toFixed(2)}x`]) +
      row(["memory, bytes", fmtNum(d.memory_bytes_a), fmtNum(d.memory_bytes_b), d.memory_bytes_ratio ? `${d.memory_bytes_ratio.toFixed(2)}x` : "-"]) +
      row(["fewest chips for the training state", fmtNum(d.min_chips_a), fmtNum(d.min_chips_b), ""]) +
      row([`USD per chip-hour, ${esc(d.tier)} market price on ${esc(d.date)}`, fmtUsd(d.price_usd_per_chip_hour_a), fmtUsd(d.price_usd_per_chip_hour_b), ""]) +
      row(["cheaper per FLOP", "", "", d.cost_per_flop_advantage ? `${d.cost_per_flop_advantage.toFixed(2)}x` : "-"]);
  },
  trend(d, table, chart, extra) {
    const g = d.growth_per_year || {};
    const rows = [["growth per year", `x${Number(g.estimate).toFixed(2)}`, `x${Number(g.low).toFixed(2)} – x${Number(g.high).toFixed(2)}`], ["models", d.n_models, ""]];
    if (d.extrapolation) rows.push([`trend in ${Math.floor(d.extrapolation.year)}`, fmt(d.extrapolation.median, d.unit), `${fmt(d.extrapolation.line_low, d.unit)} – ${fmt(d.extrapolation.line_high, d.unit)}`]);
    table.innerHTML = row(["", "estimate", "90% interval"], true) + rows.map((r) => row(r.map(String))).join("");
    trendChart(chart, d);
    extra.innerHTML = `<p class="muted">Source: ${esc(d.source)}</p>`;
  },
};

async function submit(form) {
  const status = form.querySelector(".status");
  const section = document.getElementById("results");
  const { body, errors } = formBody(form);
  if (errors.length) { status.textContent = errors.join("; "); status.className = "status error"; return; }
  status.textContent = "working…"; status.className = "status";
  let resp;
  if (form.dataset.method === "GET") {
    resp = await fetch(`${form.dataset.endpoint}?${new URLSearchParams(body)}`);
  } else {
    resp = await fetch(form.dataset.endpoint, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  }
  const data = await resp.json();
  if (!resp.ok) {
    const msgs = (data.detail || []).map((e) => {
      const field = e.loc && e.loc[e.loc.length - 1];
      const el = form.elements[field];
      if (el && el.classList) el.classList.add("invalid");
      return `${field && field !== "body" ? field + ": " : ""}${e.msg}`;
    });
    status.textContent = msgs.join("; ") || `error ${resp.status}`; status.className = "status error";
    return;
  }
  status.textContent = ""; status.className = "status done";
  const table = document.getElementById("results-table"), chart = document.getElementById("chart"), extra = document.getElementById("extra");
  chart.innerHTML = ""; extra.innerHTML = "";
  RENDER[form.dataset.render](data, table, chart, extra);
  section.hidden = false;
  document.body.dataset.ready = "1";
}

async function fillSelects() {
  for (const el of document.querySelectorAll("select[data-source], datalist[data-source]")) {
    const items = await (await fetch(el.dataset.source)).json();
    for (const m of items) {
      const o = document.createElement("option"); o.value = m.key;
      o.textContent = m.key === m.name ? m.name : `${m.name} (${m.key})`; el.appendChild(o);
    }
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  await fillSelects();
  for (const form of document.querySelectorAll("form[data-endpoint]")) {
    form.addEventListener("submit", (ev) => { ev.preventDefault(); submit(form).catch((e) => { const s = form.querySelector(".status"); s.textContent = String(e); s.className = "status error"; }); });
  }
  document.body.dataset.loaded = "1";
});
