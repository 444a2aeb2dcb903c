/**
 * Issue 14, item 2: the agent's clock off by +3 h, −3 h, or at 1970, against a
 * real gateway (embedded broker, ledger) on the true clock. The agent side is
 * the real publishing path: TimeKeeper → Publishing (publisher, sealer) →
 * outbox → Uplink over MQTT; GNSS time comes from the emulator on a PTY read
 * by the real serial source.
 *
 *  - With GNSS time: the keeper corrects to GNSS time after 3 agreeing fixes
 *    (logged once, offset only); the TraceCode sealed lands on the ledger under
 *    the true day and interval.
 *  - Without GNSS (NTP says not synchronised; or the clock is before the build
 *    date): nothing is sealed or uploaded, /status says why; once time is good
 *    (the host clock set right and NTP synchronised) the backlog is sealed under
 *    the true day and interval of when it was recorded: nothing lost.
 *  - Without the policy, the gateway refuses the +3 h agent's record with
 *    E_WINDOW (its skew tolerance, ingest.maxSkewSec): why the policy exists.
 *
 * The true clock is pinned to 14:10 UTC (a fixed day), whatever the host's hour.
 */
import t, { type Test } from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { clockFrom } from '@beepkit/protocol/clock';
import { toHex } from '@beepkit/protocol';
import { decodeBatch, decodeTraceCode } from '@beepkit/protocol/tracecode';
import { Gateway, resolveConfig as gatewayConfig } from '@beepkit/gateway/app';
import { hashPassword } from '@beepkit/gateway/broker';
import { GnssEmulator } from '@beepkit/firmware-stubs/gnss';
import { resolveConfig } from '../src/config/index.ts';
import { KeystoreFile } from '@beepkit/device-core/keys';
import { Outbox } from '@beepkit/device-core/outbox';
import { CertStore } from '../src/ca-client/index.ts';
import { Uplink } from '../src/uplink/index.ts';
import { AgentMqtt } from '@beepkit/device-core/mqtt';
import { Publishing } from '../src/app/publishing.ts';
import { SerialGnssSource } from '@beepkit/device-core/gnss';
import { TimeKeeper, type TimeProbes } from '../src/time/index.ts';
import type { AgentNetwork } from '../src/app/ports.ts';
import type { TrustVerdict } from '../src/trust/index.ts';
import { DAY, certify, prng } from './net-helpers.ts';

const TRUE_START = Date.UTC(2026, 11, 3, 14, 10);
const truth = clockFrom(TRUE_START);
const TRUE_DAY = Math.floor(TRUE_START / 1000 / DAY);
const INTERVAL_MS = 1_800_000;
const trueInterval = (ms: number) => Math.floor((ms % 86_400_000) / INTERVAL_MS);

const root = t.testdir({});
const devices = ['time-plus3', 'time-minus3', 'time-1970', 'time-plus3-gnss', 'time-minus3-gnss', 'time-nopolicy'];
await writeFile(join(root, 'passwd'), devices.map((d) => `${d}:${hashPassword(`pw-${d}`, { iterations: 1000 })}\n`).join(''), { mode: 0o600 });
const gw = new Gateway({
  now: truth,
  config: gatewayConfig({
    dataDir: join(root, 'gw'),
    broker: { embedded: { port: 0, passwordFile: join(root, 'passwd') } },
    http: { port: 0 },
    log: { level: 'silent' },
  }),
});
await gw.start();
t.teardown(() => gw.stop());

interface Logged {
  level: string;
  o: object;
  msg: string;
}
function logger(lines: Logged[]) {
  const at = (level: string) => (o: object, msg: string) => void lines.push({ level, o, msg });
  return { info: at('info'), warn: at('warn'), error: at('error'), debug: () => {} };
}

/** A verdict as the trust module gives it: a trusted position at the clock's now (the café in Utrecht). */
function verdictAt(nowMs: number): TrustVerdict {
  return {
    ok: true,
    evidence: {
      time: nowMs,
      gnss: null,
      venues: [],
      others: [],
      fused: { at: nowMs, lat: 52.0907, lon: 5.1214, accuracyM: 8, sources: ['gnss', 'venue'] },
      sources: ['gnss', 'venue'],
    },
  } as unknown as TrustVerdict;
}

/** TraceCodes of `device`'s pseudonyms on the ledger: [day, interval] of each record. */
async function onLedger(pseudonyms: Set<string>): Promise<{ day: number; interval: number }[]> {
  const out: { day: number; interval: number }[] = [];
  for (let h = 0; ;) {
    const blocks = await gw.ledger.blocks('tracing', h, 64);
    if (!blocks.length) return out;
    for (const b of blocks)
      for (const e of b.entries) {
        let batch;
        try {
          batch = decodeBatch(e.data);
        } catch {
          continue;
        }
        for (const r of batch.records) {
          const tc = decodeTraceCode(r);
          if (pseudonyms.has(toHex(tc.prefix))) out.push({ day: batch.day, interval: tc.interval });
        }
      }
    h += blocks.length;
  }
}

interface Kit {
  keeper: TimeKeeper;
  publishing: Publishing;
  outbox: Outbox;
  uplink: Uplink;
  logs: Logged[];
  pseudonyms: Set<string>;
  setHost(skewMs: number): void;
  setNtp(v: boolean | undefined): void;
  certifyDay(day: number): Promise<void>;
}

async function kit(t: Test, device: string, skewMs: number, o: { ntp?: boolean; policy?: boolean } = {}): Promise<Kit> {
  const dir = t.testdir({});
  let skew = skewMs;
  let ntp = o.ntp;
  const logs: Logged[] = [];
  const log = logger(logs);
  const host = () => truth() + skew;
  const probes: TimeProbes = { ntpSynchronized: async () => ntp };
  const keeper = new TimeKeeper({ host, mono: () => performance.now(), probes, probeEveryMs: 100, logger: log });
  await keeper.start();
  t.teardown(() => keeper.stop());
  const cfg = resolveConfig({ dataDir: dir, publisher: { tickMs: 100, intervalMs: INTERVAL_MS, maxStayIntervals: 1 }, log: { level: 'silent' } });
  const keystore = await KeystoreFile.open(
    join(dir, 'keystore.bin'),
    { passphrase: 'time policy' },
    { now: () => Math.floor(keeper.now() / 1000), create: { retentionDays: 14, fromDay: TRUE_DAY - 1 } },
  );
  const pseudonyms = new Set([TRUE_DAY - 1, TRUE_DAY, TRUE_DAY + 1].map((d) => toHex(keystore.dayKeys(d).pseudonym)));
  const outbox = new Outbox({ path: join(dir, 'outbox') });
  await outbox.start();
  t.teardown(() => outbox.stop());
  const certs = await new CertStore(join(dir, 'certs')).load();
  const mqtt = new AgentMqtt({
    url: gw.brokerUrl,
    deviceId: device,
    password: `pw-${device}`,
    agentVersion: 'test',
    backoff: { initialMs: 50, maxMs: 500 },
    random: prng(device.length),
  });
  mqtt.on('error', () => {});
  mqtt.start();
  t.teardown(() => mqtt.stop());
  const uplink = new Uplink({
    outbox,
    mqtt,
    dayKeys: (d) => keystore.dayKeys(d),
    certificates: certs,
    gatewayPublicKey: gw.keys.gateway.publicKey,
    quarantineDir: join(dir, 'quarantine'),
    backoff: { initialMs: 20, maxMs: 200 },
    random: prng(7),
  });
  await uplink.start();
  t.teardown(() => uplink.stop());
  const network = { certificate: (day: number) => certs.entry(day), flush: async () => uplink.kick() } as unknown as AgentNetwork;
  const publishing = new Publishing({
    config: cfg,
    keystore,
    outbox,
    network,
    now: keeper.now,
    logger: log,
    ...(o.policy === false ? {} : { time: { trusted: () => keeper.trusted, mono: () => performance.now() } }),
  });
  return {
    keeper,
    publishing,
    outbox,
    uplink,
    logs,
    pseudonyms,
    setHost: (s) => (skew = s),
    setNtp: (v) => (ntp = v),
    certifyDay: async (day) => {
      await certs.put({
        day,
        certificate: certify(gw, keystore.dayKeys(day).pseudonym, day, (day + 2) * DAY),
        solverPublicKey: gw.keys.solverPublicKey,
        solverKeyId: gw.keys.solverKeyId,
      });
    },
  };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await cond())) {
    if (performance.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One stay sealed and uploaded: ticks at the clock's now, then flush() closes the stay. */
async function sealOne(k: Kit): Promise<void> {
  for (let i = 0; i < 3; i++) await k.publishing.publishTick(verdictAt(k.keeper.now()), true);
  await k.publishing.flush();
  await k.publishing.uploadTick();
}

for (const [name, skew] of [
  ['+3 h', 3 * 3_600_000],
  ['−3 h', -3 * 3_600_000],
] as const) {
  t.test(`agent clock ${name}, GNSS time on a PTY: corrected to GNSS time, sealed under the true day and interval`, async (t) => {
    const k = await kit(t, skew > 0 ? 'time-plus3-gnss' : 'time-minus3-gnss', skew, { ntp: false });
    t.equal(k.keeper.status().trusted, false, 'NTP not synchronised and no GNSS time yet: not trusted');
    const emu = new GnssEmulator({ intervalMs: 200, startTime: truth(), coldStart: { noFix: 1, twoD: 0 }, seed: 14 });
    emu.start();
    t.teardown(() => emu.stop());
    const src = new SerialGnssSource({ path: emu.path, now: k.keeper.now, silenceMs: 60_000, maxAgeMs: 10_000 });
    src.on('fix', (f) => k.keeper.observeGnss(f));
    await src.start();
    t.teardown(() => src.stop());
    await until('the GNSS correction', () => k.keeper.status().corrections > 0);
    const st = k.keeper.status();
    t.equal(st.source, 'gnss');
    t.ok(st.trusted, 'trusted once corrected');
    t.ok(Math.abs(st.offsetMs + skew) < 2500, `offset ${st.offsetMs} ms undoes the host's ${skew} ms`);
    t.ok(Math.abs(k.keeper.now() - truth()) < 2500, 'now() is GNSS time');
    const warn = k.logs.filter((l) => /disagrees with GNSS time/.test(l.msg));
    t.equal(warn.length, 1, 'the correction is logged once');
    t.notMatch(JSON.stringify(k.logs), /lat|lon|5\.12|52\.09/, 'no position in the logs');
    await k.certifyDay(TRUE_DAY);
    const at = truth();
    await sealOne(k);
    await until('the record on the ledger', async () => (await onLedger(k.pseudonyms)).length === 1);
    t.same(await onLedger(k.pseudonyms), [{ day: TRUE_DAY, interval: trueInterval(at) }], 'sealed under the true day and interval');
  });
}

for (const [name, device, skew, ntp] of [
  ['+3 h, NTP not synchronised', 'time-plus3', 3 * 3_600_000, false],
  ['−3 h, NTP not synchronised', 'time-minus3', -3 * 3_600_000, false],
  ['at 1970 (no RTC), NTP claims synchronised', 'time-1970', -TRUE_START + 86_400_000, true],
] as const) {
  t.test(`agent clock ${name}, no GNSS: records but neither seals nor uploads; the backlog drains under the true time once time is good`, async (t) => {
    const k = await kit(t, device, skew, { ntp });
    await until('the first NTP probe', () => k.keeper.status().ntp === ntp);
    const st = k.keeper.status();
    t.equal(st.trusted, false, `not trusted: ${st.reason}`);
    t.equal(st.source, 'unknown');
    t.equal(st.code, 'E_TIME_UNTRUSTED', 'the held ticks carry their code');
    if (skew < 0 && ntp) t.match(st.reason, /before the build date/, 'a clock before the build date is never trusted');
    await k.certifyDay(TRUE_DAY);
    const recordedAt = truth();
    for (let i = 0; i < 3; i++) {
      await k.publishing.publishTick(verdictAt(k.keeper.now()), true);
      await new Promise((r) => setTimeout(r, 120));
    }
    await k.publishing.uploadTick();
    t.equal(k.outbox.stats().pending, 0, 'nothing sealed into the outbox');
    t.ok(k.publishing.timeHeld.publish >= 3 && k.publishing.timeHeld.upload >= 1, 'held ticks counted');
    t.equal(k.publishing.backlog.size, 1, 'the stay waits in the backlog (one tick per 10 s kept)');
    // time becomes good: the host clock is set right and NTP synchronised
    k.setHost(0);
    k.setNtp(true);
    await until('trusted time', () => k.keeper.trusted);
    t.equal(k.keeper.status().source, 'ntp');
    await k.publishing.publishTick(undefined, false);
    t.equal(k.publishing.backlog.size, 0, 'the backlog drained');
    await k.publishing.flush();
    await k.publishing.uploadTick();
    await until('the record on the ledger', async () => (await onLedger(k.pseudonyms)).length === 1);
    t.same(await onLedger(k.pseudonyms), [{ day: TRUE_DAY, interval: trueInterval(recordedAt) }], 'sealed under the day and interval of when it was recorded');
    t.equal(k.publishing.backlog.dropped, 0, 'nothing lost');
  });
}

t.test('without the policy, the gateway refuses the +3 h agent’s record with E_WINDOW (its skew tolerance)', async (t) => {
  const k = await kit(t, 'time-nopolicy', 3 * 3_600_000 + 1_800_000, { policy: false });
  await k.certifyDay(TRUE_DAY);
  const quarantined = new Promise<{ code: string }>((resolve) => k.uplink.once('quarantined', resolve));
  await sealOne(k);
  t.equal((await quarantined).code, 'E_WINDOW', 'refused with its code: an interval in the future');
  t.same(await onLedger(k.pseudonyms), [], 'nothing of it on the ledger');
});
