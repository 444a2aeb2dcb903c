/**
 * The sim's GNSS receivers through a real serialport: decoded positions follow
 * the device's trajectory within the noise band, and every GNSS fault kind
 * (applied through the control API) shows in the NMEA stream or the port.
 * The control API listens on a kernel-chosen port.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { SerialPort, ReadlineParser } from 'serialport';
import { decodeNmea, type GgaSentence } from '@beepkit/protocol/nmea';
import { isBeepkitError } from '@beepkit/protocol';
import { latLonToEnu, distanceM } from '../src/air/geo.ts';
import { parseScenario, positionAt } from '../src/scenario/index.ts';
import { Sim } from '../src/sim/index.ts';
import { until } from './fixtures/child.ts';
import { hostNow } from '@beepkit/protocol/clock';

const NOISE = 2;
const scenario = parseScenario(`
name: gnss-walk
seed: 3
origin: { lat: 55.95, lon: -3.19 }
duration: 3600
speed: 10
devices:
  - id: erin
    role: agent
    gnss: { rateHz: 1, fixAfter: 0, noise: ${NOISE} }
    path: [ { t: 0, x: 0, y: 0 }, { t: 3600, x: 3600, y: 0 } ]
`);

interface Line {
  text: string;
  s?: Sentence;
  err?: string;
}
type Sentence = ReturnType<typeof decodeNmea>;

/** A serial port on the receiver with every line decoded, and waits on them. */
class Reader {
  readonly lines: Line[] = [];
  closed = false;
  private port: SerialPort;
  private waiters: (() => void)[] = [];
  constructor(path: string) {
    this.port = new SerialPort({ path, baudRate: 9600 });
    this.port.on('error', () => {});
    this.port.on('close', () => {
      this.closed = true;
      this.wake();
    });
    const parser = this.port.pipe(new ReadlineParser({ delimiter: '\r\n', encoding: 'latin1' }));
    parser.on('data', (text: string) => {
      const l: Line = { text };
      try {
        l.s = decodeNmea(text);
      } catch (e) {
        l.err = isBeepkitError(e) ? e.code : 'E_OTHER';
      }
      this.lines.push(l);
      this.wake();
    });
  }
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  mark(): number {
    return this.lines.length;
  }
  ggas(from = 0): GgaSentence[] {
    return this.lines.slice(from).flatMap((l) => (l.s?.kind === 'GGA' ? [l.s] : []));
  }
  async waitFor<T>(check: () => T | undefined | false, label: string, timeoutMs = 30_000): Promise<T> {
    const end = hostNow() + timeoutMs;
    for (;;) {
      const v = check();
      if (v) return v;
      if (hostNow() > end) throw new Error(`timeout waiting for ${label}; last lines: ${JSON.stringify(this.lines.slice(-3).map((l) => l.text))}`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, 1000);
        this.waiters.push(() => (clearTimeout(timer), r()));
      });
    }
  }
  close(): Promise<void> {
    return new Promise((r) => (this.port.isOpen ? this.port.close(() => r()) : r()));
  }
}

const sim = new Sim({ scenario, dir: t.testdir(), controlPort: 0 });
t.teardown(() => sim.stop());
const fault = async (kind: string, duration: number, params: Record<string, number> = {}) => {
  const r = await fetch(`http://127.0.0.1:${sim.controlPort}/faults`, { method: 'POST', body: JSON.stringify({ device: 'erin', kind, duration, params }) });
  t.equal(r.status, 200, `${kind} accepted`);
};
/** Scenario second of a GGA (no time jump): its time of day minus the 09:00Z start. */
const secondsOf = (g: GgaSentence) => (g.time! - 9 * 3600_000) / 1000;
const errorFromTruth = (g: GgaSentence) => {
  const p = latLonToEnu(scenario.origin, { lat: g.lat!, lon: g.lon! });
  return distanceM(p, positionAt(scenario.devices[0]!.path, secondsOf(g)));
};
const fixed = (g: GgaSentence) => (g.quality ?? 0) > 0 && g.lat !== undefined;

t.before(() => sim.start());

let rd: Reader;
t.test('decoded positions follow the trajectory within the noise band', async (t) => {
  const path = sim.device('erin').gnss!.path;
  t.ok(existsSync(path), 'GNSS symlink exists');
  rd = new Reader(path);
  const got = await rd.waitFor(() => (rd.ggas().filter(fixed).length >= 10 ? rd.ggas().filter(fixed) : undefined), '10 fixes');
  for (const g of got)
    t.ok(errorFromTruth(g) <= 6 * NOISE * (g.hdop ?? 2) + 2, `fix at ${secondsOf(g).toFixed(0)} s within band (${errorFromTruth(g).toFixed(1)} m)`);
  t.ok(secondsOf(got.at(-1)!) > secondsOf(got[0]!), 'GNSS time advances on the scenario clock');
});

t.test('position jump: a fix ≥ 1 km from the truth, then back', async (t) => {
  const m = rd.mark();
  await fault('gnss-position-jump', 3, { dx: 5000 });
  const far = await rd.waitFor(() => rd.ggas(m).find((g) => fixed(g) && errorFromTruth(g) >= 1000), 'jumped fix');
  t.ok(errorFromTruth(far) >= 1000);
  const m2 = rd.mark();
  await rd.waitFor(() => rd.ggas(m2).filter(fixed).length >= 6, 'fixes after the jump');
  t.ok(errorFromTruth(rd.ggas(m2).filter(fixed).at(-1)!) < 100, 'back on the truth');
});

t.test('outage: receiver talks without a fix', async (t) => {
  const m = rd.mark();
  await fault('gnss-outage', 2);
  const lost = await rd.waitFor(() => rd.ggas(m).find((g) => g.quality === 0), 'GGA quality 0');
  t.equal(lost.lat, undefined, 'no position while the fix is lost');
  const m2 = rd.mark();
  const back = await rd.waitFor(() => rd.ggas(m2).find(fixed), 'fix again');
  t.ok(errorFromTruth(back) < 100, 'fix regained on the truth');
});

t.test('bad checksum, truncated and garbage show in the stream', async (t) => {
  let m = rd.mark();
  await fault('gnss-bad-checksum', 0, { count: 3 });
  await rd.waitFor(() => rd.lines.slice(m).filter((l) => l.err === 'E_CHECKSUM').length >= 3, 'checksum errors');
  m = rd.mark();
  await fault('gnss-truncated', 0, { count: 3 });
  await rd.waitFor(() => rd.lines.slice(m).filter((l) => l.err !== undefined && l.err !== 'E_CHECKSUM').length >= 3, 'truncated sentences');
  m = rd.mark();
  await fault('gnss-garbage', 0, { bytes: 300 });
  await rd.waitFor(() => rd.lines.slice(m).some((l) => /[^\x20-\x7e]/.test(l.text)), 'non-NMEA bytes');
  t.ok(
    rd.lines.slice(m).some((l) => l.err !== undefined),
    'garbage does not decode',
  );
});

t.test('silence: no bytes for the duration', async (t) => {
  const m = rd.mark();
  await fault('gnss-silence', 4);
  const gap = await rd.waitFor(() => {
    // the silence may start right away: include the fixes before the request
    const g = rd.ggas(Math.max(0, m - 30)).filter((x) => x.time !== undefined);
    for (let i = 1; i < g.length; i++) if (g[i]!.time! - g[i - 1]!.time! >= 4000) return g[i]!.time! - g[i - 1]!.time!;
    return undefined;
  }, 'a gap in GGA time');
  t.ok(gap >= 4000 && gap <= 6000, `4 silent epochs (gap ${gap} ms of receiver time)`);
});

t.test('unplug: the path disappears, then reappears and talks again', async (t) => {
  const path = sim.device('erin').gnss!.path;
  await fault('gnss-unplug', 3);
  t.notOk(existsSync(path), 'path gone');
  // The host's serialport may or may not notice the vanished PTY (it depends on its poller seeing
  // EIO); what a receiver unplug must show is the path going and coming back, then talking again.
  await rd.close();
  await until(() => existsSync(path), 30_000, 'path back');
  rd = new Reader(path);
  await rd.waitFor(() => rd.ggas().some(fixed), 'fix on the replugged port');
});

t.test('time jump: receiver time leaps by params.seconds', async (t) => {
  const m = rd.mark();
  await fault('gnss-time-jump', 0, { seconds: 7200 });
  const jumped = await rd.waitFor(() => rd.ggas(m).find((g) => g.time !== undefined && secondsOf(g) - sim.clock.elapsedSeconds() > 3600), 'jumped time');
  t.ok(secondsOf(jumped) - sim.clock.elapsedSeconds() > 3600, 'GGA time ahead of the scenario clock');
  await rd.close();
  const kinds = new Set(sim.events.filter((e) => e.device === 'erin' && e.source === 'api').map((e) => e.kind));
  t.equal(kinds.size, 8, 'every GNSS fault kind logged as an event');
});
