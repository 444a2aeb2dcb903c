import t from 'tap';
import { BeepkitError, isBeepkitError, need } from '../src/errors.ts';

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
