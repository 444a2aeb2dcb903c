/** carer (skipped until the carer code lands). */
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
