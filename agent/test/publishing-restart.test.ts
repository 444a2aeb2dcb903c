/**
 * The agent's Publishing across a restart: the stay flush() seals at stop takes interval I; a
 * restart within I must not open another stay in I (an interval is unique per pseudonym-day: a
 * batch with one twice is malformed and quarantined at the gateway), and the next interval seals.
 */
import t from 'tap';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { issueCertificate, encodeCertificate, keyId } from '@beepkit/protocol/cert';
import { decodeTraceCode } from '@beepkit/protocol/tracecode';
import { x25519PublicKey } from '@beepkit/protocol/crypto';
import { silentLogger } from '../src/alerts/logger.ts';
import { KeystoreFile } from '@beepkit/device-core/keys';
import { Outbox } from '@beepkit/device-core/outbox';
import { resolveConfig } from '../src/config/index.ts';
import { Publishing } from '../src/app/publishing.ts';
import type { AgentNetwork } from '../src/app/ports.ts';
import type { TrustVerdict } from '../src/trust/index.ts';

const DAY = 20_400;
const INTERVAL_MS = 1_800_000;
const T0 = DAY * 86_400_000 + 10 * INTERVAL_MS + 60_000; // one minute into interval 10

t.test('a restart within the interval flush() sealed opens no second stay in it', async (t) => {
  const dir = t.testdir();
  let now = T0;
  const keystore = await KeystoreFile.open(
    join(dir, 'ks'),
    { passphrase: 'p', scrypt: { logN: 10, r: 8, p: 1 } },
    { create: true, now: () => Math.floor(now / 1000) },
  );
  const caPriv = new Uint8Array(32).fill(7);
  const solverPub = x25519PublicKey(new Uint8Array(32).fill(9));
  const cert = issueCertificate(caPriv, {
    role: 'device',
    serial: 1,
    day: DAY,
    notBefore: DAY * 86_400,
    notAfter: (DAY + 1) * 86_400,
    subject: keystore.dayKeys(DAY).pseudonym,
    solverKeyId: keyId(solverPub),
    region: 'test',
  });
  const network = {
    certificate: (d: number) =>
      d === DAY ? { day: DAY, certificate: encodeCertificate(cert), solverPublicKey: solverPub, solverKeyId: keyId(solverPub) } : undefined,
  } as unknown as AgentNetwork;
  const config = resolveConfig({ dataDir: dir, publisher: { intervalMs: INTERVAL_MS } });
  const outbox = new Outbox({ path: join(dir, 'outbox') });
  await outbox.start();
  t.teardown(() => outbox.stop());
  const verdict = (): TrustVerdict =>
    ({ ok: true, evidence: { fused: { at: now, lat: 55.9486, lon: -3.1999, accuracyM: 5, sources: ['gnss'] } } }) as unknown as TrustVerdict;
  const intervals = (): number[] =>
    outbox
      .pending()
      .map((p) => decodeTraceCode(p.bytes).interval)
      .sort((a, b) => a - b);
  const run = async (at: number): Promise<Publishing> => {
    now = at;
    const p = new Publishing({ config, keystore, outbox, network, now: () => now, logger: silentLogger });
    await p.publishTick(verdict(), true);
    return p;
  };

  const first = await run(T0);
  await first.flush();
  t.same(intervals(), [10], 'stop: the open stay is sealed in interval 10');

  const second = await run(T0 + 5 * 60_000);
  t.equal(second.counts['already-sealed'], 1, 'restarted within interval 10: no new stay');
  await second.flush();
  t.same(intervals(), [10], 'nothing sealed twice in interval 10');

  const third = await run(T0 + INTERVAL_MS);
  await third.flush();
  t.same(intervals(), [10, 11], 'the next interval seals');

  await rm(join(dir, 'publisher.json'));
  const forgetful = await run(T0 + INTERVAL_MS + 60_000);
  await forgetful.flush();
  t.same(intervals(), [10, 11, 11], 'without publisher.json the interval would be sealed twice (what the file prevents)');
});
