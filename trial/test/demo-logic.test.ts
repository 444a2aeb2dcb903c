/** The demo's pure parts: narration of agent status changes, expectations, comparison and summary. */
import t from 'tap';
import { clockLabel, narrateChange, nearestVenue, snapshotOf, topLevel, whereText, type AgentSnapshot } from '../src/demo/narrate.ts';
import { compareOutcome, formatDuration, formatSummary, parseExpect, type TrialOutcome } from '../src/demo/summary.ts';
import { agentConfig } from '../src/demo/agents.ts';
import { withIndoorAir } from '../src/demo/trial.ts';
import { loadScenarioFile } from '@beepkit/firmware-stubs/scenario';
import { scenarioPath } from '../src/demo/trial.ts';

const cafe = { id: 'beep-cafe', name: 'The Beep Café', center: { x: 0, y: 0 }, radius: 8 };
const base: AgentSnapshot = {
  running: true,
  radioOn: true,
  gnssUsable: true,
  trust: 'untrusted',
  certificate: false,
  visitsOpen: 0,
  visitsTotal: 0,
  sealed: 0,
  alerts: {},
};

t.test('clock labels and places', async (t) => {
  t.equal(clockLabel(0), 't+00:00');
  t.equal(clockLabel(361.9), 't+06:01');
  t.equal(clockLabel(3600), 't+1:00:00');
  t.equal(clockLabel(-5), 't+00:00');
  t.equal(nearestVenue({ x: 3, y: 4 }, [cafe])?.edgeM, 0, 'inside the radius');
  t.equal(Math.round(nearestVenue({ x: 30, y: 40 }, [cafe])!.edgeM), 42);
  t.equal(whereText('Alice', { x: 1, y: 1 }, [cafe]), 'Alice is at The Beep Café');
  t.equal(whereText('Dave', { x: 150, y: -200 }, [cafe]), 'Dave is 242 m from The Beep Café');
  t.equal(whereText('Eve', { x: 1, y: 2 }, []), 'Eve is at 1 m east, 2 m north');
});

t.test('narration of changes', async (t) => {
  const first = narrateChange('Alice', undefined, base, cafe);
  t.same(
    first.map((n) => n.kind),
    ['ready'],
    'first sight: the kit is up, no trust line for untrusted',
  );
  t.same(narrateChange('Alice', base, base, cafe), [], 'nothing changed, nothing said');
  const inside = { ...base, trust: 'trusted', certificate: true, visitsOpen: 1, visitsTotal: 1, sealed: 1 };
  const lines = narrateChange('Alice', base, inside, cafe);
  t.same(
    lines.map((n) => n.text),
    [
      'Alice entered The Beep Café',
      "Alice's location is trusted (GNSS and the venue beacon agree)",
      "Alice earned today's certificate from the CA",
      'Alice sealed a TraceCode (1 so far)',
    ],
  );
  t.same(lines[0], { kind: 'visit-open', text: 'Alice entered The Beep Café', venue: 'beep-cafe' });
  const left = narrateChange('Alice', inside, { ...inside, visitsOpen: 0, sealed: 3, trust: 'lost' }, cafe);
  t.same(
    left.map((n) => n.kind),
    ['visit-close', 'trust', 'tracecode'],
  );
  t.equal(left[2]!.text, 'Alice sealed 2 TraceCodes (3 so far)');
  const alert = narrateChange('Bob', base, { ...base, alerts: { low: 1, high: 1 } });
  t.same(alert, [{ kind: 'alert', text: 'ALERT for Bob: high risk', level: 'high' }]);
  t.same(narrateChange('Bob', { ...base, alerts: { high: 1 } }, { ...base, alerts: { high: 1, low: 2 } }), [], 'a lower alert after a high one is not news');
  t.equal(topLevel({}), 'none');
  t.equal(topLevel({ low: 0, high: 0 }), 'none');
  t.equal(topLevel({ low: 2 }), 'low');
});

t.test('snapshot from /status', async (t) => {
  const s = snapshotOf({
    state: 'running',
    radio: { scanner: 'poweredOn' },
    gnss: { usable: true },
    trust: { state: 'trusted' },
    certificate: { today: true },
    visits: { open: 1, total: 2 },
    publisher: { seal: 3, stationary: 9 },
    alerts: { byLevel: { high: 1 } },
  });
  t.same(s, {
    running: true,
    radioOn: true,
    gnssUsable: true,
    trust: 'trusted',
    certificate: true,
    visitsOpen: 1,
    visitsTotal: 2,
    sealed: 3,
    alerts: { low: 0, high: 1 },
  });
  t.same(snapshotOf(undefined), {
    running: false,
    radioOn: false,
    gnssUsable: false,
    trust: 'untrusted',
    certificate: false,
    visitsOpen: 0,
    visitsTotal: 0,
    sealed: 0,
    alerts: { low: 0, high: 0 },
  });
});

const outcome = (over: Partial<TrialOutcome> = {}): TrialOutcome => ({
  scenario: 'cafe',
  speed: 60,
  short: false,
  devices: [
    { id: 'alice', label: 'Alice', role: 'agent', visits: ['beep-cafe'], visitMinutes: [30], certificate: true, tracecodes: 2, alert: 'high' },
    { id: 'bob', label: 'Bob', role: 'agent', visits: ['beep-cafe'], visitMinutes: [25.4], certificate: true, tracecodes: 3, alert: 'high' },
    { id: 'carol', label: 'Carol', role: 'agent', visits: ['beep-cafe'], visitMinutes: [4], certificate: true, tracecodes: 3, alert: 'low' },
    { id: 'dave', label: 'Dave', role: 'agent', visits: ['harbour-view'], visitMinutes: [4], certificate: true, tracecodes: 2, alert: 'none' },
    {
      id: 'grace',
      label: 'Grace',
      role: 'wearable',
      visits: ['harbour-view', 'beep-cafe'],
      visitMinutes: [3, 25],
      certificate: true,
      tracecodes: 2,
      alert: 'high',
      carer: 'Dave',
    },
  ],
  ledger: { tracingBlocks: 9, tracingRecords: 9, notificationBlocks: 3, verified: true },
  diagnosis: { done: true, patient: 'Alice', days: 1, visits: 1, venueState: 'The Beep Café infected' },
  solver: { done: true, records: 8, published: 2 },
  elapsedMs: 75_400,
  skipped: [],
  carers: [{ wearable: 'Grace', carer: 'Dave', paired: true, syncs: 3, records: 2 }],
  ...over,
});

t.test('expectations: the café block parses; bad ones are E_CONFIG', async (t) => {
  const sc = loadScenarioFile(scenarioPath('cafe'));
  const e = parseExpect(sc.expect);
  t.same(e.visits.dave, ['harbour-view']);
  t.same(e.alerts.grace, ['high']);
  t.same(e.alerts.bob, ['high']);
  t.same(e.alerts.carol, ['low', 'none']);
  t.same(parseExpect(undefined), { visits: {}, alerts: {} });
  t.throws(() => parseExpect({ alerts: { bob: 'severe' } }), { code: 'E_CONFIG' });
  t.throws(() => parseExpect({ alerts: { bob: [] } }), { code: 'E_CONFIG' });
  t.throws(() => parseExpect({ visits: { bob: 'beep-cafe' } }), { code: 'E_CONFIG' });
  t.throws(() => parseExpect({ visits: [] }), { code: 'E_CONFIG' });
});

t.test('comparison with the café expectations', async (t) => {
  const exp = parseExpect(loadScenarioFile(scenarioPath('cafe')).expect);
  const ok = compareOutcome(exp, outcome());
  t.equal(ok.ok, true, 'matches');
  t.same(ok.differences, []);
  t.match(
    ok.checks.find((c) => c.what === 'alert of Grace'),
    { ok: true, actual: 'high', advisory: undefined },
    'her alert is checked strictly',
  );
  const graceMissing = outcome();
  graceMissing.devices[4] = { ...graceMissing.devices[4]!, alert: 'none', tracecodes: 0, missing: 'her TraceCodes had not reached Dave' };
  t.same(
    compareOutcome(exp, graceMissing).differences,
    ['alert of Grace: expected high, got none (missing: her TraceCodes had not reached Dave)'],
    'a missing alert fails the run, saying what is missing',
  );
  t.same(
    compareOutcome(exp, { ...graceMissing, short: true }).differences,
    ['alert of Grace: expected high, got none (missing: her TraceCodes had not reached Dave)'],
    'also in --short',
  );
  t.same(
    compareOutcome(exp, outcome({ carers: [{ wearable: 'Grace', carer: 'Dave', paired: true, syncs: 0, records: 0 }] })).differences,
    ['Dave syncs Grace: expected synced, got 0 sync(s), 0 record(s)'],
    'no sync fails the run',
  );
  t.same(
    compareOutcome(exp, outcome({ carers: [{ wearable: 'Grace', carer: 'Dave', paired: false, syncs: 0, records: 0, error: 'E_CODE: wrong code' }] }))
      .differences,
    ['Dave pairs with Grace: expected paired, got not paired (E_CODE: wrong code)'],
    'a failed pairing fails the run',
  );
  const skippedGrace = outcome();
  skippedGrace.devices[4] = { ...skippedGrace.devices[4]!, skipped: 'not available yet' };
  t.ok(
    compareOutcome(exp, skippedGrace)
      .checks.find((c) => c.what === 'alert of Grace')
      ?.advisory?.startsWith('skipped'),
    'a skipped device is advisory, not a failure',
  );

  const bobLow = outcome();
  bobLow.devices[1] = { ...bobLow.devices[1]!, alert: 'low' };
  const bad = compareOutcome(exp, bobLow);
  t.equal(bad.ok, false);
  t.same(bad.differences, ['alert of Bob: expected high, got low'], 'says what differed');

  const noVisit = outcome();
  noVisit.devices[2] = { ...noVisit.devices[2]!, visits: [] };
  t.same(compareOutcome(exp, noVisit).differences, ['visits of Carol: expected beep-cafe, got none']);
  t.equal(compareOutcome(exp, { ...noVisit, short: true }).ok, true, 'in --short a visit is timing-sensitive (advisory)');
  const broken = compareOutcome(
    exp,
    outcome({ ledger: { tracingBlocks: 1, tracingRecords: 1, notificationBlocks: 0, verified: false, problem: 'bad hash at 3' } }),
  );
  t.same(broken.differences, ['ledger verifies: expected ok, got bad hash at 3']);
  const noDiag = compareOutcome(exp, outcome({ diagnosis: { done: false, error: 'E_CONSENT: consent failed' } }));
  t.same(noDiag.differences, ['diagnosis endorsed: expected done, got E_CONSENT: consent failed']);
  const skippedSolver = compareOutcome(exp, outcome({ solver: { done: false }, skipped: ['solver: not available'] }));
  t.equal(skippedSolver.ok, true, 'a part that was skipped is not a failure');
});

t.test('summary text', async (t) => {
  const o = outcome();
  const c = compareOutcome(parseExpect(loadScenarioFile(scenarioPath('cafe')).expect), o);
  const text = formatSummary(o, c, (id) => (id === 'beep-cafe' ? 'The Beep Café' : id === 'harbour-view' ? 'Harbour View' : id)).join('\n');
  t.match(text, /Bob {7}The Beep Café 25 min {14}yes {10}3 {11}high/);
  t.match(text, /Dave {6}Harbour View 4 min {16}yes {10}2 {11}none/);
  t.match(text, /Grace {5}Harbour View 3 min, The Beep Café 25 min yes {10}2 {11}high \(through Dave\)/);
  t.match(text, /Carer: Dave paired with Grace's wearable; 3 sync\(s\), 2 record\(s\) collected/);
  t.notMatch(text, /Missing:/, 'nothing missing');
  t.match(text, /Tracing chain: 9 entries \(TraceCodes and endorsements\) in 9 blocks; notification chain: 3 blocks/);
  t.match(text, /Ledger verify: ok/);
  t.match(text, /Diagnosis: Alice endorsed \(1 day\(s\), 1 venue visit\(s\)\); venue now The Beep Café infected/);
  t.match(text, /Time taken: 1 min 15 s/);
  t.match(text, /✓ alert of Grace +expected high +got high/);
  t.match(text, /RESULT: the outcome matches the scenario/);
  t.equal(formatDuration(59_600), '1 min 00 s');
  const bad = formatSummary(o, { ok: false, checks: [], differences: ['alert of Bob: expected high, got low'] }).join('\n');
  t.match(bad, /RESULT: the outcome differs: alert of Bob: expected high, got low/);
});

t.test('agent config and radio profile', async (t) => {
  const c = agentConfig({
    id: 'bob',
    label: 'Bob',
    dir: '/tmp/x',
    deviceId: 'demo-bob-kit',
    password: 'pw',
    gnssPath: '/tmp/gnss-bob',
    hciScan: '/dev/pts/1',
    hciAdvertise: '/dev/pts/2',
    venues: [],
    brokerUrl: 'mqtt://127.0.0.1:1',
    anchors: { caPublicKey: 'a'.repeat(64), gatewayPublicKey: 'b'.repeat(64) },
    clockUrl: 'http://127.0.0.1:2/clock',
    tracecodeIntervalMs: 300_000,
  }) as { clock: unknown; gnss: { type: string }; publisher: { intervalMs: number }; radio: { watchdogMs: number } };
  t.same(c.clock, { url: 'http://127.0.0.1:2/clock', pollMs: 250 }, 'on the sim clock');
  t.equal(c.gnss.type, 'serial');
  t.equal(c.publisher.intervalMs, 300_000);
  t.equal(c.radio.watchdogMs, 0);
  const { resolveConfig } = await import('@beepkit/agent/config');
  t.doesNotThrow(() => resolveConfig(c), 'the generated config validates');
  const sc = loadScenarioFile(scenarioPath('cafe'));
  t.equal(withIndoorAir(sc).air.pathLossExponent, 3, 'indoor path loss at least');
  const steep = { ...sc, air: { ...sc.air, pathLossExponent: 3.5 } };
  t.equal(withIndoorAir(steep), steep, 'a steeper scenario stays as it is');
});
