"use strict";
// neurohybrid live view. The page is a Foxglove WebSocket client (subprotocol from config.json)
// of the live node's server: it subscribes to the aggregated frames (channel /live/view, JSON,
// at most 20 per second, see neurohybrid/live/view.py), keeps up to max_window_s of them and
// draws the chosen time window on canvases. Its state is window.nhLive (read by the tests).

const KIND_COLORS = ["#9aa3b2", "#f0a04b", "#4c9be8", "#4cc38a"]; // PSP, evoked AP, spontaneous AP, silicon
const WINDOW_CHOICES_S = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600];
const TICK_STEPS_S = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];
const MAX_TICKS = 6;
const OP_MESSAGE_DATA = 0x01;       // Foxglove WebSocket protocol: binary opcode of message data
const MESSAGE_DATA_HEADER = 13;     // opcode (1) + subscription id (4) + log time (8)
const SUBSCRIPTION_ID = 1;
const RECONNECT_MS = 1000;
const CHANGED_CELL_S = 2.0;         // a device programmed this recently is outlined
const RECENT_SHOWN = 8;
const EMPTY_CELL = [38, 43, 51];
const GRID_LINE = "#2e343e";
// matplotlib's viridis at 0, 1/16, ..., 1, interpolated linearly (within 6 of 255 of the original)
const VIRIDIS = [[68, 1, 84], [72, 24, 106], [71, 45, 123], [66, 64, 134], [59, 82, 139], [51, 99, 141],
  [44, 114, 142], [38, 130, 142], [33, 145, 140], [31, 160, 136], [40, 174, 128], [63, 188, 115],
  [94, 201, 98], [132, 212, 75], [173, 220, 48], [216, 226, 25], [253, 231, 37]];

const state = {
  config: null, connected: false, frames: 0, lastSeq: -1, epochNs: null, now: null, windowS: 10, clockOffsetNs: {},
  labs: {}, crossbar: null, crossbarMode: "weight", cellChanged: {},
  plasticity: { counts: null, events: [] }, stimulation: { history: [] },
  links: {}, refusals: { bySource: {}, recent: [] }, malformed: 0,
  arrivals: [], renders: 0, drawnWindowS: null, drawn: {}, cellColors: [], cellSize: 0,
};
window.nhLive = state;

const $ = (id) => document.getElementById(id);

function viridis(x) {
  const v = Math.min(1, Math.max(0, x)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(v));
  const f = v - i;
  return VIRIDIS[i].map((c, k) => Math.round(c + f * (VIRIDIS[i + 1][k] - c)));
}

// -- frames -> state -------------------------------------------------------------------------
function resetData(epochNs) {
  state.epochNs = epochNs;
  state.labs = {};
  state.cellChanged = {};
  state.plasticity.events = [];
  state.stimulation.history = [];
  state.refusals.recent = [];
}

function labState(name) {
  if (!state.labs[name]) {
    state.labs[name] = { t: [], id: [], kind: [], rateT: [], rateHz: [], binS: 0.05,
                         counts: {}, total: 0, idMax: 0, offered: 0, shown: 0, rateNow: null };
  }
  return state.labs[name];
}

function dropBefore(arrays, times, cutoff) {
  let k = 0;
  while (k < times.length && times[k] < cutoff) k++;
  if (k) for (const a of arrays) a.splice(0, k);
}

function applyFrame(f) {
  if (f.seq <= state.lastSeq || f.epoch_ns !== state.epochNs) resetData(f.epoch_ns); // a new session
  state.lastSeq = f.seq;
  state.frames += 1;
  state.arrivals.push(performance.now());
  if (f.now !== null) state.now = f.now;
  const keep = state.config.max_window_s;
  const cutoff = state.now === null ? -Infinity : state.now - keep;
  for (const [name, lab] of Object.entries(f.labs)) {
    const s = labState(name);
    const p = lab.points;
    for (let i = 0; i < p.t.length; i++) { s.t.push(p.t[i]); s.id.push(p.id[i]); s.kind.push(p.kind[i]); }
    lab.rate.hz.forEach((hz, i) => { s.rateT.push(lab.rate.t0 + i * lab.rate.bin_s); s.rateHz.push(hz); });
    s.binS = lab.rate.bin_s;
    s.counts = lab.counts; s.total = lab.total; s.idMax = Math.max(s.idMax, lab.id_max);
    s.offered += lab.offered; s.shown += p.t.length; s.rateNow = lab.rate_hz;
    dropBefore([s.t, s.id, s.kind], s.t, cutoff);
    dropBefore([s.rateT, s.rateHz], s.rateT, cutoff);
  }
  if (f.crossbar) state.crossbar = f.crossbar;
  state.plasticity.counts = { ltp: f.plasticity.ltp, ltd: f.plasticity.ltd };
  for (const e of f.plasticity.recent.new) {
    state.plasticity.events.push(e);
    if (e.accepted) state.cellChanged[e.wordline * (state.crossbar ? state.crossbar.n_bitlines : 32) + e.bitline] = e.t;
  }
  const ev = state.plasticity.events;
  dropBefore([ev], ev.map((e) => e.t), cutoff);
  const st = f.stimulation;
  state.stimulation.total = st;
  state.stimulation.history.push([state.now, st.commands, st.refused, st.delivered]);
  const h = state.stimulation.history;
  dropBefore([h], h.map((r) => r[0]), cutoff);
  state.links = f.links;
  state.clockOffsetNs = f.clock_offset_ns;
  state.refusals.bySource = f.refusals.by_source;
  state.refusals.recent = f.refusals.recent.new.concat(state.refusals.recent).slice(0, RECENT_SHOWN);
  state.malformed = f.malformed;
  requestDraw();
}

// -- drawing ---------------------------------------------------------------------------------
let drawPending = false;
function requestDraw() {
  if (!drawPending) { drawPending = true; requestAnimationFrame(() => { drawPending = false; draw(); }); }
}

function fitCanvas(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  const g = canvas.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  return [g, canvas.clientWidth, canvas.clientHeight];
}

function tickStep(windowS) {
  return TICK_STEPS_S.find((s) => windowS / s <= MAX_TICKS) || TICK_STEPS_S[TICK_STEPS_S.length - 1];
}

function drawTimeGrid(g, w, h, labels) {
  const step = tickStep(state.windowS);
  g.strokeStyle = GRID_LINE; g.fillStyle = "#8a93a3"; g.font = "10px system-ui"; g.textAlign = "center";
  for (let back = 0; back <= state.windowS + 1e-9; back += step) {
    const x = w * (1 - back / state.windowS);
    g.beginPath(); g.moveTo(x, 0); g.lineTo(x, h); g.stroke();
    if (labels) g.fillText(back === 0 ? "now" : `-${+back.toFixed(1)} s`, Math.min(Math.max(x, 14), w - 14), h - 2);
  }
}

function labDom(name) {
  let el = $(`lab-${name}`);
  if (!el) {
    el = document.createElement("div");
    el.className = "lab"; el.id = `lab-${name}`;
    el.innerHTML = `<div class="lab-title">${name} <small class="lab-info"></small></div>` +
      `<canvas class="raster" id="raster-${name}"></canvas><canvas class="rate" id="rate-${name}"></canvas>`;
    $("labs").appendChild(el);
  }
  return el;
}

function drawLab(name, s, left) {
  const el = labDom(name);
  const [g, w, h] = fitCanvas($(`raster-${name}`));
  g.clearRect(0, 0, w, h);
  drawTimeGrid(g, w, h, false);
  const rows = s.idMax + 1;
  let drawn = 0;
  for (let kind = 0; kind < KIND_COLORS.length; kind++) {
    g.fillStyle = KIND_COLORS[kind];
    for (let i = 0; i < s.t.length; i++) {
      if (s.kind[i] !== kind || s.t[i] < left) continue;
      g.fillRect(w * (s.t[i] - left) / state.windowS - 1, h - h * (s.id[i] + 0.5) / rows - 1, 2, 2);
      drawn++;
    }
  }
  state.drawn[name] = drawn;
  const [r, rw, rh] = fitCanvas($(`rate-${name}`));
  r.clearRect(0, 0, rw, rh);
  drawTimeGrid(r, rw, rh, true);
  let max = 1;
  for (let i = 0; i < s.rateT.length; i++) if (s.rateT[i] >= left) max = Math.max(max, s.rateHz[i]);
  const plotH = rh - 12;
  r.strokeStyle = "#4cc38a"; r.fillStyle = "rgba(76,195,138,0.25)"; r.beginPath();
  let first = true;
  for (let i = 0; i < s.rateT.length; i++) {
    if (s.rateT[i] < left) continue;
    const x = rw * (s.rateT[i] + s.binS - left) / state.windowS, y = plotH * (1 - s.rateHz[i] / (1.1 * max));
    if (first) { r.moveTo(x, plotH); first = false; }
    r.lineTo(x, y);
  }
  r.stroke();
  r.fillStyle = "#8a93a3"; r.textAlign = "left"; r.font = "10px system-ui";
  r.fillText(`${Math.round(1.1 * max)} spikes/s`, 2, 10);
  const shown = s.offered ? (100 * s.shown / s.offered).toFixed(s.shown < s.offered ? 1 : 0) : "100";
  el.querySelector(".lab-info").textContent =
    `${s.total.toLocaleString()} events, population rate ${s.rateNow === null ? "-" : s.rateNow.toFixed(1)} spikes/s, ` +
    `${rows} sources, ${shown} % of spikes drawn`;
}

function drawPlasticityStrip(left) {
  const [g, w, h] = fitCanvas($("plasticity-strip"));
  g.clearRect(0, 0, w, h);
  drawTimeGrid(g, w, h, false);
  for (const e of state.plasticity.events) {
    if (e.t < left) continue;
    const x = w * (e.t - left) / state.windowS, up = e.direction === "ltp";
    const y = up ? h * 0.3 : h * 0.7, d = up ? -5 : 5;
    g.beginPath(); g.moveTo(x - 4, y - d / 2); g.lineTo(x + 4, y - d / 2); g.lineTo(x, y + d / 2); g.closePath();
    g.strokeStyle = g.fillStyle = up ? "#4cc38a" : "#f0616d";
    if (e.accepted) g.fill(); else g.stroke();
  }
}

function cellValues() {
  const c = state.crossbar;
  if (!c) return null;
  const values = state.crossbarMode === "weight" ? c.weight : c.resistance_ohm;
  const present = values.filter((v) => v !== null);
  let lo = state.crossbarMode === "weight" ? 0 : Math.min(...present);
  let hi = state.crossbarMode === "weight" ? 1 : Math.max(...present);
  if (!(hi > lo)) { lo -= 1; hi += 1; }
  return { values, lo, hi };
}

function drawCrossbar() {
  const c = state.crossbar;
  const [g, w] = fitCanvas($("crossbar"));
  g.clearRect(0, 0, w, w);
  const v = cellValues();
  if (!v) return;
  const size = Math.floor(w / Math.max(c.n_wordlines, c.n_bitlines));
  state.cellSize = size;
  state.cellColors = [];
  for (let wl = 0; wl < c.n_wordlines; wl++) {
    for (let bl = 0; bl < c.n_bitlines; bl++) {
      const i = wl * c.n_bitlines + bl, value = v.values[i];
      const rgb = value === null ? EMPTY_CELL : viridis((value - v.lo) / (v.hi - v.lo));
      state.cellColors.push(rgb);
      g.fillStyle = `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;
      g.fillRect(bl * size, wl * size, size - 1, size - 1);
      const changed = state.cellChanged[i];
      if (changed !== undefined && state.now - changed < CHANGED_CELL_S) {
        g.strokeStyle = "#ffffff"; g.lineWidth = 1.5; g.strokeRect(bl * size + 0.75, wl * size + 0.75, size - 2.5, size - 2.5);
      }
    }
  }
  const [s, sw, sh] = fitCanvas($("crossbar-scale"));
  for (let x = 0; x < sw; x++) { const rgb = viridis(x / sw); s.fillStyle = `rgb(${rgb})`; s.fillRect(x, 0, 1, sh); }
  const unit = state.crossbarMode === "weight" ? "" : " ohm";
  const digits = state.crossbarMode === "weight" ? 2 : 0;
  const used = v.values.filter((x) => x !== null).length;
  $("crossbar-range").textContent = `${v.lo.toFixed(digits)}${unit} ... ${v.hi.toFixed(digits)}${unit}; ` +
    `${used} devices in use (rows: word lines, columns: bit lines); outlined: programmed in the last ${CHANGED_CELL_S} s`;
  $("crossbar-info").textContent = `${c.n_wordlines} \u00d7 ${c.n_bitlines}, ${state.crossbarMode}`;
}

function inWindow(history, left, column) {
  const first = history.find((r) => r[0] >= left);
  const last = history[history.length - 1];
  return first && last ? last[column] - first[column] : 0;
}

function fmt(x, digits) { return x === null || x === undefined ? "-" : x.toFixed(digits); }

function drawTables(left) {
  const counts = state.plasticity.counts;
  if (counts) {
    for (const d of ["ltp", "ltd"]) {
      $(`${d}-accepted`).textContent = counts[d].accepted;
      $(`${d}-refused`).textContent = counts[d].refused;
      $(`${d}-window`).textContent = state.plasticity.events.filter((e) => e.direction === d && e.t >= left).length;
    }
  }
  $("plasticity-recent").innerHTML = state.plasticity.events.slice(-RECENT_SHOWN).reverse().map((e) =>
    `<li><span class="${e.direction}">${e.direction.toUpperCase()}</span> t=${e.t.toFixed(2)} s synapse ${e.synapse_id} ` +
    `(${e.wordline}, ${e.bitline}) ${fmt(e.r_before_ohm, 0)} &rarr; ${e.accepted ? fmt(e.r_after_ohm, 0) + " ohm" : "refused"}</li>`).join("");
  const st = state.stimulation.total;
  if (st) {
    const h = state.stimulation.history;
    $("stim-delivered").textContent = st.delivered; $("stim-refused").textContent = st.refused;
    $("stim-delivered-window").textContent = inWindow(h, left, 3);
    $("stim-refused-window").textContent = inWindow(h, left, 2);
    const all = Math.max(1, st.delivered + st.refused);
    $("stim-delivered-bar").style.width = `${100 * st.delivered / all}%`;
    $("stim-refused-bar").style.width = `${100 * st.refused / all}%`;
  }
  $("links").querySelector("tbody").innerHTML = Object.entries(state.links).map(([lab, l]) =>
    `<tr><td>${lab} &rarr; ${l.peer_lab}</td><td class="${l.stale ? "stale" : l.link_up ? "up" : "down"}">` +
    `${l.stale ? "stale" : l.link_up ? "up" : "DOWN (watchdog)"}</td><td>${fmt(l.rtt_ms, 2)}</td>` +
    `<td>${fmt(l.clock_offset_ms, 3)} &plusmn; ${fmt(l.uncertainty_ms, 3)}</td><td>${l.late_events}</td>` +
    `<td>${l.sequence_gaps}</td><td>${l.malformed_messages}</td><td>${l.watchdog_trips}</td><td>${l.age_s.toFixed(1)}</td></tr>`).join("");
  $("refusals").querySelector("tbody").innerHTML = Object.entries(state.refusals.bySource).map(([src, c]) =>
    `<tr><td>${src}</td>${["stimulation", "programming", "malformed", "input"].map((k) => `<td>${c[k] || 0}</td>`).join("")}</tr>`).join("");
  $("refusals-recent").innerHTML = state.refusals.recent.map((r) =>
    `<li>${new Date(r.stamp_ns / 1e6).toLocaleTimeString()} ${r.source} [${r.category}] &times;${r.count}: ${escapeHtml(r.reason)}</li>`).join("");
  $("malformed-view").textContent = state.malformed ? `(${state.malformed} malformed messages dropped by the view)` : "";
}

function escapeHtml(text) {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

function draw() {
  if (state.now === null) return;
  const left = state.now - state.windowS;
  for (const [name, s] of Object.entries(state.labs).sort()) drawLab(name, s, left);
  drawPlasticityStrip(left);
  drawCrossbar();
  drawTables(left);
  const t = performance.now();
  state.arrivals = state.arrivals.filter((a) => t - a < 2000);
  $("fps").textContent = (state.arrivals.length / 2).toFixed(1);
  $("now").textContent = state.now.toFixed(1);
  state.renders += 1;
  state.drawnWindowS = state.windowS;
}

// heatmap geometry for tests and tooltips: centre of a device's cell in CSS pixels of the canvas
state.heatmapCell = (wordline, bitline) => ({ x: (bitline + 0.5) * state.cellSize, y: (wordline + 0.5) * state.cellSize });

// -- connection ------------------------------------------------------------------------------
function setConnected(up, text) {
  state.connected = up;
  const badge = $("connection");
  badge.className = `badge ${up ? "up" : "down"}`;
  badge.textContent = text;
}

function connect() {
  const cfg = state.config;
  const ws = new WebSocket(`ws://${location.hostname}:${cfg.ws_port}`, [cfg.subprotocol]);
  ws.binaryType = "arraybuffer";
  const decoder = new TextDecoder();
  ws.onmessage = (event) => {
    if (typeof event.data === "string") {
      const msg = JSON.parse(event.data);
      if (msg.op === "serverInfo") setConnected(true, "live");
      if (msg.op === "advertise") {
        const channel = msg.channels.find((c) => c.topic === cfg.frame_topic);
        if (channel) ws.send(JSON.stringify({ op: "subscribe", subscriptions: [{ id: SUBSCRIPTION_ID, channelId: channel.id }] }));
      }
      return;
    }
    const view = new DataView(event.data);
    if (view.getUint8(0) !== OP_MESSAGE_DATA || view.getUint32(1, true) !== SUBSCRIPTION_ID) return;
    applyFrame(JSON.parse(decoder.decode(new Uint8Array(event.data, MESSAGE_DATA_HEADER))));
  };
  ws.onclose = () => { setConnected(false, "reconnecting"); setTimeout(connect, RECONNECT_MS); };
}

function setupControls() {
  const select = $("window");
  const choices = WINDOW_CHOICES_S.filter((s) => s <= state.config.max_window_s);
  if (!choices.includes(state.config.window_s)) choices.push(state.config.window_s);
  choices.sort((a, b) => a - b);
  select.innerHTML = choices.map((s) => `<option value="${s}">${s} s</option>`).join("");
  select.value = String(state.config.window_s);
  state.windowS = state.config.window_s;
  select.onchange = () => { state.windowS = Number(select.value); requestDraw(); };
  for (const radio of document.querySelectorAll("input[name=crossbar-mode]")) {
    radio.onchange = () => { state.crossbarMode = radio.value; requestDraw(); };
  }
  window.addEventListener("resize", requestDraw);
}

fetch("config.json").then((r) => r.json()).then((cfg) => { state.config = cfg; setupControls(); connect(); });
