/**
 * uplink: TraceCodes reach the ledger exactly once through kill -9 of an agent,
 * a gateway + broker restart, a GNSS unplug and an HCI controller reset (the
 * last two need the control API). Exactly once = every outbox drains and the
 * verified ledger holds each entry once.
 */
import { BeepkitError } from '@beepkit/protocol';
import { toHex } from '@beepkit/protocol/bytes';
import { Skip, type HilContext } from '../hil/context.ts';
import type { Suite } from '../hil/runner.ts';

async function tracingEntries(ctx: HilContext): Promise<number> {
  return (await ctx.gateway.ledger.sth('tracing'))?.treeSize ?? 0;
}

/** Every tracing entry, counted by hash: the duplicates. */
export async function duplicateEntries(ctx: HilContext): Promise<{ entries: number; duplicates: number }> {
  const seen = new Set<string>();
  let entries = 0;
  let duplicates = 0;
  for (let h = 0; ; ) {
    const blocks = await ctx.gateway.ledger.blocks('tracing', h, 64);
    if (blocks.length === 0) break;
    for (const b of blocks) {
      for (const e of b.entries) {
        const k = toHex(e.entryHash);
        entries++;
        if (seen.has(k)) duplicates++;
        seen.add(k);
      }
    }
    h += blocks.length;
  }
  return { entries, duplicates };
}

export const uplink: Suite = {
  name: 'uplink',
  ci: true,
  description: 'exactly-once upload through agent kill -9, gateway/broker restart, GNSS unplug, HCI controller reset',
  async run(ctx, step) {
    const agents = await ctx.agentsUp();
    const all = [...agents.values()];
    const drained = (what: string): Promise<unknown> => Promise.all(all.map((a) => a.waitFor(`${what}: connected, outbox empty`, (s) => s.network.state === 'connected' && s.outbox.depth === 0, 90_000)));
    await step('TraceCodes reach the ledger', async () => {
      const limit = 60_000 + ctx.real(2_400_000);
      const until = Date.now() + limit;
      while ((await tracingEntries(ctx)) === 0) {
        if (Date.now() > until) throw new BeepkitError('E_TIMEOUT', `no TraceCode on the ledger in ${Math.round(limit / 1000)} s`);
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
      ctx.print(`    ${d.entries} tracing entries, ${d.duplicates} duplicates`);
      if (d.duplicates) throw new BeepkitError('E_ASSERT', `${d.duplicates} entries on the ledger twice`);
    });
  },
};
