// Child process of ledger-index-kill.test.ts: fills a ledger with entries of 16 keys (a
// ~2 MB index), then forever: append one entry, print "ack <hash>", print "closing",
// close (which writes the index), reopen. Usage: ledger-index-child.ts <dir> <run id>
import { toHex } from '@beepkit/protocol';
import { EmbeddedLedger } from '../src/ledger/index.ts';
import { batch, receiptOf, testSigner } from './ledger-helpers.ts';
import { hostNow } from '@beepkit/protocol/clock';

const [dir, run] = process.argv.slice(2);
const open = async (): Promise<EmbeddedLedger> => {
  const l = new EmbeddedLedger({ now: hostNow, dir, signer: testSigner });
  await l.open();
  return l;
};
let ledger = await open();
if (run === '0') {
  for (let i = 0; i < 8000; i += 500)
    await ledger.append(
      'tracing',
      Array.from({ length: 500 }, (_, j) => batch(`fill/${i + j}`, 16)),
    );
}
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  const [r] = await ledger.append('tracing', [batch(`${run}/${i}`, 16)]);
  process.stdout.write(`ack ${toHex(receiptOf(r).entryHash)}\n`);
  process.stdout.write('closing\n');
  await ledger.close();
  ledger = await open();
}
