import t, { type Test } from 'tap';
import http from 'node:http';
import { isBeepkitError } from '@beepkit/protocol/errors';
import { DashboardServer, DashboardState, DEFAULT_LIMITS, scenarioEvent, validateEvent, type Stamped } from '@beepkit/trial/dashboard';

const PORT = 0; // kernel-chosen: the tests use s.url

const SCENARIO = scenarioEvent({
  name: 'cafe',
  origin: { lat: 55.9486, lon: -3.1999 },
  venues: [{ id: 'beep-cafe', name: 'The Beep Café', center: { x: 0, y: 0 }, radius: 8, beacons: [{ id: 'cafe-door', position: { x: -6, y: 0 } }] }],
});
const pos = (device: string, x: number, y: number, t: number) => ({
  type: 'position',
  device,
  role: 'agent',
  label: device[0].toUpperCase() + device.slice(1),
  x,
  y,
  t,
});
const log = (text: string, t: number) => ({ type: 'log', text, t });

/** Reads one SSE stream into parsed frames; `take(n)` resolves once n data frames have arrived. */
class SseReader {
  frames: { id?: string; event?: string; data: string }[] = [];
  ended = false;
  private buf = '';
  private waiters: (() => void)[] = [];
  readonly req: http.ClientRequest;
  /** resolves with the response headers: the server registers a stream before sending them */
  readonly opened: Promise<void>;
  constructor(url: string, headers: Record<string, string> = {}) {
    let open!: () => void;
    this.opened = new Promise((r) => (open = r));
    this.req = http.get(url, { headers, agent: false }, (res) => {
      open();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => this.feed(chunk));
      res.on('end', () => {
        this.ended = true;
        this.wake();
      });
    });
    this.req.on('error', () => undefined);
  }
  private feed(chunk: string): void {
    this.buf += chunk;
    let i: number;
    while ((i = this.buf.indexOf('\n\n')) >= 0) {
      const block = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      const f: { id?: string; event?: string; data: string } = { data: '' };
      let hasData = false;
      for (const line of block.split('\n')) {
        const m = /^(id|event|data): ?(.*)$/.exec(line);
        if (!m) continue;
        if (m[1] === 'data') {
          f.data += m[2];
          hasData = true;
        } else f[m[1] as 'id' | 'event'] = m[2];
      }
      if (hasData) this.frames.push(f);
    }
    this.wake();
  }
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  async take(n: number): Promise<{ id?: string; event?: string; data: string }[]> {
    while (this.frames.length < n && !this.ended) await new Promise<void>((r) => this.waiters.push(r));
    return this.frames.slice(0, n);
  }
  async waitEnd(): Promise<void> {
    while (!this.ended) await new Promise<void>((r) => this.waiters.push(r));
  }
  close(): void {
    this.req.destroy();
  }
}

async function started(t: Test, opts: Partial<ConstructorParameters<typeof DashboardServer>[0]> = {}): Promise<DashboardServer> {
  const s = new DashboardServer({ port: PORT, title: 'test trial', ...opts });
  await s.start();
  t.teardown(() => s.stop());
  return s;
}

function rejects(t: Test, ev: unknown, code: string, name: string): void {
  try {
    validateEvent(ev);
    t.fail(`${name}: accepted`);
  } catch (e) {
    t.ok(isBeepkitError(e), `${name}: typed error`);
    t.equal((e as { code: string }).code, code, name);
  }
}

t.test('snapshot holds the latest state after events', async (t) => {
  const s = await started(t);
  s.publish(pos('alice', -90, -25, 0));
  t.equal(s.publish(SCENARIO), 2, 'sequence numbers count every event');
  t.equal(s.snapshot().positions.length, 0, 'a new scenario clears the old positions');
  s.publish(pos('alice', -90, -25, 0));
  s.publish(pos('bob', 60, 70, 0));
  s.publish(pos('alice', -10, -2, 300));
  s.publish({ type: 'venue-state', venue: 'beep-cafe', state: 'infected' });
  s.publish({ type: 'trust', device: 'alice', state: 'untrusted' });
  s.publish({ type: 'trust', device: 'alice', state: 'trusted', reason: 'GNSS and beacon agree' });
  s.publish({ type: 'certificate', device: 'alice', day: 20000 });
  for (let i = 0; i < 3; i++) s.publish({ type: 'rssi', device: 'bob', peer: 'enc-1', rssi: -60 - i, attenuation: 50 + i, t: 500 + i });
  s.publish({ type: 'throughput', tracecodesPerSec: 2.5, ledgerHeight: 7, t: 600 });
  s.publish({ type: 'alert', device: 'bob', level: 'high', explanation: 'shared a table with a case for 23 min', t: 3100 });
  s.publish(log('Alice sits down', 360));

  const res = await fetch(new URL('/state', s.url));
  t.equal(res.status, 200);
  const snap = (await res.json()) as ReturnType<DashboardServer['snapshot']>;
  t.equal(snap.title, 'test trial');
  t.equal(snap.seq, 15);
  t.equal(snap.scenario?.name, 'cafe');
  t.same(snap.scenario?.venues[0].beacons, [{ id: 'cafe-door', x: -6, y: 0 }]);
  t.same(
    snap.positions.map((p) => [p.device, p.x, p.y]),
    [
      ['bob', 60, 70],
      ['alice', -10, -2],
    ],
    'latest position per device',
  );
  t.same(
    snap.venueStates.map((v) => [v.venue, v.state]),
    [['beep-cafe', 'infected']],
  );
  t.same(
    snap.trust.map((x) => [x.device, x.state, x.reason]),
    [['alice', 'trusted', 'GNSS and beacon agree']],
  );
  t.same(
    snap.certificates.map((c) => c.day),
    [20000],
  );
  t.same(
    snap.rssi.map((r) => [r.device, r.peer, r.samples.map((x) => x.rssi)]),
    [['bob', 'enc-1', [-60, -61, -62]]],
  );
  t.equal(snap.throughput[0].ledgerHeight, 7);
  t.equal(snap.alerts[0].level, 'high');
  t.equal(snap.log[0].text, 'Alice sits down');

  const health = (await (await fetch(new URL('/healthz', s.url))).json()) as { ok: boolean; seq: number };
  t.same(health, { ok: true, seq: 15, clients: 0 });
});

t.test('publish rejects events outside the schema', async (t) => {
  const s = new DashboardServer({ port: PORT });
  rejects(t, { ...log('x', 1), rpi: '00112233445566778899aabbccddeeff' }, 'E_SCHEMA', 'unknown top-level field');
  const leaky = structuredClone(SCENARIO) as { venues: { beacons: Record<string, unknown>[] }[] };
  leaky.venues[0].beacons[0].venueKey = 'k';
  rejects(t, leaky, 'E_SCHEMA', 'unknown nested field');
  rejects(t, { type: 'trust', device: 'alice', state: 'trusted', pseudonym: 'p' }, 'E_SCHEMA', 'pseudonym field');
  rejects(t, { type: 'position', device: 'alice', role: 'agent', label: 'Alice', x: 1, t: 1 }, 'E_SCHEMA', 'missing field');
  rejects(t, { type: 'tek', device: 'alice' }, 'E_TYPE', 'unknown type');
  rejects(t, 'log', 'E_FORMAT', 'not an object');
  rejects(t, { type: 'venue-state', venue: 'beep-cafe', state: 'purple' }, 'E_RANGE', 'bad enum');
  rejects(t, { type: 'throughput', tracecodesPerSec: Number.NaN, ledgerHeight: 1, t: 1 }, 'E_FORMAT', 'NaN');
  rejects(t, { type: 'rssi', device: 'bob', peer: '0a1b2c3d4e5f6a7b8c9d', rssi: -60, attenuation: 50, t: 1 }, 'E_RANGE', 'peer longer than a short label');
  rejects(t, { type: 'rssi', device: 'bob', peer: 'c0:ff:ee:00:11', rssi: -60, attenuation: 50, t: 1 }, 'E_FORMAT', 'peer with address punctuation');
  rejects(
    t,
    { type: 'alert', device: 'bob', level: 'high', explanation: 'RPI 00112233445566778899aabbccddeeff matched', t: 1 },
    'E_PRIVACY',
    'hex identifier in text',
  );
  rejects(t, log('seen C4:7C:8D:6A:10:2F nearby', 1), 'E_PRIVACY', 'BLE address in text');
  rejects(t, { type: 'trust', device: 'bob', state: 'lost', reason: 'key q3Zt8vR2xLm9PwK4sN7bYc==' }, 'E_PRIVACY', 'base64 key in text');
  t.throws(() => s.publish({ ...log('x', 1), extra: 1 }), { code: 'E_SCHEMA' }, 'publish throws the typed error');
  t.equal(s.snapshot().seq, 0, 'a rejected event leaves no trace');
  t.equal(s.publish(log('Carol passes the door', 1)), 1, 'ordinary narration is accepted');
  t.equal(s.publish({ type: 'rssi', device: 'bob', peer: 'enc-12', rssi: -60, attenuation: 50, t: 1 }), 2, 'short opaque peer label accepted');
});

t.test('the encounter events: bounds of the schema, folded per pair', async (t) => {
  const rssi = (x: Record<string, unknown>) => ({
    type: 'rssi',
    device: 'alice',
    peer: 'bob',
    rssi: -60,
    raw: -61,
    attenuation: 52,
    distance: 1.5,
    t: 10,
    ...x,
  });
  const enc = (x: Record<string, unknown>) => ({
    type: 'encounter',
    device: 'alice',
    peer: 'bob',
    edges: [63, 73, 79],
    windows: [{ start: 10, end: 70, minutes: [1, 0, 0, 0] }],
    ...x,
  });
  t.doesNotThrow(() => validateEvent(rssi({})), 'a full sample');
  t.doesNotThrow(() => validateEvent(enc({})), 'a pair with a window');
  t.doesNotThrow(() => validateEvent(rssi({ raw: undefined, distance: undefined })), 'raw and truth optional');
  rejects(t, rssi({ rssi: -128 }), 'E_RANGE', 'filtered RSSI below HCI range');
  rejects(t, rssi({ raw: 21 }), 'E_RANGE', 'raw RSSI above +20 dBm');
  rejects(t, rssi({ raw: 127 }), 'E_RANGE', 'HCI "not available" (127) is not a reading');
  rejects(t, rssi({ attenuation: 201 }), 'E_RANGE', 'attenuation beyond 200 dB');
  rejects(t, rssi({ distance: -1 }), 'E_RANGE', 'negative distance');
  rejects(t, rssi({ distance: Number.POSITIVE_INFINITY }), 'E_FORMAT', 'infinite distance');
  rejects(t, rssi({ raw: '-60' }), 'E_FORMAT', 'a string for a number');
  rejects(t, rssi({ t: -1 }), 'E_RANGE', 'time before the scenario start');
  rejects(t, rssi({ peer: '0123456789abcdef0123456789abcdef' }), 'E_RANGE', 'an RPI as the peer');
  rejects(t, rssi({ rpi: 'x' }), 'E_SCHEMA', 'an extra field');
  rejects(t, enc({ edges: [73, 63] }), 'E_RANGE', 'edges must ascend');
  rejects(t, enc({ edges: [63, 63] }), 'E_RANGE', 'equal edges');
  rejects(t, enc({ edges: [1, 2, 3, 4, 5, 6, 7, 8, 9] }), 'E_RANGE', 'more than 8 edges');
  rejects(t, enc({ edges: [-1] }), 'E_RANGE', 'an edge below 0 dB');
  rejects(t, enc({ windows: [{ start: 70, end: 10, minutes: [1, 0, 0, 0] }] }), 'E_RANGE', 'a window ending before it starts');
  rejects(t, enc({ windows: [{ start: 10, end: 70, minutes: [1, 0, 0] }] }), 'E_RANGE', 'minutes not one per bucket');
  rejects(t, enc({ windows: [{ start: 10, end: 70, minutes: [-1, 0, 0, 0] }] }), 'E_RANGE', 'negative minutes');
  rejects(t, enc({ windows: [{ start: 10, end: 70, minutes: [1441, 0, 0, 0] }] }), 'E_RANGE', 'more minutes than a day');
  rejects(t, enc({ windows: new Array(33).fill({ start: 1, end: 2, minutes: [0, 0, 0, 0] }) }), 'E_RANGE', 'more than 32 windows');
  rejects(t, enc({ windows: [{ start: 10, end: 70, minutes: [1, 0, 0, 0], rpi: 'x' }] }), 'E_SCHEMA', 'an extra field in a window');
  rejects(t, enc({ windows: 'none' }), 'E_FORMAT', 'windows not a list');

  const st = new DashboardState('t', { ...DEFAULT_LIMITS, encounters: 2, samplesPerEncounter: 3 });
  for (let i = 0; i < 5; i++) st.apply(validateEvent(rssi({ t: i, rssi: -60 - i })));
  st.apply(validateEvent(enc({})));
  st.apply(validateEvent(rssi({ peer: 'carol' })));
  st.apply(validateEvent(rssi({ peer: 'dave' })));
  const snap = st.snapshot();
  t.same(
    snap.rssi.map((r) => r.peer),
    ['carol', 'dave'],
    'pairs bounded: the least recently updated goes',
  );
  const st2 = new DashboardState('t', { ...DEFAULT_LIMITS, samplesPerEncounter: 3 });
  for (let i = 0; i < 5; i++) st2.apply(validateEvent(rssi({ t: i, rssi: -60 - i })));
  st2.apply(validateEvent(enc({})));
  const [bob] = st2.snapshot().rssi;
  t.same(
    bob!.samples.map((x) => [x.t, x.raw, x.distance]),
    [
      [2, -61, 1.5],
      [3, -61, 1.5],
      [4, -61, 1.5],
    ],
    'samples bounded per pair, raw and truth kept',
  );
  t.same([bob!.edges, bob!.windows.length], [[63, 73, 79], 1], 'the windows beside the series');
});

t.test('SSE delivers events in order, resumes, and resets when too far behind', async (t) => {
  const s = await started(t, { limits: { replay: 20 } });
  const live = new SseReader(new URL('/events', s.url).href);
  t.teardown(() => live.close());
  await live.opened;
  t.equal(s.clientCount, 1, 'the stream is registered');
  for (let i = 1; i <= 40; i++) s.publish(log(`line ${i}`, i));
  const frames = await live.take(40);
  const got = frames.map((f) => JSON.parse(f.data) as Stamped & { text: string });
  t.same(
    got.map((e) => e.seq),
    Array.from({ length: 40 }, (_, i) => i + 1),
    'every event, in order',
  );
  t.same(
    frames.map((f) => f.id),
    got.map((e) => `${s.instance}:${e.seq}`),
    'SSE ids are instance:sequence',
  );
  t.equal(got[39].text, 'line 40');

  const resumed = new SseReader(new URL('/events?after=35', s.url).href);
  t.teardown(() => resumed.close());
  t.same(
    (await resumed.take(5)).map((f) => (JSON.parse(f.data) as Stamped).seq),
    [36, 37, 38, 39, 40],
    '?after replays the missed events',
  );

  const byHeader = new SseReader(new URL('/events', s.url).href, { 'last-event-id': `${s.instance}:38` });
  t.teardown(() => byHeader.close());
  t.same(
    (await byHeader.take(2)).map((f) => (JSON.parse(f.data) as Stamped).seq),
    [39, 40],
    'Last-Event-ID resumes too',
  );
  s.publish(log('line 41', 41));
  t.equal((JSON.parse((await byHeader.take(3))[2].data) as Stamped).seq, 41, 'then follows live');

  const behind = new SseReader(new URL('/events?after=3', s.url).href);
  t.teardown(() => behind.close());
  t.equal((await behind.take(1))[0].event, 'reset', 'a gap beyond the replay ring asks the page to reload /state');
  const restarted = new SseReader(new URL('/events', s.url).href, { 'last-event-id': '0badcafe:39' });
  t.teardown(() => restarted.close());
  t.equal((await restarted.take(1))[0].event, 'reset', 'an id from another server instance (a restart) resets');
  const ahead = new SseReader(new URL('/events?after=99', s.url).href);
  t.teardown(() => ahead.close());
  t.equal((await ahead.take(1))[0].event, 'reset', 'an id ahead of this server resets');

  await s.stop();
  await live.waitEnd();
  t.ok(live.ended, 'stop() ends open streams');
});

t.test('buffers stay bounded in long runs', async (t) => {
  const limits = { ...DEFAULT_LIMITS, devices: 10, encounters: 4, samplesPerEncounter: 50, throughput: 30, alerts: 5, log: 20, replay: 100 };
  const st = new DashboardState('long run', limits);
  st.apply(validateEvent(SCENARIO));
  for (let i = 0; i < 5000; i++) {
    st.apply({ type: 'position', device: `d${i % 100}`, role: 'crowd', label: `D${i % 100}`, x: i, y: 0, t: i });
    st.apply({ type: 'rssi', device: `d${i % 7}`, peer: `enc-${i % 9}`, rssi: -70, attenuation: 60, t: i });
    st.apply({ type: 'throughput', tracecodesPerSec: 1, ledgerHeight: i, t: i });
    st.apply({ type: 'alert', device: 'd1', level: 'low', explanation: `alert ${i}`, t: i });
    st.apply({ type: 'log', text: `line ${i}`, t: i });
    st.apply({ type: 'trust', device: `d${i % 100}`, state: 'trusted' });
  }
  const snap = st.snapshot();
  t.equal(snap.positions.length, 10);
  t.same(
    snap.positions.map((p) => p.device),
    Array.from({ length: 10 }, (_, i) => `d${90 + i}`),
    'the most recently updated devices are kept',
  );
  t.equal(snap.trust.length, 10);
  t.equal(snap.rssi.length, 4);
  t.ok(snap.rssi.every((r) => r.samples.length <= 50));
  t.equal(snap.throughput.length, 30);
  t.equal(snap.throughput[29].ledgerHeight, 4999, 'the newest throughput sample is kept');
  t.same(
    snap.alerts.map((a) => a.explanation),
    [4995, 4996, 4997, 4998, 4999].map((i) => `alert ${i}`),
    'the newest alerts, oldest first',
  );
  t.equal(snap.log.length, 20);
  t.equal(st.since(st.lastSeq - 100)?.length, 100, 'the replay ring reaches back its capacity');
  t.equal(st.since(st.lastSeq - 101), null, 'and no further');
  t.same(st.since(st.lastSeq), [], 'nothing after the last event');
});

t.test('static files come from the page and node_modules only', async (t) => {
  const s = await started(t);
  const get = (p: string) =>
    new Promise<{ status: number; type?: string; csp?: string }>((resolve, reject) => {
      http
        .get(new URL(s.url), { path: p, agent: false }, (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], csp: res.headers['content-security-policy'] as string | undefined });
        })
        .on('error', reject);
    });
  const page = await get('/');
  t.equal(page.status, 200);
  t.match(page.csp, /default-src 'self'/, 'the page may load nothing from elsewhere');
  t.match((await get('/vendor/leaflet/leaflet-src.esm.js')).type, /javascript/);
  t.match((await get('/vendor/uplot/uPlot.esm.js')).type, /javascript/);
  t.equal((await get('/vendor/leaflet/../../../package.json')).status, 404, 'no path traversal');
  t.equal((await get('/vendor/leaflet/%2e%2e/package.json')).status, 404, 'no encoded traversal');
  t.equal((await get('/server.ts')).status, 404, 'server sources are not served');
  const post = await new Promise<number>((resolve) => {
    const req = http.request(new URL('/state', s.url), { method: 'POST', agent: false }, (res) => resolve(res.statusCode ?? 0));
    req.end();
  });
  t.equal(post, 405, 'read-only');
});
