/**
 * setAside (infra/files.ts): an unreadable file moved beside itself, earlier copies kept; and loadSealedJson, whose
 * only "nothing there" is a missing file (any other failure has a code, so no caller saves over what it could not read).
 */
import t from 'tap';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMissingFile, readOrSetAside, setAside } from '../src/infra/files.ts';
import { loadSealedJson, saveSealedJson } from '../src/keys/index.ts';
import { BeepkitError } from '@beepkit/protocol';

t.test('setAside: .unreadable, then .unreadable.2, .3; no file: undefined', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'log.bin');
  t.equal(await setAside(path), undefined, 'no file');
  for (let i = 1; i <= 3; i++) {
    writeFileSync(path, `copy ${i}`);
    t.equal(await setAside(path), join(dir, i === 1 ? 'log.bin.unreadable' : `log.bin.unreadable.${i}`));
  }
  t.same(readdirSync(dir).sort(), ['log.bin.unreadable', 'log.bin.unreadable.2', 'log.bin.unreadable.3']);
  t.equal(readFileSync(join(dir, 'log.bin.unreadable'), 'utf8'), 'copy 1', 'the first copy is never replaced');
  t.equal(readFileSync(join(dir, 'log.bin.unreadable.3'), 'utf8'), 'copy 3');
});

t.test('isMissingFile: ENOENT itself or as a cause, nothing else', (t) => {
  const enoent = Object.assign(new Error('no file'), { code: 'ENOENT' });
  t.ok(isMissingFile(enoent));
  t.ok(isMissingFile(new BeepkitError('E_IO', 'cannot read', { cause: enoent })));
  t.notOk(isMissingFile(new BeepkitError('E_IO', 'cannot read', { cause: Object.assign(new Error('denied'), { code: 'EACCES' }) })));
  t.notOk(isMissingFile(new BeepkitError('E_DECRYPT', 'wrong key')));
  t.notOk(isMissingFile(undefined));
  t.end();
});

t.test('loadSealedJson: undefined only for a missing file', async (t) => {
  const dir = t.testdir();
  const key = new Uint8Array(32).fill(7);
  const aad = new TextEncoder().encode('test');
  const path = join(dir, 'v.bin');
  t.equal(await loadSealedJson(path, key, aad), undefined, 'no file');
  await saveSealedJson(path, [1, 2], key, aad);
  t.same(await loadSealedJson(path, key, aad), [1, 2]);
  await t.rejects(loadSealedJson(path, new Uint8Array(32), aad), { code: 'E_DECRYPT' }, 'wrong key');
  writeFileSync(path, new Uint8Array(10));
  await t.rejects(loadSealedJson(path, key, aad), { code: 'E_TRUNCATED' }, 'too short');
  mkdirSync(join(dir, 'd.bin'));
  await t.rejects(loadSealedJson(join(dir, 'd.bin'), key, aad), { code: 'E_IO' }, 'unreadable (a directory): E_IO, not "absent"');
});

t.test('readOrSetAside: a value, {} for a missing file, else the code and the file set aside', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'x.bin');
  const read = async (p: string) => JSON.parse(readFileSync(p, 'utf8')) as unknown;
  const strict = async (p: string) => {
    try {
      return await read(p);
    } catch (cause) {
      throw new BeepkitError((cause as { code?: string }).code === 'ENOENT' ? 'E_IO' : 'E_FORMAT', 'cannot read', { cause });
    }
  };
  t.same(await readOrSetAside(path, strict), {}, 'missing');
  writeFileSync(path, '[1]');
  t.same(await readOrSetAside(path, strict), { value: [1] });
  writeFileSync(path, 'not json');
  t.same(await readOrSetAside(path, strict), { unreadable: { code: 'E_FORMAT', setAside: `${path}.unreadable` } });
  t.equal(readFileSync(`${path}.unreadable`, 'utf8'), 'not json');
  writeFileSync(path, 'not json either');
  t.same(await readOrSetAside(path, read), { unreadable: { code: 'E_INTERNAL', setAside: `${path}.unreadable.2` } }, 'an untyped error');
});
