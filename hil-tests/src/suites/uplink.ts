/**
 * uplink: TraceCodes reach the ledger exactly once through kill -9 of an agent,
 * a gateway + broker restart, kill -9 of the gateway (run as a child process
 * for that step), a GNSS unplug and an HCI controller reset (the last two need
 * the control API). Exactly once = every outbox drains, the verified ledger
 * holds each entry once, and every record the gateway acknowledged is on it
 * exactly once (by record hash).
 */
import { join } from 'node:path';
import { BeepkitError } from '@beepkit/protocol';
import { toHex } from '@beepkit/protocol/bytes';
import { mulberry32 } from '@beepkit/protocol/rng';
import { decodeBatch, recordHash } from '@beepkit/protocol/tracecode';
import { runBeepkit } from '../hil/agents.ts';
import { BIN, Skip, type HilContext } from '../hil/context.ts';
import { ReceiptObserver } from '../hil/gateway-child.ts';
import type { Suite } from '../hil/runner.ts';

async function tracingEntries(ctx: HilContext): Promise<number> {
  return (await ctx.gateway.ledger.sth('tracing'))?.treeSize ?? 0;
}

/** Every tracing entry, counted by entry hash (the duplicates), and every record in them by record hash. */
export async function duplicateEntries(ctx: HilContext): Promise<{ entries: number; duplicates: number; records: Map<string, number> }> {
  const seen = new Set<string>();
  const records = new Map<string, number>();
  let entries = 0;
  let duplicates = 0;
  for (let h = 0; ;) {
    const blocks = await ctx.gateway.ledger.blocks('tracing', h, 64);
    if (blocks.length === 0) break;
    for (const b of blocks) {
      for (const e of b.entries) {
        const k = toHex(e.entryHash);
        entries++;
        if (seen.has(k)) duplicates++;
        seen.add(k);
        for (const r of decodeBatch(e.data).records) {
          const rh = toHex(recordHash(r));
          records.set(rh, (records.get(rh) ?? 0) + 1);
        }
      }
    }
    h += blocks.length;
  }
  return { entries, duplicates, records };
}

/** Seed of the gateway kill point. */
export const KILL_SEED = 9;

/**
 * The gateway as a child under the agents' load: with the gateway down the outboxes
 * build a backlog of a seeded size (or what a slow rig reaches in 8 TraceCode
 * intervals, at least one record); the child starts, the agents flush it at once,
 * and it is killed -9 after a seeded number of those records were acknowledged
 * (its ingest counter), i.e. mid-burst; restarted on the same data directory and broker port, the
 * outboxes drain; `beepkit ledger verify` passes; every record a receipt (or
 * E_DUPLICATE) acknowledged is on the ledger exactly once.
 */
async function gatewayKill(ctx: HilContext, drained: (what: string) => Promise<unknown>): Promise<void> {
  if (ctx.rig.broker) throw new Skip('the rig names an external broker (the observer needs the gateway superuser there)');
  const cfg = ctx.gatewayConfig;
  const rng = mulberry32(KILL_SEED);
  const backlog = 3 + Math.floor(rng() * 4);
  const agents = [...ctx.agents.values()];
  const depth = async (): Promise<number> => (await Promise.all(agents.map(async (a) => (await a.status())?.outbox.depth ?? 0))).reduce((x, y) => x + y, 0);
  const limit = 60_000 + ctx.real(8 * ctx.tracecodeIntervalMs);
  /** Polls `f` until it reaches `n`; at the time limit, settles for `atLeast` (or fails). */
  const waitFor = async (what: string, f: () => Promise<number>, n: number, atLeast = n): Promise<number> => {
    const until = performance.now() + limit;
    for (let v = await f(); ; v = await f()) {
      if (v >= n || (performance.now() > until && v >= atLeast)) return v;
      if (performance.now() > until) throw new BeepkitError('E_TIMEOUT', `${what}: ${v} of ${n} in ${Math.round(limit / 1000)} s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  let queued = 0;
  let killAfter = 0;
  const gw = await ctx.gatewayAsChild(async () => {
    // a slow rig (few agents moving) may not reach the seeded backlog: then what it has, at least one record
    queued = await waitFor('outbox backlog while the gateway is down', depth, backlog, 1);
    killAfter = 1 + Math.floor(rng() * Math.max(1, queued - 1));
  });
  const obs = new ReceiptObserver(`mqtt://${cfg.broker.embedded.host}:${cfg.broker.embedded.port}`, cfg.broker.username, cfg.broker.password!);
  try {
    await obs.start();
    const n = await waitFor('records acknowledged by the gateway child', () => gw.counter('beepkit_ingest_records_total'), killAfter);
    await gw.kill();
    ctx.print(
      `    backlog ${queued} records (seeded ${backlog}); gateway child kill -9 after ${n} acknowledged (seeded ${killAfter}), ${obs.acknowledged.size} receipts seen`,
    );
    await gw.start();
    await obs.connected();
    await drained('after the gateway kill -9');
  } finally {
    await obs.stop();
    await ctx.gatewayInProcess(gw);
  }
  ctx.print(
    `    observer: ${obs.counts.batches} batches, ${obs.counts.receipts} receipts, ${obs.counts.duplicates} E_DUPLICATE, ${obs.acknowledged.size} records acknowledged`,
  );
  // On a loaded machine the child may acknowledge the whole backlog before the observer has subscribed (its
  // broker lives in the child): then the child's own ingest counter (n ≥ 1 above) is the evidence of
  // acknowledgements around the kill, and every record on the ledger is checked for exactly-once below.
  const observed = obs.acknowledged.size > 0;
  if (!observed) ctx.print('    observer subscribed after the backlog was acknowledged: checking every record on the ledger instead');
  await ctx.gateway.stop();
  try {
    const out = await runBeepkit(BIN, ['ledger', 'verify', join(cfg.dataDir, 'ledger')]);
    if (!/"ok": true/.test(out)) throw new BeepkitError('E_ASSERT', `beepkit ledger verify: ${out.trim().slice(0, 300)}`);
  } finally {
    await ctx.startGateway();
  }
  const { records } = await duplicateEntries(ctx);
  const checked = observed ? [...obs.acknowledged] : [...records.keys()];
  const missing = checked.filter((h) => !records.has(h));
  const twice = checked.filter((h) => (records.get(h) ?? 0) > 1);
  if (missing.length || twice.length)
    throw new BeepkitError('E_ASSERT', `acknowledged records: ${missing.length} not on the ledger, ${twice.length} on it twice`);
}

export const uplink: Suite = {
  name: 'uplink',
  ci: true,
  description: 'exactly-once upload through agent kill -9, gateway/broker restart, GNSS unplug, HCI controller reset',
  async run(ctx, step) {
    const agents = await ctx.agentsUp();
    const all = [...agents.values()];
    const drained = (what: string): Promise<unknown> =>
      Promise.all(all.map((a) => a.waitFor(`${what}: connected, outbox empty`, (s) => s.network.state === 'connected' && s.outbox.depth === 0, 90_000)));
    await step('TraceCodes reach the ledger', async () => {
      const limit = 60_000 + ctx.real(2_400_000);
      const until = performance.now() + limit;
      while ((await tracingEntries(ctx)) === 0) {
        if (performance.now() > until) throw new BeepkitError('E_TIMEOUT', `no TraceCode on the ledger in ${Math.round(limit / 1000)} s`);
        await new Promise((r) => setTimeout(r, 500));
      }
    });
    await step('agent kill -9 and restart: outbox survives and drains', async () => {
      let victim = all[0]!;
      for (const a of all) if (((await a.status())?.publisher.seal ?? 0) > ((await victim.status())?.publisher.seal ?? 0)) victim = a;
      await victim.kill();
      await victim.start();
      await victim.waitFor('running again, connected', (s) => s.state === 'running' && s.network.state === 'connected', 90_000);
      await drained('after kill -9');
    });
    await step('gateway and broker restart: agents reconnect and drain', async () => {
      if (ctx.rig.broker) throw new Skip('the rig names an external broker (restart it by hand)');
      const before = await tracingEntries(ctx);
      await ctx.restartGateway(1000);
      await drained('after the restart');
      if ((await tracingEntries(ctx)) < before) throw new BeepkitError('E_ASSERT', 'ledger shrank across a restart');
    });
    await step('gateway kill -9 under load (a child process): outboxes drain, ledger verifies, each acknowledged record on it once', () =>
      gatewayKill(ctx, drained),
    );
    await step('GNSS unplug and replug: the agent carries on', async () => {
      if (!ctx.control) throw new Skip('needs the control API (unplug the receiver by hand on a real rig)');
      const a = all.find((x) => x.device.gnss);
      if (!a) throw new Skip('no agent device has a GNSS receiver');
      await ctx.control.fault(a.device.id, 'gnss-unplug', Math.round(ctx.rig.clock?.speed ?? 1) * 6);
      await a.waitFor('GNSS loss reported', (s) => s.gnss.state !== 'open' || !s.gnss.usable, 60_000);
      const s = await a.waitFor('GNSS back', (s) => s.gnss.state === 'open' && s.gnss.usable, 90_000);
      if (s.state !== 'running') throw new BeepkitError('E_ASSERT', `agent ${s.state} after the unplug`);
    });
    await step('HCI controller reset: scanning resumes', async () => {
      if (!ctx.control) throw new Skip('needs the control API (power-cycle the dongle by hand on a real rig)');
      const a = all[0]!;
      const before = (await a.status())?.scan.total ?? 0;
      await ctx.control.fault(a.device.id, 'hci-reset');
      await a.waitFor('adverts after the reset', (s) => s.scan.total > before + 20 && s.state === 'running', 90_000);
    });
    await step('exactly once: outboxes empty, ledger verifies, no entry twice', async () => {
      await drained('at the end');
      const rep = await ctx.gateway.ledger.verify();
      if (!rep.ok) throw new BeepkitError('E_ASSERT', `ledger does not verify: ${rep.problem}`);
      const d = await duplicateEntries(ctx);
      const twice = [...d.records.values()].filter((n) => n > 1).length;
      ctx.print(`    ${d.entries} tracing entries, ${d.duplicates} duplicates; ${d.records.size} records, ${twice} twice`);
      if (d.duplicates) throw new BeepkitError('E_ASSERT', `${d.duplicates} entries on the ledger twice`);
      if (twice) throw new BeepkitError('E_ASSERT', `${twice} records on the ledger twice`);
    });
  },
};
