/**
 * Rollback at rest, the part that is cheap to catch: the sealed profile names the keystore's newest
 * master epoch, so a profile put back from before a revocation (the revoked carer's pairing in it)
 * no longer matches the rotated keystore: the pairing is dropped and the master rotated again,
 * logged E_ROLLBACK. A plain restart keeps the pairing; a crash between the revocation's profile
 * write and its rotation finishes the rotation at the next start without a false alarm. (Both files
 * put back together are not detectable: wearable/README.md, "Threats and limits".)
 */
import t from 'tap';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '@beepkit/protocol/bytes';
import { WearableState } from '../src/state.ts';
import { DAY } from './fixtures/memory.ts';

const now = () => DAY * 86_400 + 7_200;

function logger() {
  const lines: { msg: string; [k: string]: unknown }[] = [];
  const at = (o: object, msg: string) => void lines.push({ msg, ...o });
  return { lines, info: at, warn: at, error: at, debug: () => {} };
}

async function open(dir: string) {
  const log = logger();
  const s = new WearableState({ dataDir: dir, now, logger: log });
  await s.start();
  return { s, log };
}

const pairing = { pairingId: new Uint8Array(16).fill(1), pairingKey: new Uint8Array(32).fill(2) };

t.test('a profile put back from before a revocation: pairing dropped, master rotated again, E_ROLLBACK', async (t) => {
  const dir = t.testdir();
  const a = await open(dir);
  await a.s.setPairing(pairing);
  await a.s.stop();
  const b = await open(dir);
  t.ok(b.s.pairing, 'a plain restart keeps the pairing');
  t.notOk(
    b.log.lines.some((l) => l.code === 'E_ROLLBACK'),
    'no false alarm',
  );
  copyFileSync(join(dir, 'profile.bin'), join(dir, 'profile.old'));
  await b.s.revokeCarer();
  const revokedTek = toHex(b.s.keystore.dayKeys(DAY).tek);
  await b.s.stop();
  copyFileSync(join(dir, 'profile.old'), join(dir, 'profile.bin')); // the attacker (or a backup) puts the old profile back
  const c = await open(dir);
  t.equal(c.s.pairing, undefined, 'the revoked pairing did not come back');
  t.match(
    c.log.lines.find((l) => l.code === 'E_ROLLBACK'),
    { hadCarer: true },
    'logged',
  );
  t.not(toHex(c.s.keystore.dayKeys(DAY).tek), revokedTek, 'the master rotated again');
  await c.s.stop();
  const d = await open(dir);
  t.notOk(
    d.log.lines.some((l) => l.code === 'E_ROLLBACK'),
    'settled: the next start is quiet',
  );
  await d.s.stop();
});

t.test("a crash between the revocation's profile write and its rotation: finished at the next start, no alarm", async (t) => {
  const dir = t.testdir();
  const a = await open(dir);
  await a.s.setPairing(pairing);
  const before = toHex(a.s.keystore.dayKeys(DAY).tek);
  a.s.keystore.rotate = async () => {
    throw new Error('power lost');
  };
  await t.rejects(a.s.revokeCarer(), { message: 'power lost' });
  await a.s.stop();
  const b = await open(dir);
  t.equal(b.s.pairing, undefined);
  t.not(toHex(b.s.keystore.dayKeys(DAY).tek), before, 'the rotation was finished at start');
  t.notOk(
    b.log.lines.some((l) => l.code === 'E_ROLLBACK'),
    'no false alarm',
  );
  await b.s.stop();
});
