/** soak (outside CI): the crowd scenario for 30 min, no memory growth beyond a bound, no stuck state. */
import { BeepkitError } from '@beepkit/protocol';
import type { Suite } from '../hil/runner.ts';

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
