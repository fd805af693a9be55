// flopcast web app: reads the forms, calls the JSON API, renders tables and SVG charts. No dependencies.
// Every number shown comes formatted from the server (the `display` of each response, made by
// flopcast.formatting, the formatter of the CLI and the report): this script formats no number of its own.
"use strict";

const SUFFIX = { k: 1e3, m: 1e6, b: 1e9, g: 1e9, t: 1e12 };

function parseNumber(text) {
  let raw = text.trim().replace(/[_,]/g, "");
  let mult = 1;
  const last = raw.slice(-1).toLowerCase();
  if (raw && SUFFIX[last] && !/e$/i.test(raw.slice(0, -1))) { mult = SUFFIX[last]; raw = raw.slice(0, -1); }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(raw)) throw new Error(`="${text.trim()}" is not a number; give a value like 175e9 or 175B, or an interval low..high`);
  const v = Number(raw) * mult;
  if (!Number.isFinite(v)) throw new Error(`=${text.trim()} is not finite; give a finite positive number`);
  return v;
}

// "x" -> x; "lo..hi" -> [lo, hi]; "" -> undefined
function parseValue(text, kind) {
  if (!text || !text.trim()) return undefined;
  if (kind === "int") { const v = parseNumber(text); if (!Number.isInteger(v)) throw new Error(`=${text.trim()} is not a whole number`); return v; }
  if (text.includes("..")) {
    if (kind === "point") throw new Error(`=${text.trim()}: give one number here, not an interval`);
    const [lo, hi] = text.split("..").map(parseNumber);
    return [lo, hi];
  }
  return parseNumber(text);
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

// -- fields, their labels and their errors ----------------------------------------------------
function fieldLabel(form, name) {
  const el = form.elements[name];
  const lab = el && el.closest && el.closest("label");
  const span = lab && lab.querySelector(".name");
  return span ? span.textContent.trim() : name;
}

// a service message names CLI flags ("check --params/--tokens against --chips/--hours"): say the form's labels,
// leave out the flags this form does not have
function speakForm(form, msg) {
  return msg.replace(/--[a-z][a-z0-9-]*(?:\/--[a-z][a-z0-9-]*)*/g, (run) => {
    const names = run.split("/").map((f) => f.slice(2).replace(/-/g, "_")).filter((n) => form.elements[n]);
    return names.length ? names.map((n) => fieldLabel(form, n)).join("/") : "the other inputs";
  }).replace(/\s*\(see `flopcast [^`]*`\)/, "");
}

function clearErrors(form) {
  for (const el of form.querySelectorAll(".invalid")) { el.classList.remove("invalid"); el.removeAttribute("aria-invalid"); }
  for (const el of form.querySelectorAll(".field-error")) el.remove();
}

// the message beside its field, with the field's own label in place of its key: "Parameters=-5 must be > 0"
function markField(form, name, msg) {
  const el = form.elements[name];
  if (!el || !el.closest) return false;
  el.classList.add("invalid");
  el.setAttribute("aria-invalid", "true");
  const lab = el.closest("label");
  let err = lab.querySelector(".field-error");
  if (!err) {
    err = document.createElement("span"); err.className = "field-error"; err.id = `error-${name}`; err.setAttribute("role", "alert");
    lab.appendChild(err); el.setAttribute("aria-describedby", err.id);
  }
  const text = speakForm(form, msg).replace(new RegExp(`^${name}(\\[\\d\\])?(?==|:| )`), (m, i) => fieldLabel(form, name) + (i ? ` ${i === "[0]" ? "(low)" : "(high)"}` : ""));
  err.textContent = err.textContent ? `${err.textContent}; ${text}` : text;
  return true;
}

function formBody(form) {
  const body = {};
  const errors = [];
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === "checkbox") { if (el.checked) body[el.name] = true; continue; }
    if (el.tagName === "SELECT") { if (el.value) body[el.name] = el.value; continue; }
    const kind = el.dataset.kind;
    const numeric = kind || !["hardware", "a", "b", "model"].includes(el.name);
    try {
      const v = numeric ? parseValue(el.value, kind) : (el.value.trim() || undefined);
      if (v !== undefined) body[el.name] = v;
    } catch (e) { errors.push([el.name, `${el.name}${e.message}`]); }
  }
  return { body, errors };
}

// -- the form in the URL -------------------------------------------------------------------------
function formToQuery(form) {
  const q = new URLSearchParams();
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === "checkbox") { if (el.checked !== el.defaultChecked) q.set(el.name, el.checked ? "1" : "0"); continue; }
    if (el.tagName === "SELECT") { if (el.selectedIndex >= 0 && !el.options[el.selectedIndex].defaultSelected) q.set(el.name, el.value); continue; }
    if (el.value.trim() && el.value !== el.defaultValue) q.set(el.name, el.value.trim());
  }
  return q.toString();
}

function queryToForm(form, query) {
  const q = new URLSearchParams(query);
  let any = false;
  for (const [k, v] of q) {
    const el = form.elements[k];
    if (!el || !el.tagName) continue;
    any = true;
    if (el.type === "checkbox") el.checked = v === "1" || v === "true";
    else el.value = v;
  }
  return any;
}

// -- tables ----------------------------------------------------------------------------------------
function row(cells, head = false) {
  const tag = head ? "th" : "td";
  return `<tr>${cells.map((c, i) => `<${tag}${i > 0 ? ' class="num"' : ""}${head ? ' scope="col"' : ""}>${c}</${tag}>`).join("")}</tr>`;
}

// a number never breaks across lines: each end of an interval is one unbreakable piece
const nb = (text) => String(text).split(" – ").map((t) => `<span class="n">${esc(t)}</span>`).join(" – ");
// a method the estimate skipped is a row of its own, "not estimated", with the reason in the form's words
function displayRows(rows, form) {
  return row(["Quantity", "Median", "90% interval"], true) + rows.map((r) => r.median === "not estimated"
    ? `<tr data-key="${esc(r.key)}" class="skipped"><td>${esc(r.label)}</td><td class="num">not estimated</td><td class="why">${esc(form ? speakForm(form, r.interval) : r.interval)}</td></tr>`
    : `<tr data-key="${esc(r.key)}"><td>${esc(r.label)}</td><td class="num">${nb(r.median)}</td><td class="num">${nb(r.interval)}</td></tr>`).join("");
}

const notesHtml = (form, d) =>
  (d.warnings || []).map((w) => `<p class="note warning" role="alert"><strong>Warning:</strong> ${esc(speakForm(form, w))}</p>`).join("") +
  (d.notes || []).map((n) => `<p class="muted">Note: ${esc(speakForm(form, n))}</p>`).join("");

// -- charts (SVG, drawn at the container's width so that 12 px text stays 12 px) ----------------------
const SVG_NS = "http://www.w3.org/2000/svg";
function svgEl(tag, attrs, parent) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}
const widthOf = (container) => Math.max(280, Math.min(900, container.clientWidth || 640));

// ticks of a log10 axis: "$1M", "$10M" from the server's labels
function histogramChart(container, hists, names, ticks) {
  const W = widthOf(container), H = 80, pad = 12;
  const entries = Object.entries(hists).filter(([, h]) => h);
  const svg = svgEl("svg", { width: W, height: entries.length * (H + 44) + 8, viewBox: `0 0 ${W} ${entries.length * (H + 44) + 8}`, class: "histogram", role: "img", "aria-label": "histograms of the cost samples, log scale" });
  entries.forEach(([name, h], i) => {
    const y0 = i * (H + 44) + 20;
    const max = Math.max(...h.counts);
    const lo = h.log10_edges[0], hi = h.log10_edges[h.log10_edges.length - 1];
    const x = (v) => pad + ((v - lo) / (hi - lo)) * (W - 2 * pad);
    h.counts.forEach((c, j) => {
      const bh = max ? (c / max) * H : 0;
      svgEl("rect", { x: x(h.log10_edges[j]), y: y0 + H - bh, width: Math.max(x(h.log10_edges[j + 1]) - x(h.log10_edges[j]) - 0.5, 0.5), height: bh, class: "bar" }, svg);
    });
    svgEl("text", { x: pad, y: y0 - 6, class: "label" }, svg).textContent = names[name] || name;
    // the server's ticks (1, 2, 5 x 10^k, formatted); powers of ten first, then the others where they have room
    const shown = [];
    const room = (px, text) => shown.every(([q, w]) => Math.abs(q - px) > (w + text.length * 7.2) / 2 + 8);
    const inside = ticks.filter(([t]) => t >= lo && t <= hi);
    for (const pass of [true, false]) {
      for (const [t, text] of inside) {
        const power = Math.abs(t - Math.round(t)) < 1e-9;
        if (power !== pass || !room(x(t), text) || x(t) - text.length * 3.6 < 0 || x(t) + text.length * 3.6 > W) continue;
        shown.push([x(t), text.length * 7.2]);
        svgEl("line", { x1: x(t), x2: x(t), y1: y0 + H, y2: y0 + H + 4, class: "axis" }, svg);
        svgEl("text", { x: x(t), y: y0 + H + 17, class: "tick", "text-anchor": "middle" }, svg).textContent = text;
      }
    }
    svgEl("line", { x1: pad, x2: W - pad, y1: y0 + H, y2: y0 + H, class: "axis" }, svg);
  });
  container.appendChild(svg);
}

function trendChart(container, d) {
  const W = widthOf(container), H = Math.round(Math.min(420, Math.max(300, W * 0.6))), L = W < 500 ? 52 : 64, R = 12, T = 28, B = 36;
  const xs = d.band.year.concat(d.points.map((p) => p.year));
  const ys = d.band.pred_low.concat(d.band.pred_high, d.points.map((p) => p.value)).filter((v) => v > 0).map(Math.log10);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.floor(Math.min(...ys)), y1 = Math.ceil(Math.max(...ys));
  const X = (v) => L + ((v - x0) / (x1 - x0)) * (W - L - R);
  const Y = (v) => T + (1 - (Math.log10(v) - y0) / (y1 - y0)) * (H - T - B);
  const svg = svgEl("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "trend", role: "img", "aria-label": d.display.y_title });
  const area = (lo, hi, cls) => {
    const pts = d.band.year.map((yr, i) => `${X(yr)},${Y(hi[i])}`).concat(d.band.year.map((yr, i) => `${X(yr)},${Y(lo[i])}`).reverse());
    svgEl("polygon", { points: pts.join(" "), class: cls }, svg);
  };
  area(d.band.pred_low, d.band.pred_high, "band-pred");
  area(d.band.line_low, d.band.line_high, "band-line");
  svgEl("polyline", { points: d.band.year.map((yr, i) => `${X(yr)},${Y(d.band.median[i])}`).join(" "), class: "line" }, svg);
  const ticks = d.display.y_ticks;
  const ystep = Math.max(1, Math.ceil((y1 - y0) / Math.floor((H - T - B) / 28)));
  for (let t = y0; t <= y1; t += ystep) {
    svgEl("line", { x1: L, x2: W - R, y1: Y(10 ** t), y2: Y(10 ** t), class: "gridline" }, svg);
    svgEl("text", { x: L - 6, y: Y(10 ** t) + 4, class: "tick", "text-anchor": "end" }, svg).textContent = ticks[t] || `1e${t}`;
  }
  const xstep = Math.max(1, Math.ceil((x1 - x0) / Math.max(3, Math.floor(W / 80))));
  for (let t = Math.ceil(x0); t <= Math.floor(x1); t += xstep) {
    svgEl("text", { x: X(t), y: H - B + 18, class: "tick", "text-anchor": "middle" }, svg).textContent = t;
  }
  // points, each named on hover; the largest named beside them where the label has room
  const placed = [];
  const order = d.points.map((p, i) => i).sort((a, b) => d.points[b].value - d.points[a].value);
  d.points.forEach((p, i) => {
    const c = svgEl("circle", { cx: X(p.year), cy: Y(p.value), r: 3.5, class: "point" }, svg);
    svgEl("title", {}, c).textContent = `${p.label}: ${d.display.points[i]}`;
  });
  const maxLabels = W < 500 ? 5 : 10;
  for (const i of order) {
    if (placed.length >= maxLabels) break;
    const p = d.points[i];
    const text = p.label.length > 28 ? p.label.slice(0, 27) + "…" : p.label;
    const w = text.length * 6.6, h = 14;
    let x = X(p.year) + 6, anchor = "start";
    if (x + w > W - R) { x = X(p.year) - 6; anchor = "end"; }
    const y = Y(p.value) - 4;
    const box = anchor === "start" ? [x, y - h + 3, x + w, y + 3] : [x - w, y - h + 3, x, y + 3];
    if (box[1] < T - 4 || placed.some((b) => !(box[2] < b[0] || box[0] > b[2] || box[3] < b[1] || box[1] > b[3]))) continue;
    placed.push(box);
    svgEl("text", { x, y, class: "point-label", "text-anchor": anchor }, svg).textContent = text;
  }
  svgEl("text", { x: 4, y: 16, class: "label" }, svg).textContent = d.display.y_title;
  container.appendChild(svg);
}

// the tornado: each input alone from its 5th to its 95th percentile, the cost in dollars (log scale)
function tornadoChart(container, t) {
  const W = widthOf(container), rowH = 40, T = 8;
  const rows = t.rows.slice(0, 10);
  const vals = rows.flatMap((r) => [r.low_usd, r.high_usd]).concat([t.median]);
  const lo = Math.log10(Math.min(...vals)), hi = Math.log10(Math.max(...vals));
  const span = Math.max(hi - lo, 1e-6), pad = 56;
  const X = (v) => pad + ((Math.log10(v) - lo) / span) * (W - 2 * pad);
  const H = T + rows.length * rowH + 24;
  const svg = svgEl("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "tornado", role: "img", "aria-label": t.title });
  rows.forEach((r, i) => {
    const y = T + i * rowH;
    const name = `${r.label}${r.derived ? " (derived)" : ""}`, fit = Math.floor((W - 8) / 7.4);
    svgEl("text", { x: 4, y: y + 12, class: "label" }, svg).textContent = name.length > fit ? name.slice(0, fit - 1) + "…" : name;
    const a = X(Math.min(r.low_usd, r.high_usd)), b = X(Math.max(r.low_usd, r.high_usd));
    svgEl("rect", { x: a, y: y + 17, width: Math.max(b - a, 1), height: 14, class: r.high_usd >= r.low_usd ? "bar" : "bar-down" }, svg);
    const left = r.low_usd <= r.high_usd ? r.low : r.high, right = r.low_usd <= r.high_usd ? r.high : r.low;
    svgEl("text", { x: a - 4, y: y + 28, class: "tick", "text-anchor": "end" }, svg).textContent = left;
    svgEl("text", { x: b + 4, y: y + 28, class: "tick" }, svg).textContent = right;
  });
  const m = X(t.median);
  svgEl("line", { x1: m, x2: m, y1: T + 14, y2: H - 20, class: "median-line" }, svg);
  svgEl("text", { x: m, y: H - 6, class: "tick", "text-anchor": "middle" }, svg).textContent = `median ${t.median_text}`;
  container.appendChild(svg);
}

// -- renderers -------------------------------------------------------------------------------
const RENDER = {
  estimate(d, form, out) {
    const v = d.display;
    let html = `<h2>${esc(v.title)}</h2><div class="table-wrap"><table id="results-table">${displayRows(v.rows, form)}</table></div>`;
    html += `<div class="notes" id="result-notes">${notesHtml(form, v)}</div>`;
    html += `<p class="muted">${esc(d.dollars)} · ${esc(d.source || "")}</p>`;
    if (v.development) {  // development beyond the final run: its own table, never in the cost rows
      html += `<h3>${esc(v.development.title)}</h3><div class="table-wrap"><table class="development">${displayRows(v.development.rows)}</table></div>`;
    }
    if (v.reported_power) html += `<p class="muted">Epoch's database gives a training power draw of ${esc(v.reported_power)} (its method: chips × TDP × server overhead × PUE).</p>`;
    html += `<div id="chart" class="chart"></div>`;
    const methods = Object.keys(v.tornado || {});
    if (methods.length) {
      const m = methods.includes("amortized") ? "amortized" : methods[0];
      const t = v.tornado[m];
      html += `<h3>${esc(t.title)}</h3><div id="tornado" class="chart"></div>`;
      html += `<div class="table-wrap"><table class="sensitivity">${row(["Input", "Cost at its 5th percentile", "at its 95th", "Swing", "Share of the spread"], true)}${t.rows.map((r) => row([esc(r.label) + (r.derived ? `<br><span class="muted">derived from ${esc(r.derived)}: its swing includes theirs</span>` : ""), esc(r.low), esc(r.high), esc(r.swing), esc(r.share)])).join("")}</table></div>`;
      html += `<p class="muted">Inputs whose share is under 0.5% are left out. The swing is the cost with the input alone at its 5th and its 95th percentile and the others at their medians; for a product of lognormal factors it is median × (p95 / p5)<sup>∓√share / 2</sup>, the same rows as the report's tornado.</p>`;
    }
    html += `<h3>Inputs</h3><div class="table-wrap"><table class="inputs">${row(["Input", "Median", "90% interval", "Where it comes from"], true)}${v.inputs.map((r) => row([esc(r.label), nb(r.median), nb(r.interval), `${esc(r.provenance)}<br><span class="source">${esc(r.source)}</span>`])).join("")}</table></div>`;
    out.innerHTML = html;
    histogramChart(out.querySelector("#chart"), d.histograms, v.histogram_labels, v.histogram_ticks || []);
    if (methods.length) tornadoChart(out.querySelector("#tornado"), v.tornado[methods.includes("amortized") ? "amortized" : methods[0]]);
  },
  // a training plan: the layout and what binds, the memory of the most-loaded rank term by term, the time, MFU, HFU,
  // effective utilization, goodput and costs with their intervals, the other layouts that fit, and the notes
  plan(d, form, out) {
    const v = d.display;
    let html = `<h2>${esc(v.title)}</h2><p id="plan-binding"><strong>${esc(speakForm(form, v.binding))}</strong></p>`;
    html += `<div class="table-wrap"><table id="plan-layout">${row(["Layout", ""], true)}${v.layout.map((r) => row([esc(r.label), esc(r.value)])).join("")}</table></div>`;
    html += `<h3>${esc(v.memory_title)}</h3><div class="table-wrap"><table id="plan-memory">${row(["Term", "Bytes"], true)}${v.memory.map((r) => row([esc(r.label), nb(r.value)])).join("")}<tr class="${v.fits ? "fits" : "no-fit"}"><td><strong>Total</strong></td><td class="num"><strong>${esc(v.memory_total)}</strong></td></tr></table></div>`;
    html += `<h3>Time, utilization and cost</h3><div class="table-wrap"><table id="results-table">${displayRows(v.rows, form)}</table></div>`;
    html += `<p class="muted" id="plan-step">${esc(speakForm(form, v.step))}</p>`;
    if (v.alternatives.length) {
      html += `<h3>Other layouts that fit, in order</h3><div class="table-wrap"><table id="plan-alternatives">${row(["Layout", "Memory per rank", "Overhead"], true)}${v.alternatives.map((a) => row([esc(a.layout), nb(a.memory), esc(a.overhead)])).join("")}</table></div>`;
    }
    html += `<div class="notes" id="result-notes">${notesHtml(form, v)}</div>`;
    out.innerHTML = html;
  },
  deploy(d, form, out) {
    const v = d.display;
    const p = d.plan || {};
    let html = `<h2>${esc(d.configuration)}</h2><div class="table-wrap"><table id="results-table">${displayRows(v.rows, form)}</table></div>`;
    html += `<div class="notes" id="result-notes">${notesHtml(form, v)}</div>`;
    html += `<p>${esc(d.configuration)}; ${esc(v.texts.request)}.</p>`;
    if (p.fixed) html += `<p>Every choice was given: this configuration ${p.meets_targets ? "meets" : "misses"} ${esc(p.targets.text)}.</p>`;
    else if (p.targets) html += `<p>Cheapest of ${esc(p.feasible.toLocaleString("en-US"))} configurations that fit, within ${esc(p.targets.text)}: ${p.binding && p.binding.length ? `the target binds (${esc(p.binding.join(", "))}); without it, ${esc(p.unconstrained.configuration)} would cost ${esc(v.texts.unconstrained_usd_per_day)} a day` : "no target binds"}.</p>`;
    html += `<p class="muted">${esc(d.price_source)}</p>`;
    if (d.vs_training) html += `<p><strong>Deployment / development: ${esc(v.texts.vs_training)}</strong>. ${esc(d.vs_training.basis)}. ${esc(d.vs_training.published)}</p>`;
    html += `<div id="chart" class="chart"></div>`;
    out.innerHTML = html;
    histogramChart(out.querySelector("#chart"), d.histograms, v.histogram_labels, v.histogram_ticks || []);
  },
  hardware(d, form, out) {
    const v = d.display;
    out.innerHTML = `<div class="table-wrap"><table id="results-table">${row(v.head.map(esc), true)}${v.rows.map((r) => row(r.map(esc))).join("")}</table></div>`;
  },
  trend(d, form, out) {
    const v = d.display;
    out.innerHTML = `<div class="table-wrap"><table id="results-table">${row(["", "Estimate", "90% interval"], true)}${v.rows.map((r) => row(r.map(esc))).join("")}</table></div><div id="chart" class="chart"></div><p class="muted">Source: ${esc(d.source)}</p>`;
    trendChart(out.querySelector("#chart"), d);
  },
};

async function submit(form) {
  const status = form.querySelector(".status");
  const out = document.getElementById("results");
  delete document.body.dataset.ready;
  clearErrors(form);
  const { body, errors } = formBody(form);
  if (errors.length) {
    for (const [name, msg] of errors) markField(form, name, msg);
    status.textContent = "Check the marked field."; status.className = "status error";
    document.body.dataset.ready = "error";
    return;
  }
  const query = formToQuery(form);
  history.replaceState(null, "", query ? `${location.pathname}?${query}` : location.pathname);
  status.textContent = "Working…"; status.className = "status";
  let resp;
  if (form.dataset.method === "GET") {
    resp = await fetch(`${form.dataset.endpoint}?${new URLSearchParams(body)}`);
  } else {
    resp = await fetch(form.dataset.endpoint, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  }
  const data = await resp.json();
  if (!resp.ok) {
    const loose = [];
    for (const e of data.detail || []) {
      const field = e.loc && e.loc.length > 1 ? e.loc[e.loc.length - 1] : null;
      if (!(field && markField(form, field, e.msg))) loose.push(speakForm(form, e.msg));
    }
    status.textContent = loose.join("; ") || "Check the marked field."; status.className = "status error";
    out.hidden = true;
    document.body.dataset.ready = "error";
    return;
  }
  status.textContent = ""; status.className = "status done";
  out.hidden = false;
  RENDER[form.dataset.render](data, form, out);
  document.body.dataset.ready = "1";
}

async function fillLists() {
  for (const el of document.querySelectorAll("select[data-source], datalist[data-source]")) {
    const items = await (await fetch(el.dataset.source)).json();
    const frag = document.createDocumentFragment();
    for (const m of items) {
      const o = document.createElement("option"); o.value = m.key;
      o.textContent = m.key === m.name ? m.name : `${m.name} (${m.key})`; frag.appendChild(o);
    }
    el.appendChild(frag);
    const count = document.querySelector(`[data-count-of="${el.id}"]`);
    if (count) count.textContent = `${items.length.toLocaleString("en-US")} models`;
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  await fillLists();
  for (const form of document.querySelectorAll("form[data-endpoint]")) {
    const run = () => submit(form).catch((e) => { const s = form.querySelector(".status"); s.textContent = String(e); s.className = "status error"; });
    form.addEventListener("submit", (ev) => { ev.preventDefault(); run(); });
    // a link with the form in its query string reproduces the form and its result; the trend page draws its default
    if (queryToForm(form, location.search) || form.dataset.autorun === "1") run();
  }
  document.body.dataset.loaded = "1";
});
