import t from 'tap';
import { chmod, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KeystoreFile, checkPrivateFile, readKeyFile } from '../src/keys/index.ts';
import { writeFileAtomic } from '../src/infra/files.ts';
import { openKeystore } from '@beepkit/protocol/keys';

const scrypt = { logN: 10, r: 8, p: 1 };
const DAY = 20100;
const clock = (day: number) => () => day * 86400 + 3600;

t.test('create: 0600 on disk, reopen with the passphrase, wrong passphrase is E_DECRYPT', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'agent.keystore');
  const ks = await KeystoreFile.open(path, { passphrase: 'hunter2', scrypt }, { create: true, now: clock(DAY) });
  t.equal((await stat(path)).mode & 0o777, 0o600);
  const today = ks.dayKeys();
  t.equal(today.day, DAY);
  const again = await KeystoreFile.open(path, { passphrase: 'hunter2' }, { now: clock(DAY) });
  t.same(again.dayKeys(DAY), today, 'same keys after reopening');
  await t.rejects(KeystoreFile.open(path, { passphrase: 'hunter3' }), { code: 'E_DECRYPT' });
  await t.rejects(KeystoreFile.open(join(dir, 'absent'), { passphrase: 'x' }), { code: 'E_IO' }, 'absent without create');
  t.same((await readdir(dir)).sort(), ['agent.keystore'], 'no temp files left');
});

t.test('refuses a group/world-readable keystore and key file', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'k.keystore');
  await KeystoreFile.open(path, { passphrase: 'p', scrypt }, { create: true, now: clock(DAY) });
  await chmod(path, 0o644);
  await t.rejects(KeystoreFile.open(path, { passphrase: 'p' }), { code: 'E_PERMISSION', message: /chmod 600/ });
  await chmod(path, 0o640);
  await t.rejects(checkPrivateFile(path), { code: 'E_PERMISSION' });
  const keyFile = join(dir, 'kek');
  await writeFile(keyFile, 'ab'.repeat(32) + '\n', { mode: 0o644 });
  await t.rejects(readKeyFile(keyFile), { code: 'E_PERMISSION' });
  await chmod(keyFile, 0o600);
  t.equal((await readKeyFile(keyFile)).length, 32);
  await writeFile(keyFile, 'short', { mode: 0o600 });
  await t.rejects(readKeyFile(keyFile), { code: 'E_KEY' });
});

t.test('key file secret, renounce, purge and rotate persist', async (t) => {
  const dir = t.testdir();
  const keyFile = join(dir, 'kek');
  await writeFile(keyFile, Buffer.alloc(32, 7), { mode: 0o600 });
  const path = join(dir, 'k.keystore');
  const ks = await KeystoreFile.open(path, { keyFile }, { create: { retentionDays: 3, fromDay: DAY }, now: clock(DAY + 2) });
  const k0 = ks.dayKeys(DAY);
  const k2 = ks.dayKeys(DAY + 2);
  await ks.renounce(DAY + 1);
  t.throws(() => ks.dayKeys(DAY + 1), { code: 'E_KEY' });
  await ks.purge(DAY + 3); // retention 3: keeps DAY+1..DAY+3
  t.throws(() => ks.dayKeys(DAY), { code: 'E_KEY' }, 'purged');
  let re = await KeystoreFile.open(path, { keyFile });
  t.throws(() => re.dayKeys(DAY), { code: 'E_KEY' }, 'purge persisted');
  t.throws(() => re.dayKeys(DAY + 1), { code: 'E_KEY' }, 'renounce persisted');
  t.same(re.dayKeys(DAY + 2), k2);
  t.notSame(k0.tek, k2.tek);
  await ks.rotate(DAY + 3);
  re = await KeystoreFile.open(path, { keyFile });
  t.same(re.dayKeys(DAY + 2), k2, 'rotation keeps earlier days');
  t.equal(re.state.epochs.length, 2);
  t.equal((await stat(path)).mode & 0o777, 0o600, 'still 0600 after rewrites');
  const raw = new Uint8Array(await readFile(path));
  t.equal(openKeystore(raw, { key: new Uint8Array(32).fill(7) }).epochs.length, 2, 'readable with the protocol API');
  await t.rejects(KeystoreFile.open(path, { passphrase: 'x' }), { code: 'E_KEY' }, 'wrong kind of secret');
});

t.test('writeFileAtomic replaces content and applies the mode', async (t) => {
  const dir = t.testdir({ f: 'old' });
  const p = join(dir, 'f');
  await writeFileAtomic(p, new TextEncoder().encode('new'));
  t.equal(await readFile(p, 'utf8'), 'new');
  t.equal((await stat(p)).mode & 0o777, 0o600);
  await t.rejects(writeFileAtomic(join(dir, 'missing-dir', 'x'), new Uint8Array(1)), { code: 'E_IO' });
});
