// Fills a ledger directory with bench/ledger.ts's entries (28 x 100 B records, 28 keys each), in blocks of 2000,
// then closes it (the close writes the index). For bench/profile/ledger-open.ts on sizes the bench cannot afford.
// Usage: node --import tsx bench/profile/ledger-fill.ts <ledger dir> <entries> [first entry, default 0]
import os from 'node:os';
import { EmbeddedLedger, ed25519Signer } from '@beepkit/gateway/ledger';
import { hostNow } from '@beepkit/protocol/clock';
import { entry } from '../ledger.ts';

const [dir, nArg, fromArg = '0'] = process.argv.slice(2);
const n = Number(nArg);
const from = Number(fromArg);
const l = new EmbeddedLedger({ now: hostNow, dir, signer: ed25519Signer(new Uint8Array(32).fill(3)) });
await l.open();
const t0 = process.hrtime.bigint();
for (let i = from; i < from + n; i += 2000) {
  await l.append(
    'tracing',
    Array.from({ length: Math.min(2000, from + n - i) }, (_, j) => entry(i + j, 1 << 30)),
  );
  if ((i - from) % 100_000 === 0) console.log(`${i} entries, ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(0)} s, load ${os.loadavg()[0].toFixed(1)}`);
}
await l.close();
console.log(`${from + n} entries in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(0)} s`);
