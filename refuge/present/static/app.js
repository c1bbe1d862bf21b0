/* refuge app: the page. Controls send a change to the server; the answer (bands, yearly totals, evidence,
   paired differences) is drawn with uPlot. window.refuge.renders counts finished redraws (tests and the
   benchmark wait on it). */
"use strict";

const BASE = "#000000";
const COLOR = "#0072B2";          // the changed scenario (Okabe-Ito blue)
const state = {
  desc: null, result: null, change: {values: {}, variants: [], rules_off: [], sites: {}},
  shown: null, charts: [], controller: null, poll: null, renders: 0, lastMs: null,
};
window.refuge = state;

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
};

function fmt(x, signed = false) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  const a = Math.abs(x);
  let t = a >= 100 || Number.isInteger(x) ? Math.round(x).toLocaleString("en") :
          a >= 10 ? x.toFixed(1) : a >= 0.01 || a === 0 ? x.toFixed(2) : x.toPrecision(2);
  if (t === "-0" || t === "-0.0" || t === "-0.00") t = "0";
  return signed && !t.startsWith("-") && Number(t.replace(/,/g, "")) !== 0 ? "+" + t : t;
}
// `label (unit)`, unless the label already names its unit ("people landed" is in people)
const withUnit = (label, unit) => !unit || new RegExp(`\\b${unit.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`, "i").test(label) ?
  label : `${label} (${unit})`;
const band = (m, lo, hi) => `${fmt(m)} [${fmt(lo)}–${fmt(hi)}]`;

function showError(msg) {
  $("error").hidden = !msg;
  $("error").textContent = msg || "";
}

async function api(path, body, signal) {
  const opts = body === undefined ? {signal} : {method: "POST", body: JSON.stringify(body), signal,
                                                  headers: {"Content-Type": "application/json"}};
  const res = await fetch(path, opts);
  const data = await res.json();
  return {status: res.status, data};
}

/* ---------- controls ---------- */

function sliderPos(p, v) {
  if (p.high <= p.low) return 500;
  if (p.log && p.low > 0) return Math.round(1000 * Math.log(v / p.low) / Math.log(p.high / p.low));
  return Math.round(1000 * (v - p.low) / (p.high - p.low));
}
function sliderValue(p, pos) {
  const t = pos / 1000;
  const v = p.log && p.low > 0 ? p.low * Math.pow(p.high / p.low, t) : p.low + t * (p.high - p.low);
  return Number(v.toPrecision(3));
}

function buildControls(desc) {
  state.desc = desc;
  state.change = {values: {}, variants: [], rules_off: [], sites: {}};
  $("title").textContent = desc.title;
  $("description").textContent = desc.description || "";
  $("description").title = desc.description || "";
  $("period").textContent = `${desc.start} to ${desc.end} · scenario ${desc.name} (${desc.origin}) · ` +
    `${desc.parameters.length} parameters (${desc.parameters.filter((p) => p.prior).length} with a prior) · ` +
    `${desc.evidence} facts cited` + (posteriorNames(desc).length ? ` · ${posteriorNames(desc).length} ` +
    `parameter${posteriorNames(desc).length === 1 ? "" : "s"} drawn from the posterior in ${desc.posterior.folder}` : "") + (desc.posterior && desc.posterior.note ?
    ` (${desc.posterior.note})` : "");
  document.title = `${desc.title} — refuge what if`;
  if (desc.runs && !state.runsSet) { $("runs").value = desc.runs; state.runsSet = true; }
  const pick = $("scenario-pick");
  pick.replaceChildren(...desc.builtins.map((n) => el("option", {value: n, text: n, selected: n === desc.name})));
  if (!desc.builtins.includes(desc.name)) pick.prepend(el("option", {value: "", text: desc.origin, selected: true}));

  $("variants").replaceChildren(...(desc.variants.length ? desc.variants.map((v) => el("label", {class: "check",
      title: Object.entries(v.set).map(([k, x]) => `${k} = ${x}`).join(", ")},
    el("input", {type: "checkbox", "data-variant": v.name, onchange: (e) => {
      const on = new Set(state.change.variants);
      e.target.checked ? on.add(v.name) : on.delete(v.name);
      state.change.variants = desc.variants.map((x) => x.name).filter((n) => on.has(n));
      lockSliders();
      run();
    }}),
    el("span", {}, el("b", {text: v.name}), v.description ? " — " + v.description : ""))) :
    [el("p", {class: "note", text: "The scenario declares no variants."})]));

  $("params").replaceChildren(...desc.parameters.map(paramControl));
  $("params-box").hidden = !desc.parameters.length;

  $("rules").replaceChildren(...(desc.rules.length ? desc.rules.map((r) => el("label", {class: "check",
      title: r.description},
    el("input", {type: "checkbox", checked: true, "data-rule": r.name, onchange: (e) => {
      const off = new Set(state.change.rules_off);
      e.target.checked ? off.delete(r.name) : off.add(r.name);
      state.change.rules_off = desc.rules.map((x) => x.name).filter((n) => off.has(n));
      run();
    }}),
    el("span", {}, el("b", {text: r.name}), r.description ? " — " + r.description : ""))) :
    [el("p", {class: "note", text: "The scenario has no rules."})]));

  $("sites").replaceChildren(...(desc.sites.length ? desc.sites.map(siteControl) :
    [el("p", {class: "note", text: "The scenario has no sites."})]));
  buildPicker(desc);
}

const posteriorNames = (desc) => Object.keys((desc.posterior && desc.posterior.parameters) || {});

/* A parameter with a prior: a slider over the prior's range; any other (capacities, shares, durations): a number.
   A parameter drawn from a posterior starts at its posterior median and says so; moving it sets one value for
   every run instead of each run's draw. */
function paramControl(p) {
  const unit = p.unit ? " " + p.unit : "";
  const drawn = state.desc.posterior && state.desc.posterior.parameters[p.name];
  const value = el("span", {class: "value", text: drawn ? "drawn" : `${fmt(p.value)}${unit}`});
  const note = drawn ? el("div", {class: "drawn", text: `each run draws it from the posterior: median ` +
    `${fmt(drawn.median)}${unit} [90%: ${fmt(drawn.low)}–${fmt(drawn.high)}]`}) : null;
  const tip = [p.description, ...(p.roles || []), ...(p.sources || []), p.assumption ? "assumption (no source)" : null]
    .filter(Boolean).join("\n");
  const set = (v) => {
    value.textContent = `${fmt(v)}${unit}`;
    value.classList.toggle("changed", drawn || v !== p.value);
    if (v === p.value && !drawn) delete state.change.values[p.name]; else state.change.values[p.name] = v;
    if (note) note.textContent = `one value for every run instead of each run's draw (posterior median ` +
      `${fmt(drawn.median)}${unit}); "Back to the scenario" draws it again`;
    run();
  };
  const roles = (p.roles || []).length ? el("div", {class: "roles", text: p.roles.join(", ")}) : null;
  if (!p.prior) {
    const input = el("input", {type: "number", step: "any", min: 0, value: drawn ? drawn.median : p.value,
      "data-param": p.name,
      "aria-label": p.name, title: tip});
    input.addEventListener("change", () => {
      const v = input.value === "" ? p.value : Number(input.value);
      if (!Number.isFinite(v)) { showError(`${p.name}: expected a number`); return; }
      set(v);
    });
    return el("div", {class: "param number", "data-name": p.name, title: tip},
      el("div", {class: "head"}, el("span", {class: "name", text: p.name}), value), roles, note, input);
  }
  const input = el("input", {type: "range", min: 0, max: 1000, step: 1,
    value: sliderPos(p, drawn ? Math.min(p.high, Math.max(p.low, drawn.median)) : p.value),
    "data-param": p.name, "aria-label": p.name, title: tip});
  input.addEventListener("input", () => {
    const v = sliderValue(p, Number(input.value));
    value.textContent = `${fmt(v)}${unit}`;
    value.classList.toggle("changed", v !== p.value);
  });
  input.addEventListener("change", () => set(sliderValue(p, Number(input.value))));
  return el("div", {class: "param", "data-name": p.name, title: tip},
    el("div", {class: "head"}, el("span", {class: "name", text: p.name}), value), roles, note, input,
    el("div", {class: "range"}, el("span", {text: fmt(p.low)}), el("span", {text: p.assumption ? "assumption" :
      "sourced"}), el("span", {text: fmt(p.high)})));
}

function siteChange(s) {
  return state.change.sites[s.name] || (state.change.sites[s.name] = {});
}

function siteControl(s) {
  const box = el("div", {class: "site", "data-site": s.name});
  const cap = el("input", {type: "number", min: 0, step: 1, value: s.capacity ?? "",
    "aria-label": `room (people) in ${s.title}`,
    title: s.capacity_parameter ? `capacity from parameter ${s.capacity_parameter}` : "capacity"});
  cap.addEventListener("change", () => {
    const v = cap.value === "" ? null : Number(cap.value);
    if (v === null || v === Number(s.capacity)) delete siteChange(s).capacity; else siteChange(s).capacity = v;
    tidySite(s);
    run();
  });
  const list = el("div");
  const closures = s.closed.map((c) => ({...c, on: true}));
  const sync = () => {
    const kept = closures.filter((c) => c.on).map(({from, to}) => ({from, to}));
    const same = kept.length === s.closed.length && closures.every((c, i) => i >= s.closed.length || c.on);
    if (same) delete siteChange(s).closed; else siteChange(s).closed = kept;
    tidySite(s);
  };
  const draw = () => list.replaceChildren(...closures.map((c) => el("label", {class: "check"},
    el("input", {type: "checkbox", checked: c.on, onchange: (e) => { c.on = e.target.checked; sync(); run(); }}),
    el("span", {text: `closed ${c.from} to ${c.to}`}))));
  draw();
  const from = el("input", {type: "date", min: state.desc.start, max: state.desc.end, "aria-label": "closed from"});
  const to = el("input", {type: "date", min: state.desc.start, max: state.desc.end, "aria-label": "closed to"});
  const add = el("button", {type: "button", text: "Close", onclick: () => {
    if (!from.value || !to.value) { showError(`closure of ${s.title}: give both dates (closed from, to)`); return; }
    closures.push({from: from.value, to: to.value, on: true});
    draw(); sync(); run();
  }});
  box.append(el("b", {text: s.title, title: named(s, "")}),
    ...(s.description ? [el("div", {class: "note", text: s.description})] : []),
    el("label", {text: "room (people)"}), cap, list,
    el("div", {class: "row"}, el("label", {}, "closed from", from), el("label", {}, "to", to), add));
  return box;
}

function tidySite(s) {
  if (state.change.sites[s.name] && !Object.keys(state.change.sites[s.name]).length) delete state.change.sites[s.name];
}

function lockSliders() {
  const set = {};
  for (const v of state.desc.variants) if (state.change.variants.includes(v.name)) Object.assign(set, v.set);
  for (const div of document.querySelectorAll(".param")) {
    const locked = div.dataset.name in set;
    div.classList.toggle("locked", locked);
    div.querySelector("input").disabled = locked;
  }
}

// A tooltip's text, led by the name in the scenario file when a label titles the thing on the page.
const named = (x, text) => x.title && x.title !== x.name ? [`${x.name} in the scenario file`, text].filter(Boolean)
  .join(": ") : text;
const siteTitle = (name) => (state.desc.sites.find((s) => s.name === name) || {title: name}).title;
const stateTitle = (name) => (state.desc.states.find((s) => s.name === name) || {title: name}).title;

function buildPicker(desc) {
  const groups = [
    ["sites", desc.sites.map((s) => ({key: `site:${s.name}`, label: s.title, tip: named(s, s.description)}))],
    ["states", desc.states.map((s) => ({key: `state:${s.name}`, label: s.title,
      tip: named(s, [s.site ? `in site ${siteTitle(s.site)}` : "", s.description].filter(Boolean).join(": "))}))],
    ["transitions", desc.transitions.map((t) => ({key: `flow:${t.name}`, label: t.title,
      tip: named(t, [`${stateTitle(t.from)} → ${t.to.map(stateTitle).join(", ")}`, t.description]
        .filter(Boolean).join(": "))}))],
  ].filter(([, options]) => options.length);
  const options = groups.flatMap(([, o]) => o);
  if (!state.shown || !options.some((o) => state.shown.has(o.key))) {
    const sites = desc.sites.map((s) => `site:${s.name}`);
    state.shown = new Set(sites.length ? sites.slice(0, 6) : options.slice(0, 4).map((o) => o.key));
  }
  $("pick").replaceChildren(...groups.map(([name, opts]) => el("div", {class: "group", "data-group": name},
    el("span", {class: "group-name", text: name + ":"}),
    ...opts.map((o) => el("label", {title: o.tip || o.key},
      el("input", {type: "checkbox", "data-show": o.key, checked: state.shown.has(o.key), onchange: (e) => {
        e.target.checked ? state.shown.add(o.key) : state.shown.delete(o.key);
        if (state.result) drawCharts(state.result);
      }}), o.label)))));
}

/* ---------- running ---------- */

async function run() {
  showError("");
  if (state.controller) state.controller.abort();
  const controller = new AbortController();
  state.controller = controller;
  const t0 = performance.now();
  const runs = Number($("runs").value) || 50;
  setBusy(true, `Running ${runs} runs…`);
  try {
    const {status, data} = await api("/api/run", {change: state.change, runs}, controller.signal);
    if (controller !== state.controller) return;  // a newer change is on its way
    if (status === 409 || data.cancelled) { setBusy(false, "Cancelled."); return; }
    if (data.error) { setBusy(false, "Not run: see the message below."); showError(data.error); return; }
    state.result = data;
    draw(data);
    state.lastMs = performance.now() - t0;
    setBusy(false, `${data.runs} runs ${data.changed ? "of the changed scenario and the baseline" :
      "of the scenario"} (seeds ${data.seed}–${data.seed + data.runs - 1}` + (posteriorNames(state.desc).length ?
      `; run r takes posterior draw r, in the baseline and the change alike` : "") + `); answered in ` +
      `${(state.lastMs / 1000).toFixed(2)} s`);
    state.renders += 1;
    document.body.dataset.renders = String(state.renders);
  } catch (err) {
    if (err.name === "AbortError") return;
    setBusy(false, "Not run.");
    showError(`The page could not reach refuge: ${err.message}`);
  } finally {
    if (controller === state.controller) state.controller = null;
  }
}

function setBusy(busy, text) {
  $("status").classList.toggle("busy", busy);
  $("status-text").textContent = text;
  $("cancel").hidden = !busy;
  $("progress").hidden = true;
  clearInterval(state.poll);
  if (busy) {
    state.poll = setInterval(async () => {
      try {
        const {data} = await api("/api/progress");
        if (data.total) {
          $("progress").hidden = false;
          $("progress").max = data.total;
          $("progress").value = data.done;
        }
      } catch (err) { /* the answer itself reports problems */ }
    }, 300);
  }
}

async function cancel() {
  if (state.controller) state.controller.abort();
  state.controller = null;
  await api("/api/cancel", {});
  setBusy(false, "Cancelled: the page shows the last finished results.");
}

/* ---------- drawing ---------- */

function draw(r) {
  drawOutcomes(r);
  drawCharts(r);
  drawMissions(r);
  drawStays(r);
  drawEvidence(r);
  $("runs-note").textContent = r.changed ? `changed scenario against the baseline, ${r.runs} paired runs` :
    `the scenario as loaded, ${r.runs} runs (move a control to compare)`;
}

function drawOutcomes(r) {
  const head = el("tr", {}, el("th", {text: "outcome (whole period, per run)"}), el("th", {class: "n", text: "baseline"}),
    el("th", {class: "n", text: "changed"}), el("th", {class: "n", text: "difference: median [90% of runs]"}),
    el("th", {class: "n", text: "mean difference [95% CI]"}));
  const rows = r.outcomes.map((o) => {
    const cls = o.difference > 0 ? "up" : o.difference < 0 ? "down" : "";
    return el("tr", {"data-outcome": o.key}, el("td", {text: withUnit(o.label, o.unit)}), el("td", {class: "n", text: fmt(o.baseline)}),
      el("td", {class: "n", text: fmt(o.value)}),
      el("td", {class: "n " + cls, text: `${fmt(o.difference, true)} [${fmt(o.low, true)}, ${fmt(o.high, true)}]`}),
      el("td", {class: "n", text: `${fmt(o.mean_difference, true)} [${fmt(o.mean_low, true)}, ${fmt(o.mean_high, true)}]`}));
  });
  $("outcomes").replaceChildren(head, ...rows);
}

function chartWidth(container) {
  const w = container.clientWidth;
  return Math.max(240, Math.floor((w - 12) / 2) - 14);
}

function destroyCharts() {
  for (const c of state.charts) c.destroy();
  state.charts = [];
}

function bandSeries(label, color) {
  const faint = {stroke: "transparent", width: 0, points: {show: false}};
  return [
    {label: "5%", ...faint}, {label: "25%", ...faint},
    {label, stroke: color, width: 1.6, points: {show: false}},
    {label: "75%", ...faint}, {label: "95%", ...faint},
  ];
}

function timeChart(target, title, x, s, width) {
  const series = [{}, ...bandSeries("changed median", COLOR),
    {label: "baseline median", stroke: BASE, width: 1.3, dash: [5, 3], points: {show: false}}];
  const data = [x, ...s.q, s.base];
  if (s.room) { series.push({label: "room", stroke: "#666", width: 1, dash: [2, 3], points: {show: false}}); data.push(s.room); }
  const opts = {
    width, height: 210, legend: {show: false}, cursor: {drag: {x: false, y: false}},
    series, bands: [{series: [5, 1], fill: "rgba(0,114,178,0.13)"}, {series: [4, 2], fill: "rgba(0,114,178,0.28)"}],
    scales: {y: {range: (u, lo, hi) => [0, Math.max(1, hi) * 1.05]}},
    axes: [{}, {label: s.unit || "people", size: 56, labelSize: 18}],
  };
  const box = el("div", {class: "chart", "data-series": title.key}, el("h4", {text: title.text, title: title.key}));
  target.append(box);
  state.charts.push(new uPlot(opts, data, box));
}

function drawCharts(r) {
  destroyCharts();
  const target = $("charts");
  target.replaceChildren();
  const width = chartWidth(target);
  for (const key of state.shown) {
    const s = r.series[key];
    if (s) timeChart(target, {key, text: s.title}, r.x, s, width);
  }
  drawYearly(r);
}

function drawYearly(r) {
  const target = $("yearly");
  target.replaceChildren();
  const width = chartWidth(target);
  for (const y of r.yearly) {
    const series = [{label: "year"},
      {label: "5%", stroke: "transparent", points: {show: false}},
      {label: "changed median", stroke: COLOR, width: 1.6, points: {show: true, size: 5}},
      {label: "95%", stroke: "transparent", points: {show: false}},
      {label: "baseline median", stroke: BASE, width: 1.3, dash: [5, 3], points: {show: false}}];
    const opts = {width, height: 190, legend: {show: false}, cursor: {drag: {x: false, y: false}}, series,
      bands: [{series: [3, 1], fill: "rgba(0,114,178,0.18)"}],
      // years on their own ticks, half a year of room either side (one year alone is not spread over 0-4000)
      scales: {x: {time: false, range: () => [r.years[0] - 0.5, r.years[r.years.length - 1] + 0.5]},
        y: {range: (u, lo, hi) => [0, Math.max(1, hi) * 1.05]}},
      axes: [{splits: () => r.years.filter((y, i) => i % Math.ceil(r.years.length / 8) === 0),
              values: (u, ticks) => ticks.map((t) => String(t))},
             {label: `${y.unit || "people"} per year`, size: 56, labelSize: 18}]};
    const box = el("div", {class: "chart", "data-yearly": y.name}, el("h4", {text: y.label}));
    target.append(box);
    state.charts.push(new uPlot(opts, [r.years, y.q[0], y.q[1], y.q[2], y.base], box));
  }
}

function drawMissions(r) {
  const cols = [["entries", "people entering"], ["peak_occupancy", "peak occupancy"], ["days_closed", "days closed"],
                ["days_in_site_mean", "days in the site: mean"], ["days_in_site_median", "median"],
                ["days_in_site_p90", "90% within"], ["still_inside", "still inside at the end"]];
  const head = el("tr", {}, el("th", {text: "site"}), ...cols.map(([, l]) => el("th", {class: "n", text: l})));
  const rows = r.missions.map((m) => el("tr", {}, el("td", {class: "name", text: m.title,
      title: m.title === m.mission ? "" : `${m.mission} in the scenario file`}),
    ...cols.map(([k]) => el("td", {class: "n", text: m[k] ? band(m[k][1], m[k][0], m[k][2]) : "–"}))));
  $("missions").replaceChildren(head, ...(rows.length ? rows : [el("tr", {}, el("td", {text: "The scenario has no sites."}))]));
}

function drawStays(r) {
  const cols = [["people", "people who stayed"], ["days_median", "days: median"], ["days_p90", "90% within"],
                ["days_longest", "longest"]];
  const head = el("tr", {}, el("th", {text: "state"}), ...cols.map(([, l]) => el("th", {class: "n", text: l})));
  const rows = r.stays.map((s) => el("tr", {"data-state": s.state}, el("td", {class: "name", text: s.title,
      title: s.title === s.state ? "" : `${s.state} in the scenario file`}),
    ...cols.map(([k]) => el("td", {class: "n", text: s[k] ? band(s[k][1], s[k][0], s[k][2]) : "–"}))));
  $("stays").replaceChildren(head, ...(rows.length ? rows :
    [el("tr", {}, el("td", {text: "No state's time in state is tracked."}))]));
}

function drawEvidence(r) {
  const head = el("tr", {}, el("th", {text: "fact"}), el("th", {class: "n", text: "bound"}),
    el("th", {class: "n", text: "simulated: median [90%]"}), el("th", {class: "n", text: "runs holding"}),
    el("th", {class: "n", text: "score", title: "share of runs holding over the best share any rate could reach (1: as often as a model of its kind can)"}),
    el("th", {class: "n", text: "baseline: runs holding"}));
  const rows = r.evidence.map((f) => el("tr", {"data-fact": f.id},
    el("td", {class: "fact"}, el("b", {text: f.id}), f.required ? " (required)" : "", ": " + f.fact,
      el("div", {class: "id", text: `${f.source}; ${f.when}`})),
    el("td", {class: "n", text: f.bound}),
    el("td", {class: "n " + (f.holds_median ? "holds" : "fails"),
      text: `${f.holds_median ? "✓" : "✗"} ${band(f.median, f.low, f.high)}`}),
    el("td", {class: "n", text: `${Math.round(100 * f.share_holding)}%`}),
    el("td", {class: "n", text: f.scores && f.scores.score !== undefined && f.scores.score !== null ?
      f.scores.score.toFixed(2) : "–"}),
    el("td", {class: "n", text: `${f.base_holds ? "✓" : "✗"} ${Math.round(100 * f.base_share)}%`})));
  $("evidence").replaceChildren(head, ...(rows.length ? rows : [el("tr", {}, el("td", {text: "The scenario cites no facts."}))]));
}

/* ---------- start ---------- */

async function loadScenario(body) {
  showError("");
  setBusy(true, "Loading the scenario…");
  const {data} = body ? await api("/api/scenario", body) : await api("/api/scenario");
  if (data.error) { setBusy(false, "The scenario was not loaded."); showError(data.error); return false; }
  state.shown = null;
  buildControls(data);
  await run();
  return true;
}

function resetAll() {
  buildControls(state.desc);
  run();
}

window.addEventListener("DOMContentLoaded", () => {
  $("scenario-pick").addEventListener("change", (e) => { if (e.target.value) loadScenario({builtin: e.target.value}); });
  $("scenario-file").addEventListener("change", async (e) => {
    const f = e.target.files[0];
    if (f) await loadScenario({yaml: await f.text(), filename: f.name});
    e.target.value = "";
  });
  $("rerun").addEventListener("click", run);
  $("runs").addEventListener("change", run);
  $("reset").addEventListener("click", resetAll);
  $("cancel").addEventListener("click", cancel);
  $("dl-report").addEventListener("click", async (e) => {
    e.preventDefault();  // fetched, so the page can say it is working and report a problem
    setBusy(true, "Building the report (runs and figures)…");
    try {
      const res = await fetch("/download/report.html");
      if (!res.ok) { const d = await res.json(); throw new Error(d.error || res.statusText); }
      const url = URL.createObjectURL(await res.blob());
      const a = el("a", {href: url, download: `${state.desc.name}-report.html`});
      document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      setBusy(false, "Report downloaded.");
    } catch (err) { setBusy(false, "No report."); showError(`report: ${err.message}`); }
  });
  let resize;
  window.addEventListener("resize", () => {
    clearTimeout(resize);
    resize = setTimeout(() => { if (state.result) { drawCharts(state.result); } }, 150);
  });
  loadScenario();
});
