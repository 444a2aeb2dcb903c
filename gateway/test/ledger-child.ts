// Child process of ledger-kill.test.ts: appends forever with 8 concurrent
// writers; prints "ack <entry hash hex>" only after the append resolved
// (i.e. after write + fsync). Usage: ledger-child.ts <dir> <run id>
import { toHex } from '@beepkit/protocol';
import { EmbeddedLedger } from '../src/ledger/index.ts';
import { batch, receiptOf, testSigner } from './ledger-helpers.ts';
import { hostNow } from '@beepkit/protocol/clock';

const [dir, run] = process.argv.slice(2);
const ledger = new EmbeddedLedger({ now: hostNow, dir, signer: testSigner });
await ledger.open();
process.stdout.write('ready\n');
const worker = async (w: number): Promise<void> => {
  for (let i = 0; ; i++) {
    const [r] = await ledger.append('tracing', [batch(`${run}/${w}/${i}`, 3)]);
    process.stdout.write(`ack ${toHex(receiptOf(r).entryHash)}\n`);
  }
};
await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
