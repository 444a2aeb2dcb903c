import t from 'tap';
import fc from 'fast-check';
import { Reader, Writer, fromHex, toHex, equalBytes } from '../src/bytes.ts';

t.test('writer/reader round-trip every field type', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: -0x80000000, max: 0x7fffffff }),
      fc.maxSafeNat(),
      fc.double({ noNaN: true }),
      fc.uint8Array({ maxLength: 300 }),
      fc.string(),
      (a, b, c, d, e, f, g, s) => {
        const buf = new Writer(1).u8(a).u16(b).u32(c).i32(d).u64(e).f64(f).vbytes(g).lbytes(g).str(s).finish();
        const r = new Reader(buf);
        const out = [r.u8(), r.u16(), r.u32(), r.i32(), r.u64(), r.f64(), r.vbytes(), r.lbytes(), r.str()];
        r.end();
        return (
          out[0] === a &&
          out[1] === b &&
          out[2] === c &&
          out[3] === d &&
          out[4] === e &&
          Object.is(out[5], f) &&
          equalBytes(out[6] as Uint8Array, g) &&
          equalBytes(out[7] as Uint8Array, g) &&
          out[8] === s
        );
      },
    ),
    { seed: 42, numRuns: 500 },
  );
  t.equal(toHex(fromHex('00ff10')), '00ff10');
});

t.test('reader errors are typed', async (t) => {
  t.throws(() => new Reader(new Uint8Array([1])).u16(), { code: 'E_TRUNCATED' });
  t.throws(() => new Reader(new Uint8Array([0, 5, 1])).vbytes(), { code: 'E_TRUNCATED' });
  t.throws(
    () => {
      const r = new Reader(new Uint8Array([1, 2]));
      r.u8();
      r.end();
    },
    { code: 'E_TRAILING' },
  );
  t.throws(() => new Writer().u8(256), { code: 'E_RANGE' });
  t.throws(() => fromHex('abc'), { code: 'E_FORMAT' });
  t.throws(() => new Reader(new Uint8Array([0, 1, 0xff])).str(), { code: 'E_FORMAT' });
});

t.test('finish: an array of its own, exactly the bytes written, whether or not the buffer was exactly full', async (t) => {
  const full = new Writer(4).u32(0x01020304);
  const a = full.finish();
  t.same([...a], [1, 2, 3, 4]);
  t.equal(a.byteOffset, 0);
  t.equal(a.buffer.byteLength, 4, 'no spare capacity behind it');
  full.u8(9);
  t.same([...a], [1, 2, 3, 4], 'later writes leave it alone');
  t.same([...full.finish()], [1, 2, 3, 4, 9]);
  const roomy = new Writer(64).u16(7);
  const b = roomy.finish();
  t.equal(b.buffer.byteLength, 2, 'a copy when the buffer has room left');
  roomy.u8(1);
  t.same([...b], [0, 7]);
});
