// Client-side mirror of the server state, bounded like it. Pure: no DOM.
export const CAPS = { samples: 600, throughput: 600, alerts: 200, log: 500 };

export function createStore() {
  return {
    seq: 0,
    clock: 0,
    scenario: null,
    devices: new Map(), // id -> { device, label, role, x, y, t }
    venueStates: new Map(), // venue id -> state
    trust: new Map(), // id -> { state, reason }
    certs: new Map(), // id -> day
    encounters: new Map(), // "device\0peer" -> { device, peer, samples: [{t, rssi, attenuation}], last }
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
      const key = `${e.device}\u0000${e.peer}`;
      let enc = s.encounters.get(key);
      if (!enc) s.encounters.set(key, (enc = { key, device: e.device, peer: e.peer, samples: [], last: 0 }));
      pushCapped(enc.samples, { t: e.t, rssi: e.rssi, attenuation: e.attenuation }, CAPS.samples);
      enc.last = e.seq ?? enc.last + 1;
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

/** The snapshot from /state, as the events that rebuild it. */
export function snapshotEvents(snap) {
  const out = [];
  if (snap.scenario) out.push(snap.scenario);
  out.push(...snap.positions, ...snap.venueStates, ...snap.trust, ...snap.certificates);
  for (const r of snap.rssi) for (const x of r.samples) out.push({ type: 'rssi', device: r.device, peer: r.peer, ...x });
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
