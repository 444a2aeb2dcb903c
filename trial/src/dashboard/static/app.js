// The dashboard page: snapshot from /state, then live events over SSE.
import { createStore, applyEvent, snapshotEvents, fmtT } from './store.js';
import { MapPanel } from './map.js';
import { ThroughputChart } from './charts.js';
import { EncounterPanel } from './encounters.js';
import { TrustTable, alertList, logList } from './panels.js';

const $ = (id) => document.getElementById(id);
let store = createStore();
const dirty = new Set();
let frame = 0;

const panels = {
  map: new MapPanel($('map'), $('map-waiting')),
  table: new TrustTable($('trust')),
  alerts: alertList($('alerts')),
  log: logList($('log')),
  rssi: new EncounterPanel({ list: $('pairs'), chart: $('rssi-chart'), search: $('pair-search'), count: $('pair-count'), legend: $('bucket-legend') }),
  throughput: new ThroughputChart($('throughput-chart'), $('ledger-height')),
};

function render() {
  frame = 0;
  for (const name of dirty) {
    if (name === 'header') continue;
    panels[name].render(store);
  }
  $('scenario-name').textContent = store.scenario ? `scenario: ${store.scenario.name}` : '';
  $('clock').textContent = store.clock > 0 ? fmtT(store.clock) : '';
  dirty.clear();
  document.body.dataset.seq = String(store.seq);
}

function touch(names) {
  for (const n of names) dirty.add(n);
  if (!frame) frame = requestAnimationFrame(render);
}

function handle(e) {
  if (typeof e.seq === 'number' && e.seq <= store.seq) return; // already folded in
  touch(applyEvent(store, e));
}

async function loadSnapshot() {
  const res = await fetch('/state', { cache: 'no-store' });
  const snap = await res.json();
  if (snap.title) {
    $('title').textContent = snap.title;
    document.title = snap.title;
  }
  store = createStore();
  for (const name of Object.keys(panels)) panels[name].reset?.();
  for (const e of snapshotEvents(snap)) applyEvent(store, e);
  store.seq = snap.seq;
  touch(Object.keys(panels));
  return `${snap.instance}:${snap.seq}`;
}

function setConn(state, text) {
  const el = $('conn');
  el.className = `conn conn-${state}`;
  el.textContent = text;
}

async function main() {
  const after = await loadSnapshot();
  const es = new EventSource(`/events?after=${encodeURIComponent(after)}`);
  let resyncing = null; // events that arrive while a snapshot reloads
  es.onopen = () => setConn('live', 'live');
  es.onerror = () => setConn('lost', 'reconnecting…');
  es.onmessage = (m) => {
    const e = JSON.parse(m.data);
    if (resyncing) resyncing.push(e);
    else handle(e);
  };
  es.addEventListener('reset', async () => {
    if (resyncing) return;
    resyncing = [];
    try {
      await loadSnapshot();
    } finally {
      const pending = resyncing;
      resyncing = null;
      for (const e of pending) handle(e);
    }
  });
}

main().catch((err) => {
  setConn('lost', 'dashboard unavailable');
  console.warn('dashboard: cannot load state', err);
});
