/**
 * soak (outside CI): the crowd scenario (200 randomised peers, two walkers)
 * for `--minutes N` (default 30) with a plaza venue added so the walkers earn
 * certificates and upload, and a UTC day boundary half way so every agent has
 * to renew its certificate. At each minute, per agent: running, scanning
 * (scan counter grew), connected, uplink not stuck (outbox empty or delivering);
 * the gateway (a `beepkit gateway run` child for the soak) keeps acknowledging
 * records; the RSS of every process (each agent child and the gateway child,
 * from /proc/<pid>/status) is sampled. At the end: RSS
 * growth (first sample after warm-up → last) under a bound per process, and
 * every agent renewed its certificate after the day boundary.
 */
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { BeepkitError } from '@beepkit/protocol';
import { parseScenario, type Scenario } from '@beepkit/firmware-stubs/scenario';
import type { HilContext } from '../hil/context.ts';
import type { Suite } from '../hil/runner.ts';

export const SOAK_MINUTES = 30;
export const GATEWAY_RSS_BOUND = 64 * 2 ** 20;
export const AGENT_RSS_BOUND = 48 * 2 ** 20;
/** TraceCode interval in the soak (scenario ms): the ledger grows every minute. */
export const SOAK_TC_INTERVAL_MS = 60_000;
const DAY_MS = 86_400_000;
/** Minutes without a newly acknowledged record that count as stuck (one stay cap + 1). */
const STALL_MINUTES = 5;

/** The crowd scenario with a plaza venue (beacons along the walkers' paths) when it has none. */
export function soakScenario(file: string): Scenario {
  const doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  if (!Array.isArray(doc.venues) || doc.venues.length === 0) {
    doc.venues = [
      {
        id: 'plaza',
        name: 'The Plaza',
        center: { x: 0, y: 0 },
        radius: 70,
        surface: 'plastic',
        slotSeconds: 60,
        beacons: [
          [-40, 0],
          [0, -40],
          [0, 0],
          [40, 0],
          [0, 40],
        ].map(([x, y], i) => ({ id: `plaza-${i}`, position: { x, y }, txPower: 4, intervalMs: 200 })),
      },
    ];
  }
  return parseScenario(stringify(doc), file);
}

/**
 * Scenario start so that a UTC day boundary falls half way through `minutes` of wall time at `speed` (scenario ms
 * per wall ms): at ×60, 24 minutes are 24 scenario hours and the boundary comes after 12.
 */
export function soakStartTime(wallNow: number, minutes: number, speed = 1): number {
  const midnight = Math.ceil((wallNow + 60_000) / DAY_MS) * DAY_MS;
  return midnight - Math.round((minutes * 60_000 * speed) / 2);
}

/** VmRSS of a process, bytes (undefined when it is gone). */
export function rssOf(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;

interface Track {
  scan: number;
  depth: number;
  delivered: number;
  requests: number;
  rss: number[];
  certDay?: number;
  /** The day of the last check at which the agent was trusted (could publish and ask the CA). */
  trustedDay?: number;
  /** Consecutive checks of this day at which it was trusted. */
  trustedChecks: number;
}

async function tracing(ctx: HilContext): Promise<number> {
  return (await ctx.gateway.ledger.sth('tracing'))?.treeSize ?? 0;
}

const DESCRIPTION =
  'every minute each agent runs, scans, stays connected and drains; the gateway keeps acknowledging records; certificates earned and renewed over the day boundary';

export const soak: Suite = {
  name: 'soak',
  ci: false,
  description: 'the crowd scenario for 30 min (--minutes N): no memory growth beyond a bound, no stuck state',
  async run(ctx, step) {
    const minutes = ctx.soakMinutes ?? SOAK_MINUTES;
    const agents = [...(await ctx.agentsUp()).values()];
    const gwRss: number[] = [];
    const track = new Map<string, Track>(agents.map((a) => [a.device.id, { scan: -1, depth: 0, delivered: 0, requests: 0, rss: [], trustedChecks: 0 }]));
    const ledger: number[] = [];
    const dayAt = (ms: number): number => Math.floor(ms / DAY_MS);
    const firstDay = dayAt(ctx.now());
    const entries0 = await tracing(ctx);
    const gw = await ctx.gatewayAsChild();
    let entries = entries0;
    await step(`${minutes} min (gateway as a child process): ${DESCRIPTION}`, async () => {
      try {
        await minuteChecks();
      } finally {
        await ctx.gatewayInProcess(gw);
        entries = await tracing(ctx);
      }
    });
    async function minuteChecks(): Promise<void> {
      for (let m = 1; m <= minutes; m++) {
        await new Promise((r) => setTimeout(r, 60_000));
        const day = dayAt(ctx.now());
        const line: string[] = [];
        for (const a of agents) {
          const id = a.device.id;
          const k = track.get(id)!;
          const s = await a.status();
          if (!s || s.state !== 'running') throw new BeepkitError('E_ASSERT', `minute ${m}: ${id} not running (${s?.state ?? 'no status'})`);
          if (s.scan.total <= k.scan) throw new BeepkitError('E_ASSERT', `minute ${m}: ${id} scanning stuck at ${s.scan.total}`);
          if (s.network.state !== 'connected') throw new BeepkitError('E_ASSERT', `minute ${m}: ${id} network ${s.network.state}`);
          const delivered = s.network.counters.uplink_delivered ?? 0;
          if (m > 2 && k.depth > 0 && s.outbox.depth > 0 && delivered === k.delivered) {
            throw new BeepkitError('E_ASSERT', `minute ${m}: ${id} uplink stuck (outbox ${k.depth} then ${s.outbox.depth}, nothing delivered in a minute)`);
          }
          if (s.certificate.today && k.certDay !== day) k.certDay = day;
          // the agent asks the CA only while trusted (cross-verified by GNSS and a venue): a walker away from the
          // venues after midnight cannot renew yet. Trusted at two checks of the new day (a minute of wall time
          // apart) and still without today's certificate is a failure.
          if (s.trust.state === 'trusted') {
            k.trustedChecks = k.trustedDay === day ? k.trustedChecks + 1 : 1;
            k.trustedDay = day;
          } else if (k.trustedDay === day) k.trustedChecks = 0;
          if (m >= 5 && k.certDay !== day && k.trustedDay === day && k.trustedChecks >= 2 && ctx.now() - day * DAY_MS >= 5 * 60_000)
            throw new BeepkitError(
              'E_ASSERT',
              `minute ${m}: ${id} trusted and still no certificate for day ${day} (${s.certificate.requests} requests, last ${s.certificate.lastCode ?? '-'})`,
            );
          const rss = rssOf(a.child?.pid);
          if (rss === undefined) throw new BeepkitError('E_ASSERT', `minute ${m}: ${id} process gone`);
          Object.assign(k, { scan: s.scan.total, depth: s.outbox.depth, delivered, requests: s.certificate.requests });
          k.rss.push(rss);
          line.push(
            `${id} rss ${mib(rss)} scan ${s.scan.total} encounters ${s.encounters} outbox ${s.outbox.depth} delivered ${delivered} trust ${s.trust.state} cert ${s.certificate.today ? 'yes' : 'no'}/${s.certificate.requests}`,
          );
        }
        const grss = rssOf(gw.pid);
        if (grss === undefined) throw new BeepkitError('E_ASSERT', `minute ${m}: gateway process gone`);
        gwRss.push(grss);
        ledger.push(await gw.counter('beepkit_ingest_records_total'));
        ctx.print(`    minute ${m} (day ${day - firstDay}): gateway rss ${mib(gwRss.at(-1)!)}, ${ledger.at(-1)} records acknowledged; ${line.join('; ')}`);
        // a TraceCode stands for a stay of up to publisher.maxStayIntervals (4) minutes: some agent seals within 5
        if (m > STALL_MINUTES && ledger.at(-1)! <= ledger.at(-1 - STALL_MINUTES)!)
          throw new BeepkitError('E_ASSERT', `minute ${m}: gateway stuck at ${ledger.at(-1)} records acknowledged for ${STALL_MINUTES} minutes`);
      }
    }
    await step('memory: RSS growth of the gateway and of each agent under its bound; certificates renewed', async () => {
      if (gwRss.length === 0) throw new BeepkitError('E_ASSERT', 'no samples');
      const report: string[] = [];
      const over: string[] = [];
      // growth = mean of the last 3 samples − mean of samples 2..4 (after warm-up): one GC swing is not growth
      const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
      const check = (name: string, xs: number[], bound: number): void => {
        const head = mean(xs.length > 4 ? xs.slice(1, 4) : xs.slice(0, 1));
        const tail = mean(xs.slice(-3));
        const g = tail - head;
        report.push(`${name} ${mib(head)} → ${mib(tail)} (${g >= 0 ? '+' : ''}${mib(g)}, max ${mib(Math.max(...xs))})`);
        if (g > bound) over.push(`${name} grew ${mib(g)} > ${mib(bound)}`);
      };
      check('gateway', gwRss, GATEWAY_RSS_BOUND);
      for (const [id, k] of track) check(id, k.rss, AGENT_RSS_BOUND);
      ctx.print(`    RSS: ${report.join('; ')}`);
      ctx.print(`    ledger: ${entries0} → ${entries} tracing entries (${ledger.at(-1)} records acknowledged by the child)`);
      if (over.length) throw new BeepkitError('E_ASSERT', over.join('; '));
      if (entries <= entries0) throw new BeepkitError('E_ASSERT', `the tracing ledger did not grow (${entries} entries)`);
      const lastDay = dayAt(ctx.now());
      if (lastDay > firstDay) {
        // renewal is owed by the agents seen trusted at a check after the last day boundary; an agent trusted only
        // between checks may have renewed too
        const renewed = [...track].filter(([, k]) => k.certDay === lastDay).map(([id]) => id);
        const neither = [...track].filter(([, k]) => k.certDay !== lastDay && k.trustedDay !== lastDay).map(([id]) => id);
        ctx.print(
          `    renewed for the new day: ${renewed.join(', ') || 'none'}${neither.length ? `; not trusted at any check since (no renewal owed): ${neither.join(', ')}` : ''}`,
        );
        if (renewed.length === 0 && neither.length === track.size)
          throw new BeepkitError('E_ASSERT', 'no agent was trusted after the day boundary: renewal untested');
        const stale = [...track].filter(([, k]) => k.trustedDay === lastDay && k.certDay !== lastDay).map(([id]) => id);
        if (stale.length) throw new BeepkitError('E_ASSERT', `no certificate renewed for the new day on ${stale.join(', ')}`);
      }
    });
  },
};
