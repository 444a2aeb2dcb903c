/** Health endpoint: loopback only, /healthz, /status JSON, /metrics text from a status snapshot. */
import t from 'tap';
import { renderMetrics, startHealthServer, type AgentStatus } from '../src/health/index.ts';

const status: AgentStatus = {
  state: 'running',
  uptimeSeconds: 12,
  day: 20000,
  gnss: { type: 'serial', state: 'open', usable: true, mode: 3, satellites: 8, fixAgeMs: 400, counters: { fixes: 10, E_CHECKSUM: 2 } },
  radio: {
    scanner: 'poweredOn',
    advertiser: 'poweredOn',
    scanning: true,
    advertising: true,
    counters: { rotations: 1, watchdogRestarts: 0 },
    txPower: { controller: 4, correction: -3, advertised: 1, source: 'controller' },
  },
  scan: { total: 50, accepted: 48, peers: 3, byKind: { 'beepkit-venue': 40, 'exposure-notification': 8 }, rejects: { E_REPLAY: 2 } },
  trust: { state: 'lost', reason: 'E_TRUST_DISAGREE', counters: { agree: 3, E_TRUST_DISAGREE: 1 } },
  certificate: { today: false, requests: 1, inFlight: false, lastCode: 'E_TRUST', codes: { E_TRUST: 1 } },
  encounters: 2,
  visits: { open: 1, total: 1 },
  publisher: { untrusted: 4 },
  outbox: { depth: 3, bytes: 300 },
  network: { state: 'none', counters: {} },
  upload: { counters: { 'nothing-pending': 1 } },
  alerts: { total: 0, byLevel: {} },
  errors: {},
  time: {
    source: 'gnss',
    trusted: true,
    offsetMs: 10_800_000,
    gnssDeltaMs: 12,
    corrections: 1,
    reason: 'corrected to GNSS time',
    held: { publish: 0, upload: 0 },
    backlog: { size: 0, dropped: 0 },
  },
};

t.test('metrics text', async (t) => {
  const m = renderMetrics(status);
  t.match(m, /^beepkit_agent_up 1$/m);
  t.match(m, /^beepkit_agent_radio_tx_power_dbm\{source="controller"\} 1$/m, 'the AEM TX power and its source');
  t.match(m, /^beepkit_agent_trust_state\{state="lost"\} 1$/m);
  t.match(m, /^beepkit_agent_trust_state\{state="trusted"\} 0$/m);
  t.match(m, /^beepkit_agent_rejects_total\{code="E_REPLAY"\} 2$/m);
  t.match(m, /^beepkit_agent_gnss_events_total\{kind="E_CHECKSUM"\} 2$/m);
  t.match(m, /^beepkit_agent_outbox_depth 3$/m);
  t.match(m, /^beepkit_agent_ca_refusals_total\{code="E_TRUST"\} 1$/m);
  for (const line of m.trim().split('\n'))
    t.ok(line.startsWith('# ') || /^beepkit_agent_[a-z_]+(\{[^}]*\})? -?\d+(\.\d+)?$/.test(line), `well-formed: ${line}`);
});

t.test('HTTP endpoints', async (t) => {
  const token = 'ab'.repeat(32);
  const auth = { authorization: `Bearer ${token}` };
  await t.rejects(startHealthServer('0.0.0.0', 0, { health: () => ({ ok: true, detail: {} }), status: () => status, metrics: () => '' }, { token }), {
    code: 'E_CONFIG',
  });
  await t.rejects(startHealthServer('127.0.0.1', 0, { health: () => ({ ok: true, detail: {} }), status: () => status, metrics: () => '' }, { token: '' }), {
    code: 'E_CONFIG',
  });
  let ok = true;
  const srv = await startHealthServer(
    '127.0.0.1',
    0,
    { health: () => ({ ok, detail: { state: ok ? 'running' : 'stopping' } }), status: () => status, metrics: () => renderMetrics(status) },
    { token },
  );
  t.teardown(() => srv.close());
  const base = `http://127.0.0.1:${srv.port}`;
  let r = await fetch(`${base}/healthz`);
  t.equal(r.status, 200);
  t.same(await r.json(), { status: 'ok', state: 'running' });
  ok = false;
  r = await fetch(`${base}/healthz`);
  t.equal(r.status, 503);
  await r.text();
  r = await fetch(`${base}/status`);
  t.equal(r.status, 401, '/status needs the token');
  await r.text();
  r = await fetch(`${base}/status`, { headers: auth });
  t.same(await r.json(), status);
  r = await fetch(`${base}/metrics`);
  t.match(r.headers.get('content-type') ?? '', 'text/plain');
  t.match(await r.text(), 'beepkit_agent_encounters 2');
  r = await fetch(`${base}/nope`, { headers: auth });
  t.equal(r.status, 404);
  await r.text();
  r = await fetch(`${base}/status`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
  t.equal(r.status, 405);
  t.match(await r.json(), { code: 'E_METHOD' });
});
