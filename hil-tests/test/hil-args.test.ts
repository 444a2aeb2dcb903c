/** `npm run hil` refuses bad arguments with E_CONFIG and exit 2, before any rig starts. */
import t from 'tap';
import { runHil } from './hil-helpers.ts';

for (const [args, expect] of [
  [['--start', 'nonsense'], /E_CONFIG: --start must be an ISO 8601 time/],
  [['--start', '2028-02-30T25:00:00Z'], /E_CONFIG: --start must be an ISO 8601 time/],
  [['--suite', 'nosuch'], /E_CONFIG: unknown suite nosuch/],
  [['--suite', 'soak', '--minutes', '0'], /E_CONFIG: --minutes must be a whole number/],
] as const) {
  t.test(args.join(' '), async (t) => {
    const { code, out } = await runHil([...args], 60_000);
    t.equal(code, 2, 'exit 2');
    t.match(out, expect);
    t.notMatch(out, /^rig:/m, 'no rig was started');
  });
}

t.test('--help names --start and its default', async (t) => {
  const { code, out } = await runHil(['--help'], 60_000);
  t.equal(code, 0);
  t.match(out, /--start ISO\|now/);
  t.match(out, /default 09:00 UTC of the host's day/);
});
