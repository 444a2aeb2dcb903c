import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BeepkitError, ERROR_CODES, errorCodeOf, isBeepkitError, isErrorCode, need, remoteError } from '../src/errors.ts';
import { ROOT, sourceFiles } from './source-files.ts';

t.test('BeepkitError carries a stable code and serialises to {code,message}', async (t) => {
  const e = new BeepkitError('E_TRUNCATED', 'short');
  t.ok(e instanceof Error);
  t.ok(isBeepkitError(e));
  t.equal(e.code, 'E_TRUNCATED');
  t.same(JSON.parse(JSON.stringify(e)), { code: 'E_TRUNCATED', message: 'short' });
  t.notOk(isBeepkitError(new Error('x')));
});

t.test('need() rejects short buffers with E_TRUNCATED', async (t) => {
  t.throws(() => need(new Uint8Array(3), 1, 3, 'hdr'), { code: 'E_TRUNCATED' });
  t.doesNotThrow(() => need(new Uint8Array(4), 1, 3, 'hdr'));
});

t.test('the ErrorCode registry is closed, and protocol/README.md documents exactly its codes', async (t) => {
  const readme = readFileSync(join(ROOT, 'protocol', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Error codes'), readme.indexOf('\n## ', readme.indexOf('## Error codes') + 1));
  const documented = [...section.matchAll(/^\| `(E_[A-Z0-9_]+)` \| \S/gm)].map((m) => m[1]);
  t.ok(documented.length > 0, 'the README has an "Error codes" table');
  t.same(
    documented.filter((c) => !isErrorCode(c)),
    [],
    'the README lists no code the registry lacks',
  );
  t.same(
    ERROR_CODES.filter((c) => !documented.includes(c)),
    [],
    'every registered code is documented',
  );
  t.equal(new Set(ERROR_CODES).size, ERROR_CODES.length, 'no code registered twice');
  t.equal(new Set(documented).size, documented.length, 'no code documented twice');
  // @ts-expect-error an unregistered code does not typecheck
  t.equal(new BeepkitError('E_NOT_A_CODE', 'x').code, 'E_NOT_A_CODE');
});

t.test('every E_ code literal in production source is registered', async (t) => {
  const unregistered = new Set<string>();
  for (const f of sourceFiles(ROOT, new Set(['test', 'vectors']))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/['"`](E_[A-Z0-9_]+)['"`]/g))
      if (!isErrorCode(m[1])) unregistered.add(`${m[1]} (${f.slice(ROOT.length + 1)})`);
  }
  t.same([...unregistered], []);
});

t.test('a peer code becomes an ErrorCode: itself when known, else E_UNKNOWN with the code in the message', async (t) => {
  t.equal(errorCodeOf('E_RATE'), 'E_RATE');
  t.equal(errorCodeOf('E_FROM_THE_FUTURE'), 'E_UNKNOWN');
  t.match(remoteError('E_RATE', 'slow down'), { code: 'E_RATE', message: 'slow down' });
  t.match(remoteError('E_FROM_THE_FUTURE', 'new'), { code: 'E_UNKNOWN', message: 'E_FROM_THE_FUTURE: new' });
});
