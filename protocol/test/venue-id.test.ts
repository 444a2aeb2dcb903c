/** The one 6-byte ↔ 8-byte venue id mapping: vectors, round trip, typed errors. */
import t from 'tap';
import fc from 'fast-check';
import { toHex } from '@beepkit/protocol/bytes';
import { venueId6, venueId8, venueIdHex } from '@beepkit/protocol/frames';

t.test('vectors', async (t) => {
  t.equal(toHex(venueId8('a1b2c3d4e5f6')), 'a1b2c3d4e5f60000');
  t.equal(toHex(venueId8(Uint8Array.of(1, 2, 3, 4, 5, 6))), '0102030405060000');
  t.equal(toHex(venueId6('a1b2c3d4e5f60000')), 'a1b2c3d4e5f6');
  t.equal(toHex(venueId6('A1B2C3D4E5F6')), 'a1b2c3d4e5f6', 'a 6-byte id passes through');
  t.equal(venueIdHex('a1b2c3d4e5f60000'), 'a1b2c3d4e5f6');
  t.equal(venueIdHex(Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6)), 'a1b2c3d4e5f6');
});

t.test('typed errors', async (t) => {
  t.throws(() => venueId6('a1b2c3d4e5f60001'), { code: 'E_FORMAT' }, 'non-zero padding');
  t.throws(() => venueId6(new Uint8Array(7)), { code: 'E_RANGE' });
  t.throws(() => venueId8(new Uint8Array(8)), { code: 'E_RANGE' });
  t.throws(() => venueId8('zz'), { code: /^E_/ });
});

t.test('round trip', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (id) => toHex(venueId6(venueId8(id))) === toHex(id) && venueIdHex(venueId8(id)) === toHex(id)),
    { seed: 806 },
  );
  t.equal(venueId8(new Uint8Array(6)).length, 8);
});
