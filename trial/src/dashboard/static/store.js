// Client-side mirror of the server state, bounded like it. Pure: no DOM.
export const CAPS = { samples: 240, encounters: 512, throughput: 600, alerts: 200, log: 500 };

export function createStore() {
  return {
    seq: 0,
    clock: 0,
    scenario: null,
    devices: new Map(), // id -> { device, label, role, x, y, t }
    venueStates: new Map(), // venue id -> state
    trust: new Map(), // id -> { state, reason }
    certs: new Map(), // id -> day
    encounters: new Map(), // "device\0peer" -> { key, device, peer, samples: [{t, rssi, raw, attenuation, distance}], edges, windows, last }
    throughput: [],
    alerts: [],
    log: [],
  };
}

function pushCapped(arr, item, cap) {
  arr.push(item);
  if (arr.length > cap) arr.splice(0, arr.length - cap);
}

/** Folds one event into the store; returns the names of the panels it touches. */
export function applyEvent(s, e) {
  if (typeof e.seq === 'number') s.seq = Math.max(s.seq, e.seq);
  if (typeof e.t === 'number') s.clock = Math.max(s.clock, e.t);
  switch (e.type) {
    case 'scenario':
      s.scenario = e;
      s.devices.clear();
      s.venueStates.clear();
      s.encounters.clear();
      return ['map', 'table', 'rssi', 'header'];
    case 'position':
      s.devices.set(e.device, { device: e.device, label: e.label, role: e.role, x: e.x, y: e.y, t: e.t });
      return ['map', 'table'];
    case 'venue-state':
      s.venueStates.set(e.venue, e.state);
      return ['map'];
    case 'trust':
      s.trust.set(e.device, { state: e.state, reason: e.reason });
      return ['map', 'table'];
    case 'certificate':
      s.certs.set(e.device, e.day);
      return ['table'];
    case 'rssi': {
      const enc = encounterOf(s, e);
      pushCapped(enc.samples, { t: e.t, rssi: e.rssi, raw: e.raw, attenuation: e.attenuation, distance: e.distance }, CAPS.samples);
      return ['rssi'];
    }
    case 'encounter': {
      const enc = encounterOf(s, e);
      enc.edges = e.edges;
      enc.windows = e.windows;
      return ['rssi'];
    }
    case 'throughput':
      pushCapped(s.throughput, e, CAPS.throughput);
      return ['throughput'];
    case 'alert':
      pushCapped(s.alerts, e, CAPS.alerts);
      return ['alerts'];
    case 'log':
      pushCapped(s.log, e, CAPS.log);
      return ['log'];
    default:
      return [];
  }
}

/** The pair's entry (made the newest); past CAPS.encounters the least recently updated pair goes. */
function encounterOf(s, e) {
  const key = `${e.device}\u0000${e.peer}`;
  let enc = s.encounters.get(key);
  if (enc) s.encounters.delete(key);
  else enc = { key, device: e.device, peer: e.peer, samples: [], edges: [], windows: [], last: 0 };
  s.encounters.set(key, enc);
  enc.last = e.seq ?? enc.last + 1;
  if (s.encounters.size > CAPS.encounters) s.encounters.delete(s.encounters.keys().next().value);
  return enc;
}

/** The snapshot from /state, as the events that rebuild it. */
export function snapshotEvents(snap) {
  const out = [];
  if (snap.scenario) out.push(snap.scenario);
  out.push(...snap.positions, ...snap.venueStates, ...snap.trust, ...snap.certificates);
  for (const r of snap.rssi) {
    for (const x of r.samples) out.push({ type: 'rssi', device: r.device, peer: r.peer, ...x });
    if (r.windows?.length || r.edges?.length) out.push({ type: 'encounter', device: r.device, peer: r.peer, edges: r.edges, windows: r.windows });
  }
  out.push(...snap.throughput, ...snap.alerts, ...snap.log);
  return out;
}

export function labelOf(s, device) {
  return s.devices.get(device)?.label ?? device;
}

/** Scenario time as T+m:ss (or h:mm:ss). */
export function fmtT(t) {
  const sec = Math.max(0, Math.floor(t));
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const ss = String(sec % 60).padStart(2, '0');
  return h > 0 ? `T+${h}:${String(m).padStart(2, '0')}:${ss}` : `T+${m}:${ss}`;
}
