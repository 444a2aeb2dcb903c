/** carer (skipped until the carer code lands) and soak (outside CI). */
import { BeepkitError } from '@beepkit/protocol';
import { runBeepkit } from '../hil/agents.ts';
import { BIN, Skip } from '../hil/context.ts';
import type { Suite } from '../hil/runner.ts';

export const carer: Suite = {
  name: 'carer',
  ci: true,
  description: 'pairing a wearable, its alerts through the carer, revocation',
  async requires(ctx) {
    const w = ctx.rig.devices.find((d) => d.role === 'wearable' && d.carer);
    if (!w) return 'the rig has no wearable with a carer';
    try {
      await runBeepkit(BIN, ['agent', 'carer', 'pair'], 60_000);
    } catch (e) {
      const m = (e as Error).message;
      if (/not available yet|E_UNAVAILABLE|\(3\)/.test(m)) return 'the carer code has not landed (beepkit agent carer: not available yet, issue 8)';
    }
    return undefined;
  },
  async run() {
    throw new Skip('carer pairing over the rig is not wired into the HIL suites yet');
  },
};

const SOAK_MS = 30 * 60_000;
const RSS_BOUND_BYTES = 64 * 1024 * 1024;

export const soak: Suite = {
  name: 'soak',
  ci: false,
  description: '30 min of the crowd scenario: no memory growth beyond a bound, no stuck state',
  async run(ctx, step) {
    const agents = [...(await ctx.agentsUp()).values()];
    const rss = (): number => process.memoryUsage().rss;
    const start = rss();
    const totals = new Map<string, number>();
    const until = Date.now() + SOAK_MS;
    await step(`30 min: gateway process RSS grows < ${RSS_BOUND_BYTES >> 20} MiB; every agent keeps scanning and running`, async () => {
      while (Date.now() < until) {
        await new Promise((r) => setTimeout(r, 60_000));
        for (const a of agents) {
          const s = await a.status();
          if (!s || s.state !== 'running') throw new BeepkitError('E_ASSERT', `${a.device.id}: not running`);
          if ((totals.get(a.device.id) ?? -1) >= s.scan.total) throw new BeepkitError('E_ASSERT', `${a.device.id}: scanning stuck at ${s.scan.total}`);
          totals.set(a.device.id, s.scan.total);
        }
        ctx.print(`    rss ${(rss() / 2 ** 20).toFixed(0)} MiB, ledger ${(await ctx.gateway.ledger.sth('tracing'))?.treeSize ?? 0} entries`);
      }
      if (rss() - start > RSS_BOUND_BYTES) throw new BeepkitError('E_ASSERT', `RSS grew ${((rss() - start) / 2 ** 20).toFixed(0)} MiB`);
    });
  },
};
