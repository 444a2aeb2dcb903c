/**
 * Ingest handler, directly (no broker): ≥ 100 000 seeded mutated/random payloads
 * give only coded errors (never E_INTERNAL, never a crash) and append nothing
 * but genuine batches; rate limit and duplicate records are coded too.
 */
import t from 'tap';
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { decodeMessage } from '@beepkit/protocol/wire';
import { signBatch } from '@beepkit/protocol/tracecode';
import { EmbeddedLedger, randomSigner } from '../src/ledger/index.ts';
import { Ingest } from '../src/ingest/index.ts';
import { DAY, Pseudonym, bytesFrom, prng, recordHash, tempDir, toHex, uploadPayload } from './gw-fixtures.ts';
import { hostNow } from '@beepkit/protocol/clock';

const NOW = (20_602 * DAY + 12 * 3600) * 1000;
const TODAY = 20_602;

async function setup(t: { teardown(fn: () => unknown): void }, rate?: { burst: number; perSecond: number }) {
  const tmp = tempDir('fuzz');
  const ledger = new EmbeddedLedger({ now: hostNow, dir: tmp.dir, signer: randomSigner() });
  await ledger.open();
  t.teardown(async () => {
    await ledger.close();
    tmp.remove();
  });
  const ca = new Ed25519Signer(bytesFrom(prng(99), 32));
  const ingest = new Ingest({ ledger, caPublicKey: ca.publicKey, now: () => NOW, rate });
  return { ledger, ca, ingest };
}

t.test('100 000 mutated and random payloads: coded errors only, nothing bad appended', { timeout: 300_000 }, async (t) => {
  const { ledger, ca, ingest } = await setup(t);
  const rand = prng(20240601);
  const p = new Pseudonym(rand, TODAY).certify(ca);
  const bases = [uploadPayload(p.batch([0]), 1), uploadPayload(p.batch(Array.from({ length: 24 }, (_, i) => i + 1)), 2)];
  for (const b of bases) t.equal((await ingest.handle(b)).code, 'OK', 'base batch accepted');
  const genuine = new Set(bases.map((b) => toHex((decodeMessage(b) as { batch: Uint8Array }).batch)));
  const size0 = (await ledger.sth('tracing'))!.treeSize;
  const codes: Record<string, number> = {};
  let bad = 0;
  const N = 100_000;
  for (let i = 0; i < N; i++) {
    const base = bases[i % 2];
    let m: Uint8Array;
    const kind = Math.floor(rand() * 6);
    if (kind === 0) {
      m = base.slice();
      const flips = 1 + Math.floor(rand() * 4);
      for (let f = 0; f < flips; f++) m[Math.floor(rand() * m.length)] ^= 1 << Math.floor(rand() * 8);
    } else if (kind === 1) m = base.slice(0, Math.floor(rand() * base.length));
    else if (kind === 2) m = Buffer.concat([base, bytesFrom(rand, 1 + Math.floor(rand() * 8))]);
    else if (kind === 3) m = bytesFrom(rand, Math.floor(rand() * 300));
    else if (kind === 4) {
      m = base.slice();
      const at = Math.floor(rand() * m.length);
      m.set(bytesFrom(rand, Math.min(16, m.length - at)), at);
    } else {
      m = base.slice();
      m[12 + Math.floor(rand() * 60)] = Math.floor(rand() * 256); // header, day, key, cert length region
    }
    const r = await ingest.handle(m);
    codes[r.code] = (codes[r.code] ?? 0) + 1;
    if (!/^(OK|DUPLICATE|E_[A-Z0-9_]+)$/.test(r.code) || r.code === 'E_INTERNAL' || !r.ack || !r.reply) bad++;
    if (r.code === 'OK' && !genuine.has(toHex((decodeMessage(m) as { batch: Uint8Array }).batch))) bad++;
  }
  t.equal(bad, 0, 'every payload got a coded reply; only genuine batches were accepted');
  t.equal((await ledger.sth('tracing'))!.treeSize, size0, 'nothing new on the ledger');
  t.ok(Object.keys(codes).length >= 6, `variety of codes: ${JSON.stringify(codes)}`);
  t.ok((codes.E_SIGNATURE ?? 0) > 0 && (codes.E_TRUNCATED ?? 0) > 0 && (codes.E_FORMAT ?? 0) > 0, 'signature, truncation and format errors seen');
});

t.test('rate limit per pseudonym-day and duplicate records are coded', async (t) => {
  const { ca, ingest } = await setup(t, { burst: 10, perSecond: 0 });
  const p = new Pseudonym(prng(5), TODAY).certify(ca);
  const first = p.batch([0, 1, 2, 3, 4, 5, 6, 7]);
  t.equal((await ingest.handle(uploadPayload(first, 1))).code, 'OK');
  const r = await ingest.handle(uploadPayload(p.batch([8, 9, 10]), 2));
  t.equal(r.code, 'E_RATE', 'over the burst');
  t.equal(decodeMessage(r.reply!).type, 'error');

  const q = new Pseudonym(prng(6), TODAY).certify(ca);
  const { ingest: ing2, ledger: l2 } = await setup(t);
  const r1 = q.record(3);
  const b1 = signBatchWith(q, [r1, q.record(4)]);
  t.equal((await ing2.handle(uploadPayload(b1, 3))).code, 'OK');
  const dup = await ing2.handle(uploadPayload(signBatchWith(q, [r1, q.record(5)]), 4));
  t.equal(dup.code, 'E_DUPLICATE');
  const reply = decodeMessage(dup.reply!);
  t.same(reply.type === 'error' ? reply.recordHashes.map(toHex) : [], [toHex(recordHash(r1))], 'the duplicated record is named');
  t.equal((await l2.sth('tracing'))!.treeSize, 1, 'only the first batch is on the ledger');
});

function signBatchWith(p: Pseudonym, records: Uint8Array[]): Uint8Array {
  return signBatch({ day: p.day, ephemeralPub: p.ephemeral, certificate: p.cert.bytes, records }, p.signer);
}
