/**
 * en-conformance: runs after the other suites on every virtual rig (a rig with
 * the sim's control API). Every sim controller is in Exposure Notification
 * conformance mode (firmware-stubs/src/hci/conformance.ts): each EN advert the
 * agents and wearables put on air was checked for PDU type, address type and
 * kind, interval, payload length and rotation lockstep; any breach fails the
 * run, naming the device and the rule.
 */
import { BeepkitError } from '@beepkit/protocol';
import { Skip } from '../hil/context.ts';
import type { Suite } from '../hil/runner.ts';

export const conformance: Suite = {
  name: 'en-conformance',
  ci: true,
  description: "every EN advert of the run passed the virtual controllers' EN conformance mode",
  requires: (ctx) => (ctx.control ? undefined : 'a real rig: no virtual controller checked the adverts'),
  run: async (ctx, step) => {
    await step('no EN advert broke the EN Bluetooth Specification', async () => {
      const c = await ctx.control!.conformance();
      if (c.checked === 0) throw new Skip('no EN advert went on air in this run');
      if (c.violations > 0) {
        const where = Object.entries(c.byDevice)
          .map(
            ([d, rules]) =>
              `${d}: ${Object.entries(rules)
                .map(([r, n]) => `${r}×${n}`)
                .join(' ')}`,
          )
          .join('; ');
        throw new BeepkitError(
          'E_CONFORMANCE',
          `${c.violations} of ${c.checked} EN adverts broke the specification (${where}); first: ${c.recent[0]?.message ?? '?'}`,
        );
      }
      ctx.print(`  ${c.checked} EN adverts checked, 0 violations`);
    });
  },
};
