/** writeSealedFile / readSealedFile: the small sealed files (carer store, wearable profile, encounter files). */
import t from 'tap';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSealedFile, writeSealedFile } from '../src/keys/index.ts';

const MAGIC = new TextEncoder().encode('BKTS1');
const key = new Uint8Array(32).fill(3);

t.test('round trip, absent, and every refusal by code', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'x.bin');
  t.equal(await readSealedFile(path, key, MAGIC, 'test file'), undefined, 'no file: undefined');
  await writeSealedFile(path, key, MAGIC, new TextEncoder().encode('hello'));
  t.equal(statSync(path).mode & 0o777, 0o600);
  const bytes = readFileSync(path);
  t.same([...bytes.subarray(0, MAGIC.length)], [...MAGIC], 'starts with the magic');
  t.equal(new TextDecoder().decode(await readSealedFile(path, key, MAGIC, 'test file')), 'hello');
  await t.rejects(readSealedFile(path, new Uint8Array(32).fill(4), MAGIC, 'test file'), { code: 'E_DECRYPT' }, 'wrong key');
  await t.rejects(readSealedFile(path, key, MAGIC, 'test file', new Uint8Array([1])), { code: 'E_DECRYPT' }, 'another aad');
  await t.rejects(readSealedFile(path, key, new TextEncoder().encode('BKXX1'), 'test file'), { code: 'E_FORMAT' }, 'another magic');
  writeFileSync(path, bytes.subarray(0, MAGIC.length + 10), { mode: 0o600 });
  await t.rejects(readSealedFile(path, key, MAGIC, 'test file'), { code: 'E_TRUNCATED' }, 'too short');
  writeFileSync(path, bytes);
  chmodSync(path, 0o644);
  await t.rejects(readSealedFile(path, key, MAGIC, 'test file'), { code: 'E_PERMISSION' }, 'group/world readable');
  await t.rejects(readSealedFile(dir, key, MAGIC, 'test file'), { code: 'E_IO' }, 'unreadable (a directory)');
});
