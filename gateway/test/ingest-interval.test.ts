/**
 * One record per pseudonym-day and interval (protocol/SPEC.md): a later batch
 * claiming an interval already on the ledger for the same pseudonym-day gets a
 * coded refusal (E_CONFLICT, listing its conflicting records), before and
 * after a restart of ledger and ingest on the same directory; an exact re-send
 * still gets its original receipt; other intervals, and the same interval of
 * another pseudonym, are accepted. The solver counts conflicting claims that
 * are on a ledger anyway (written before the rule, or by another writer) and
 * indexes only the first.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { equalBytes, fromHex, toHex } from '@beepkit/protocol';
import { Ed25519Signer, x25519PublicKey } from '@beepkit/protocol/crypto';
import { decodeMessage } from '@beepkit/protocol/wire';
import { TraceCodeSealer, decodeBatch, recordHash, signBatch } from '@beepkit/protocol/tracecode';
import { EmbeddedLedger } from '../src/ledger/index.ts';
import { Ingest } from '../src/ingest/index.ts';
import { claimKey } from '../src/ingest/fast.ts';
import { Solver } from '../src/solver/index.ts';
import { DAY, Pseudonym, bytesFrom, prng, tempDir, uploadPayload } from './gw-fixtures.ts';

const D = 20_602;
const NOW_MS = (D * DAY + DAY - 60) * 1000;

t.test('a second claim on an interval is refused with E_CONFLICT, across a restart; a re-send gets its receipt', async (t) => {
  const tmp = tempDir('ingest-interval');
  t.teardown(tmp.remove);
  const rand = prng(2525);
  const gwKey = new Ed25519Signer(bytesFrom(rand, 32));
  const ca = new Ed25519Signer(bytesFrom(rand, 32));
  const dir = join(tmp.dir, 'ledger');
  const open = async (): Promise<{ ledger: EmbeddedLedger; ingest: Ingest; stop(): Promise<void> }> => {
    const ledger = new EmbeddedLedger({ dir, signer: gwKey, now: () => NOW_MS });
    await ledger.open();
    const ingest = new Ingest({ ledger, caPublicKey: ca.publicKey, now: () => NOW_MS, verifyWorkers: 0 });
    return { ledger, ingest, stop: async () => (await ingest.stop(), await ledger.close()) };
  };
  const p = new Pseudonym(rand, D).certify(ca);
  const other = new Pseudonym(rand, D).certify(ca);
  const first = p.batch([10, 11]);
  let n = 0;
  const send = async (ingest: Ingest, batch: Uint8Array) => {
    const r = await ingest.handle(uploadPayload(batch, n++));
    return { ...r, msg: decodeMessage(r.reply!) };
  };

  let g = await open();
  const ok = await send(g.ingest, first);
  t.equal(ok.code, 'OK');
  const entry = await g.ledger.getByKey('tracing', claimKey(p.publicKey, D, 11));
  t.ok(entry && equalBytes(entry.data, first), 'the claim key of (pseudonym, day, 11) finds the batch on the ledger');
  const moved = p.batch([11, 12]); // another place for interval 11, a new interval 12
  const before = await send(g.ingest, moved);
  t.equal(before.code, 'E_CONFLICT', 'refused before the restart');
  if (before.msg.type !== 'error') throw new Error('error reply expected');
  t.same(before.msg.recordHashes.map(toHex), [toHex(recordHash(decodeBatch(moved).records[0]))], 'the reply lists the one conflicting record');
  t.equal((await send(g.ingest, other.batch([11]))).code, 'OK', 'interval 11 of another pseudonym is its own claim');
  await g.stop();

  g = await open();
  t.teardown(() => g.stop());
  const after = await send(g.ingest, p.batch([12, 11]));
  t.equal(after.code, 'E_CONFLICT', 'refused after the restart (claims rebuilt from the ledger)');
  const again = await send(g.ingest, first);
  t.equal(again.code, 'DUPLICATE', 'an exact re-send is not a conflict');
  if (again.msg.type !== 'receipt' || ok.msg.type !== 'receipt') throw new Error('receipts expected');
  t.same(
    [again.msg.leafIndex, toHex(again.msg.entryHash), toHex(again.msg.signedTreeHead)],
    [ok.msg.leafIndex, toHex(ok.msg.entryHash), toHex(ok.msg.signedTreeHead)],
    'its original receipt',
  );
  t.equal((await send(g.ingest, p.batch([12]))).code, 'OK', 'a new interval of the same pseudonym-day is accepted');
  t.equal((await g.ledger.sth('tracing'))!.treeSize, 3, 'three batches on the ledger, no conflicting one');
  t.ok((await g.ledger.verify()).ok, 'ledger verifies');
});

t.test('the solver counts conflicting claims it still sees and indexes the first only', async (t) => {
  const rand = prng(2626);
  const ca = new Ed25519Signer(bytesFrom(rand, 32));
  const solverKey = bytesFrom(rand, 32);
  const p = new Pseudonym(rand, D).certify(ca);
  const sealer = new TraceCodeSealer({ prefix: p.publicKey, ephemeralPriv: bytesFrom(rand, 32), solverPub: x25519PublicKey(solverKey) });
  const batch = (intervals: number[], lat: number): Uint8Array =>
    signBatch(
      {
        day: D,
        ephemeralPub: sealer.ephemeralPub,
        certificate: p.cert.bytes,
        records: intervals.map((i) =>
          sealer.seal(i, {
            start: D * DAY + i * 1800,
            end: D * DAY + i * 1800 + 600,
            lat,
            lon: -122.2727,
            accuracy: 10,
            sources: 1,
            level: 0,
            perturbed: false,
          }),
        ),
      },
      p.signer,
    );
  const solver = new Solver({ solverKey, caPub: ca.publicKey, now: () => NOW_MS, source: { blocks: async () => [] }, sink: { publish: async () => {} } });
  t.equal(solver.ingestBatch(batch([3, 4], 37.8716), NOW_MS), 2);
  t.equal(solver.ingestBatch(batch([4, 5], 37.9716), NOW_MS), 1, 'the second claim on interval 4 is not indexed');
  t.equal(solver.stats.conflictingClaims, 1, 'and is counted');
  t.equal(solver.index.n, 3);
});

t.test('claim keys are those of the published vectors (protocol/vectors/batch.json)', async (t) => {
  const v = JSON.parse(readFileSync(new URL('../../protocol/vectors/batch.json', import.meta.url), 'utf8')) as {
    valid: { hex: string }[];
    inputs: { intervals: number[]; claimKeys: string[] };
  };
  const b = decodeBatch(fromHex(v.valid[0].hex));
  t.same(
    v.inputs.intervals.map((i) => toHex(claimKey(b.traceCodes[0].prefix, b.day, i))),
    v.inputs.claimKeys,
  );
});
