/**
 * `beepkit doctor` on an agent's config: every check at once, each under its own timeout within the
 * run's budget. A running agent owns its controllers and its GNSS receiver: when its local API answers
 * (/healthz, no token needed), the radio, GNSS, clock, identity, uplink facts and carer come from its
 * /status instead, and nothing is opened twice.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type AgentConfig } from '../config/index.ts';
import { apiBase, apiTarget, callAgent } from '../app/api-client.ts';
import { readApiPort } from '../app/api-token.ts';
import { secretOf, storageKey } from '../app/storage.ts';
import type { AgentStatus } from '../health/types.ts';
import { Budget, errorText, failed, pass, seconds, timed, utc, type Check, type Verdict } from './check.ts';
import { probeRadio, radioFromStatus } from './radio.ts';
import { gnssFromStatus, probeGnss, type GnssProbe } from './gnss.ts';
import { checkClock } from './clock.ts';
import { carerVerdict, checkCarerStore, checkIdentity, checkPlatform, checkStorage, outboxSummary } from './local.ts';
import { checkUplink, type UplinkFacts } from './uplink.ts';

export interface DoctorOptions {
  /** The config file (agent.yaml, beacon.yaml) or a wearable's data dir. */
  target: string;
  timeoutMs: number;
  /** NTP server host[:port]; undefined: NTP not asked. */
  ntp?: string;
  /** The gateway's skew tolerance, ms. */
  skewMs: number;
  now: () => number;
  /** When the run began on performance.now()'s clock (the CLI: 0, the process's start); default: now. */
  startedAt?: number;
}

type Running = { status: AgentStatus } | { error: string } | undefined;

/** The running agent of this config, if its API answers: its /status, or why it could not be read. */
async function runningAgent(cfg: AgentConfig, configPath: string, ms: number): Promise<Running> {
  const port = cfg.http.port === 0 ? await readApiPort(cfg.dataDir) : cfg.http.port;
  if (port === undefined) return undefined;
  const base = apiBase({ ...cfg, http: { ...cfg.http, port } });
  try {
    await fetch(new URL('/healthz', base), { signal: AbortSignal.timeout(ms) });
  } catch {
    return undefined; // nothing listens: no agent runs on this config
  }
  try {
    const { status, doc } = await callAgent(await apiTarget({ config: configPath }), 'GET', '/status', undefined, ms);
    if (status !== 200) return { error: `/status answered HTTP ${status} ${doc?.code ?? ''}` };
    return { status: doc as AgentStatus };
  } catch (e) {
    return { error: errorText(e) };
  }
}

const ownedHint = (configPath: string): string =>
  `an agent is running on ${configPath} and owns the controllers and the receiver, but its /status could not be read: run doctor as the agent's user (it reads <dataDir>/api-token)`;

export async function doctorAgent(o: DoctorOptions): Promise<Check[]> {
  const budget = new Budget(o.timeoutMs, o.startedAt);
  const cfg = loadConfig(o.target);
  const running = await runningAgent(cfg, o.target, budget.cap(1_500));
  const st = running && 'status' in running ? running.status : undefined;
  const blocked: Verdict | undefined =
    running && 'error' in running ? failed(`agent running, /status unreadable: ${running.error}`, ownedHint(o.target)) : undefined;
  const idFile = join(cfg.dataDir, 'device-id');
  const deviceId = cfg.deviceId ?? cfg.broker.username ?? (existsSync(idFile) ? readFileSync(idFile, 'utf8').trim() : 'kit');
  let key: Promise<Uint8Array> | undefined;
  const storeKey = (): Promise<Uint8Array> => (key ??= secretOf(cfg).then((s) => storageKey(cfg.dataDir, s)));

  const radioMs = budget.cap(15_000);
  const radio = timed(
    'radio',
    radioMs,
    async () =>
      blocked ??
      (st
        ? radioFromStatus(st.radio)
        : probeRadio({
            scanner: cfg.radio.scanner,
            advertiser: cfg.radio.advertiser,
            fields: { scanner: 'radio.scanner', advertiser: 'radio.advertiser' },
            configPath: o.target,
            now: o.now,
            budgetMs: radioMs,
          })),
    {
      detail: 'the radio check did not finish',
      hint: `a controller that does not answer: check ${[cfg.radio.scanner, cfg.radio.advertiser]
        .map((t) => t && ('uart' in t ? t.uart : `hci${t.hciIndex}`))
        .filter(Boolean)
        .join(' and ')}`,
    },
  );

  const gnssMs = budget.cap(8_000);
  let gnssProbe: Promise<GnssProbe> | undefined;
  const gnss = timed(
    'gnss',
    gnssMs,
    async () => {
      if (blocked) return blocked;
      if (st) return gnssFromStatus(st.gnss);
      gnssProbe = probeGnss(cfg.gnss, o.target, o.now, gnssMs);
      return (await gnssProbe).verdict;
    },
    { detail: 'the GNSS check did not finish', hint: `check the receiver at ${cfg.gnss.path ?? cfg.gnss.host ?? cfg.gnss.type}` },
  );

  const clock = timed(
    'clock',
    budget.cap(o.timeoutMs),
    async () => {
      await gnss;
      const g = gnssProbe ? await gnssProbe.catch(() => undefined) : undefined;
      // the agent measures GNSS against its own (corrected) clock: host = its clock − its correction
      const fromAgent = st?.time.gnssDeltaMs !== undefined ? st.time.gnssDeltaMs + st.time.offsetMs : undefined;
      return checkClock({
        now: o.now,
        ntp: o.ntp,
        ntpTimeoutMs: Math.min(1_500, budget.cap(1_500)),
        skewMs: o.skewMs,
        gnssOffsetMs: st ? fromAgent : g?.offsetMs,
        gnssWhy: st ? 'the agent has compared no GNSS time yet' : cfg.gnss.type === 'none' ? 'none configured' : 'no fix with a date and time',
        ...(st ? { agent: st.time } : {}),
      });
    },
    { detail: 'the clock check did not finish', hint: 'the NTP server or the GNSS receiver did not answer in time' },
  );

  const storage = timed('storage', budget.cap(5_000), () => checkStorage(cfg.dataDir, { path: cfg.keystore.path!, secret: () => secretOf(cfg) }), {
    detail: 'the storage check did not finish',
    hint: `a slow or hung file system under ${cfg.dataDir}`,
  });

  const identity = timed(
    'identity',
    budget.cap(5_000),
    async () => {
      if (!cfg.broker.url) return pass('no broker configured: this kit records only and needs no certificate');
      if (st && !st.certificate.today) {
        return failed(
          `the running agent holds no certificate of today (${st.certificate.requests} requests${st.certificate.lastCode ? `, last refusal ${st.certificate.lastCode}` : ''}; trust ${st.trust.state})`,
          'the agent asks the CA once GNSS and a genuine venue frame agree (trust): bring the kit near a registered venue beacon with a GNSS fix',
        );
      }
      return checkIdentity(cfg.dataDir, cfg.anchors.caPublicKey, o.now);
    },
    { detail: 'the identity check did not finish', hint: `a slow file system under ${cfg.dataDir}` },
  );

  const uplinkMs = budget.cap(8_000);
  const facts = async (): Promise<UplinkFacts> => {
    if (st) {
      const now = o.now();
      return {
        outbox: st.outbox.depth
          ? `outbox ${st.outbox.depth} items, oldest sealed for ${st.outbox.oldestMs !== undefined ? utc(st.outbox.oldestMs) : 'an unknown time'}`
          : 'outbox empty',
        receipt: st.upload.lastReceiptMs !== undefined ? `last receipt ${seconds(now - st.upload.lastReceiptMs)} ago` : 'no receipt since the agent started',
      };
    }
    const outbox = blocked
      ? 'outbox not read (the agent holds it)'
      : existsSync(join(cfg.dataDir, 'outbox'))
        ? await outboxSummary(cfg.dataDir, await storeKey(), cfg.publisher.intervalMs)
        : 'no outbox yet';
    return { outbox, receipt: 'last receipt: known to a running agent only (none answers)' };
  };
  const uplink = timed('uplink', uplinkMs, () => checkUplink(cfg, o.target, deviceId, Math.max(500, uplinkMs - 1_000), facts), {
    detail: `the uplink check did not finish`,
    hint: `is the broker ${cfg.broker.url ?? ''} reachable from here?`,
  });

  const carer = cfg.carer.enabled
    ? timed(
        'carer',
        budget.cap(5_000),
        async () => {
          if (st?.carer) return carerVerdict(st.carer.wearables, o.now);
          if (blocked) return blocked;
          const path = cfg.carer.storePath ?? join(cfg.dataDir, 'carer.bks');
          if (!existsSync(path)) return pass('carer on, no wearable paired yet (beepkit agent carer pair)');
          return checkCarerStore(path, await storeKey(), o.now);
        },
        { detail: 'the carer check did not finish', hint: 'a slow file system' },
      )
    : undefined;

  const platform: Check = { name: 'platform', ...checkPlatform() };
  return [platform, ...(await Promise.all([radio, gnss, clock, storage, identity, uplink, ...(carer ? [carer] : [])]))];
}
