/** `beepkit demo --chain`: only anvil runs here; --keep-chain needs --chain (exit 64 before anything starts). */
import t from 'tap';
import { runDemo } from '../src/cli.ts';

t.test('--chain and --keep-chain are checked before the trial starts', async (t) => {
  const errors: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (errors.push(String(s)), true)) as typeof process.stderr.write;
  try {
    t.equal(await runDemo({ scenario: 'cafe', chain: 'besu' }), 64);
    t.equal(await runDemo({ scenario: 'cafe', keepChain: true }), 64);
  } finally {
    process.stderr.write = write;
  }
  t.match(errors.join(''), /--chain: only anvil runs here, got besu/);
  t.match(errors.join(''), /--keep-chain needs --chain anvil/);
});
