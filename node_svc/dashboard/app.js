// Lingua node dashboard: polls the node's JSON API (same origin) and draws plain <canvas> charts.
// No framework, no build step, nothing fetched from anywhere but this node.
'use strict';

const $ = (sel) => document.querySelector(sel);
let clockOffsetMs = 0; // node clock minus browser clock
let pairing = null; // {code, expires_at_unix_ms}
let connected = false;

// ---- helpers ---------------------------------------------------------------------------------------

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

async function api(path, options) {
  const response = await fetch(path, { cache: 'no-store', ...options });
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (!response.ok) throw new Error((body && body.error) || `${response.status} ${response.statusText}`);
  return body;
}

function post(path, data) {
  return api(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(data || {}) });
}

const nodeNow = () => Date.now() + clockOffsetMs;
const short = (id) => (id && id.length > 12 ? id.slice(0, 8) + '…' : id || '');
const pct = (v) => (v === null || v === undefined ? '—' : `${Number(v).toFixed(0)} %`);
const ms = (v) => (v === null || v === undefined ? '—' : `${Math.round(v).toLocaleString('en-US')} ms`);
const clock = (unixMs) => new Date(unixMs - clockOffsetMs).toLocaleTimeString([], { hour12: false });

function bytes(n) {
  if (!n && n !== 0) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i += 1; }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function duration(s) {
  if (s === null || s === undefined || !isFinite(s)) return '—';
  s = Math.max(0, Math.round(s));
  return s >= 60 ? `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s` : `${s} s`;
}

function setBadge(node, text, kind) {
  node.textContent = text;
  node.className = `badge ${kind || text.replace(/\s+/g, '-')}`;
}

function banner(message) {
  const b = $('#banner');
  b.hidden = !message;
  b.textContent = message || '';
}

// ---- charts ------------------------------------------------------------------------------------------

class Chart {
  constructor(canvas, series) {
    this.canvas = canvas;
    this.series = series; // [{key, color}]
  }

  draw(samples, now, emptyText) {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth || 300;
    const h = c.clientHeight || 120;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const pad = { l: 30, r: 6, t: 6, b: 16 };
    const pw = w - pad.l - pad.r;
    const ph = h - pad.t - pad.b;
    const span = samples.length ? Math.max(60000, now - samples[0].t_unix_ms) : 60000;
    const x = (t) => pad.l + pw * (1 - (now - t) / span);
    const y = (v) => pad.t + ph * (1 - Math.min(100, Math.max(0, v)) / 100);
    g.font = '10px system-ui, sans-serif';
    g.fillStyle = '#8b95a7';
    g.strokeStyle = '#2a3242';
    g.lineWidth = 1;
    for (const v of [0, 50, 100]) {
      g.beginPath();
      g.moveTo(pad.l, Math.round(y(v)) + 0.5);
      g.lineTo(w - pad.r, Math.round(y(v)) + 0.5);
      g.stroke();
      g.fillText(`${v}%`, 2, y(v) + 3);
    }
    g.fillText(`-${Math.round(span / 1000)} s`, pad.l, h - 3);
    g.fillText('now', w - pad.r - 20, h - 3);
    if (!samples.length && emptyText) {
      g.textAlign = 'center';
      g.font = '12px system-ui, sans-serif';
      g.fillText(emptyText, pad.l + pw / 2, pad.t + ph * 0.3);
      g.textAlign = 'start';
    }
    for (const s of this.series) {
      const pts = samples.map((p) => [x(p.t_unix_ms), y(p[s.key])]);
      if (!pts.length) continue;
      g.beginPath();
      pts.forEach(([px, py], i) => (i ? g.lineTo(px, py) : g.moveTo(px, py)));
      g.strokeStyle = s.color;
      g.lineWidth = 1.75;
      g.stroke();
      if (s.fill) {
        g.lineTo(pts[pts.length - 1][0], y(0));
        g.lineTo(pts[0][0], y(0));
        g.closePath();
        g.fillStyle = s.fill;
        g.fill();
      }
    }
    c.dataset.samples = String(samples.length);
  }
}

const charts = {
  cpu: new Chart($('#chart-cpu'), [{ key: 'cpu', color: '#4fa3ff', fill: 'rgba(79,163,255,0.15)' }]),
  mem: new Chart($('#chart-mem'), [{ key: 'mem', color: '#b48cff', fill: 'rgba(180,140,255,0.15)' }]),
  gpu: new Chart($('#chart-gpu'), [
    { key: 'gpu', color: '#3fcf8e', fill: 'rgba(63,207,142,0.12)' },
    { key: 'gpu_mem', color: '#f0b429' },
  ]),
};

// ---- status --------------------------------------------------------------------------------------------

async function refreshStatus() {
  const s = await api('/api/status');
  clockOffsetMs = s.now_unix_ms - Date.now();
  if (!s.agent) {
    setBadge($('#node-state'), 'no agent', 'offline');
    connected = false;
    $('#pairing-btn').disabled = true;
    return;
  }
  $('#node-id').textContent = s.node_id || '(not registered yet)';
  $('#node-name').textContent = s.display_name ? `· ${s.display_name}` : '';
  document.title = `Lingua node ${s.display_name || short(s.node_id)}`;
  $('#node-meta').textContent = `v${s.version} · ${s.platform} · up ${duration(s.uptime_s)} · ` +
    `${s.max_concurrent_jobs} job slot${s.max_concurrent_jobs === 1 ? '' : 's'}`;
  setBadge($('#node-state'), s.state);
  setBadge($('#connection'), s.connection);
  $('#scheduler').textContent = s.scheduler;
  connected = s.connection === 'connected';
  $('#pairing-btn').disabled = !connected;
  const hw = s.hardware;
  const gpus = hw.gpus.length ? hw.gpus.map((gpu) => `${gpu.name} (${bytes(gpu.memory_mb * 1e6)})`).join(', ') : 'no GPU';
  $('#hardware').textContent = `${hw.cpu_cores} cores · ${bytes(hw.memory_mb * 1e6)} RAM · ${gpus}`;
  const now = s.now || {};
  $('#cpu-now').textContent = pct(now.cpu);
  $('#mem-now').textContent = pct(now.mem);
  $('#gpu-now').textContent = hw.gpus.length ? `${pct(now.gpu)} · mem ${pct(now.gpu_mem)}` : 'none';
  const t = s.now_unix_ms;
  charts.cpu.draw(s.samples, t);
  charts.mem.draw(s.samples, t);
  charts.gpu.draw(hw.gpus.length ? s.samples : [], t, 'no GPU on this node');
  $('#chart-gpu').dataset.samples = String(s.samples.length);
  if (s.pairing_code && (!pairing || pairing.code !== s.pairing_code.code)) {
    pairing = s.pairing_code; // e.g. after a reload of the page
    showPairing();
  }
}

// ---- jobs -----------------------------------------------------------------------------------------------

function jobCells(j) {
  return [
    el('td', { title: `${j.job_id} (attempt ${j.attempt_id})` }, el('code', {}, short(j.job_id))),
    el('td', { title: j.session_id }, el('code', {}, short(j.session_id))),
    el('td', { class: 'num' }, j.utterance_index),
    el('td', {}, `${j.src_lang || '?'} → ${j.tgt_lang || '?'}`),
    el('td', {}, clock(j.started_unix_ms)),
  ];
}

async function refreshJobs() {
  const data = await api('/api/jobs');
  const current = $('#current-jobs tbody');
  current.replaceChildren(...data.current.map((j) => el('tr', { dataset: { jobId: j.job_id } },
    jobCells(j), el('td', { class: 'num' }, ms(j.elapsed_ms)))));
  $('#current-jobs').hidden = !data.current.length;
  $('#no-current').hidden = !!data.current.length;
  const recent = $('#recent-jobs tbody');
  recent.replaceChildren(...data.recent.map((j) => {
    const t = j.timings || {};
    return el('tr', { dataset: { jobId: j.job_id, outcome: j.outcome }, title: j.error || '' },
      jobCells(j),
      el('td', { class: 'num duration' }, ms(j.duration_ms)),
      el('td', {}, el('span', { class: `badge ${j.outcome}` }, j.outcome)),
      ['vad_ms', 'asr_ms', 'mt_ms', 'tts_ms'].map((k) => el('td', { class: `num ${k}` }, k in t ? ms(t[k]) : '—')));
  }));
  $('#recent-jobs').hidden = !data.recent.length;
  $('#no-recent').hidden = !!data.recent.length;
  $('#jobs-summary').textContent = `${data.current.length} running · ${data.total_finished} finished since start`;
}

// ---- modules -------------------------------------------------------------------------------------------

async function refreshModules() {
  const rows = await api('/api/modules');
  $('#module-list').replaceChildren(...rows.map((m) => {
    let state = 'offered';
    if (!m.enabled) state = 'off';
    else if (!m.available) state = 'unavailable';
    else if (m.error) state = 'failed';
    const toggle = el('button', {
      type: 'button', class: 'small',
      onclick: async (ev) => {
        ev.target.disabled = true;
        try {
          await post(`/api/modules/${encodeURIComponent(m.name)}/${m.enabled ? 'disable' : 'enable'}`);
          $('#modules-error').textContent = '';
        } catch (err) {
          $('#modules-error').textContent = err.message;
        }
        await refreshModules().catch(() => {});
      },
    }, m.enabled ? 'Disable' : 'Enable');
    return el('li', { dataset: { module: m.name, state } },
      el('span', { class: 'mname' }, m.name.replace(/_/g, ' ')),
      el('span', { class: `badge ${state}` }, state),
      m.loaded ? el('span', { class: 'muted small' }, 'loaded') : null,
      toggle,
      m.error ? el('div', { class: 'merr muted small' }, m.error) : null);
  }));
}

// ---- models --------------------------------------------------------------------------------------------

function languages(m) {
  if (m.pairs && m.pairs.length) return m.pairs.map(([a, b]) => `${a}→${b}`).join(' ');
  const cross = m.cross_lingual_languages && m.cross_lingual_languages.length
    ? ` (+${m.cross_lingual_languages.length} cross-lingual)` : '';
  return ((m.languages || []).join(' ') || '—') + cross;
}

let installsActive = false;

async function refreshModels() {
  const data = await api('/api/models');
  $('#engines tbody').replaceChildren(...data.engines.map((m) => el('tr', {},
    el('td', {}, el('code', {}, m.model_id)), el('td', {}, m.version || '—'), el('td', {}, m.kind),
    el('td', {}, languages(m)))));
  $('#engines').hidden = !data.engines.length;
  $('#engines-title').hidden = !data.engines.length;
  $('#models-managed').hidden = !data.configured;
  if (!data.configured) {
    $('#models-status').textContent = 'Model management is not configured on this node.';
    installsActive = false;
    return;
  }
  $('#models-status').textContent = `${data.installed.length} model${data.installed.length === 1 ? '' : 's'} installed.`;
  $('#installed-models tbody').replaceChildren(...data.installed.map((m) => el('tr', { dataset: { modelId: m.model_id, version: m.version || '' } },
    el('td', {}, el('code', {}, m.model_id)), el('td', {}, m.version || '—'), el('td', {}, m.kind || '—'),
    el('td', { class: 'num' }, bytes(m.size_bytes)), el('td', {}, languages(m)), el('td', {}, m.in_use ? 'yes' : 'no'),
    el('td', {}, el('button', {
      type: 'button', class: 'small danger', disabled: !!m.in_use,
      title: m.in_use ? 'in use by the running pipeline' : 'remove this model',
      onclick: async () => {
        if (!window.confirm(`Remove ${m.model_id} ${m.version || ''}?`)) return;
        try {
          await post('/api/models/remove', { model_id: m.model_id, version: m.version || '' });
          $('#models-error').textContent = '';
        } catch (err) {
          $('#models-error').textContent = err.message;
        }
        await refreshModels().catch(() => {});
      },
    }, 'Remove')))));
  installsActive = data.installs.some((i) => !['done', 'failed', 'error', 'cancelled'].includes(i.state));
  $('#installs').replaceChildren(...data.installs.map((i) => {
    const total = i.total_bytes || 0;
    const bar = el('progress', { max: total || 1, value: total ? i.done_bytes : 0 });
    const parts = [`${bytes(i.done_bytes)} / ${total ? bytes(total) : '?'}`];
    if (i.bytes_per_s) parts.push(`${bytes(i.bytes_per_s)}/s`);
    if (i.eta_s !== null && i.eta_s !== undefined && i.state !== 'done') parts.push(`ETA ${duration(i.eta_s)}`);
    return el('li', { dataset: { modelId: i.model_id, state: i.state } },
      el('div', {}, el('code', {}, `${i.model_id} ${i.version || ''}`), ' ', el('span', { class: `badge ${i.state}` }, i.state)),
      bar, el('div', { class: 'muted small' }, parts.join(' · ')),
      i.error ? el('div', { class: 'error' }, i.error) : null);
  }));
}

$('#install-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const modelId = $('#install-model').value.trim();
  const version = $('#install-version').value.trim();
  try {
    await post('/api/models/install', { model_id: modelId, version });
    $('#models-error').textContent = '';
    $('#install-model').value = '';
    $('#install-version').value = '';
  } catch (err) {
    $('#models-error').textContent = err.message;
  }
  await refreshModels().catch(() => {});
});

// ---- pairing -------------------------------------------------------------------------------------------

function showPairing() {
  const code = $('#pairing-code');
  const countdown = $('#pairing-countdown');
  if (!pairing) {
    code.textContent = '';
    countdown.textContent = '';
    return;
  }
  const left = (pairing.expires_at_unix_ms - nodeNow()) / 1000;
  code.textContent = pairing.code;
  code.classList.toggle('expired', left <= 0);
  if (left <= 0) {
    countdown.textContent = 'expired — ask for a new code';
  } else {
    const s = Math.ceil(left);
    countdown.textContent = `expires in ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  }
}

$('#pairing-btn').addEventListener('click', async () => {
  const button = $('#pairing-btn');
  button.disabled = true;
  $('#pairing-error').textContent = '';
  try {
    const got = await post('/api/pairing-code');
    clockOffsetMs = got.now_unix_ms - Date.now();
    pairing = { code: got.code, expires_at_unix_ms: got.expires_at_unix_ms };
    showPairing();
  } catch (err) {
    $('#pairing-error').textContent = err.message;
  } finally {
    button.disabled = !connected;
  }
});

// ---- polling -------------------------------------------------------------------------------------------

function every(ms, fn) {
  const run = async () => {
    try {
      await fn();
      banner('');
    } catch (err) {
      banner(`Lost contact with the node: ${err.message}`);
    }
    setTimeout(run, typeof ms === 'function' ? ms() : ms);
  };
  run();
}

every(1000, refreshStatus);
every(1000, refreshJobs);
every(5000, refreshModules);
every(() => (installsActive ? 1000 : 3000), refreshModels);
setInterval(showPairing, 250);
