import t from 'tap';
import fc from 'fast-check';
import { fromHex, toHex } from '../src/bytes.ts';
import { BeepkitError } from '../src/errors.ts';
import {
  chachaOpen,
  chachaSeal,
  hkdf,
  nobleEd25519,
  nodeEd25519,
  nobleX25519,
  nobleX25519PublicKey,
  taggedHash,
  sha256,
  utf8,
  x25519,
  x25519PublicKey,
  xchachaOpen,
  xchachaSeal,
} from '../src/crypto/index.ts';

t.test('Ed25519 RFC 8032 test 1 on both backends', async (t) => {
  const seed = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
  const pub = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
  const sig = 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
  for (const b of [nodeEd25519, nobleEd25519]) {
    t.equal(toHex(b.publicKey(seed)), pub, `${b.name} public key`);
    t.equal(toHex(b.sign(seed, new Uint8Array(0))), sig, `${b.name} signature`);
    t.ok(b.verify(fromHex(pub), new Uint8Array(0), fromHex(sig)), `${b.name} verifies`);
    t.notOk(b.verify(fromHex(pub), Uint8Array.of(1), fromHex(sig)), `${b.name} rejects other message`);
    t.notOk(b.verify(new Uint8Array(31), new Uint8Array(0), fromHex(sig)), `${b.name} rejects short key`);
  }
});

t.test('Ed25519 backends agree (property)', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 64 }), (seed, msg) => {
      const s = nodeEd25519.sign(seed, msg);
      return toHex(s) === toHex(nobleEd25519.sign(seed, msg)) && nobleEd25519.verify(nodeEd25519.publicKey(seed), msg, s);
    }),
    { seed: 11, numRuns: 50 },
  );
  t.throws(() => nodeEd25519.sign(new Uint8Array(31), new Uint8Array(0)), { code: 'E_KEY' });
});

t.test('X25519 RFC 7748 section 6.1 and backend agreement', async (t) => {
  const a = fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const b = fromHex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
  t.equal(toHex(x25519PublicKey(a)), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  t.equal(toHex(nobleX25519PublicKey(b)), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  const shared = x25519(a, x25519PublicKey(b));
  t.equal(toHex(shared), '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742', 'RFC 7748 shared secret K');
  t.equal(toHex(shared), toHex(nobleX25519(b, x25519PublicKey(a))), 'backends agree');
  t.throws(() => x25519(a, new Uint8Array(32)), { code: 'E_KEY' }, 'low-order key refused');
  t.throws(() => nobleX25519(a, new Uint8Array(32)), { code: 'E_KEY' }, 'low-order key refused (noble)');
});

t.test('HKDF RFC 5869 test case 1', async (t) => {
  const okm = hkdf(fromHex('0b'.repeat(22)), fromHex('000102030405060708090a0b0c'), fromHex('f0f1f2f3f4f5f6f7f8f9'), 42);
  t.equal(toHex(okm), '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  t.equal(toHex(sha256(utf8('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  t.equal(toHex(taggedHash('ab', utf8('c'))), toHex(sha256(utf8('abc'))), 'tag is a plain prefix');
});

t.test('AEADs: round trip, any flipped byte is E_DECRYPT', async (t) => {
  const key = new Uint8Array(32).fill(3);
  const n12 = new Uint8Array(12).fill(1);
  const n24 = new Uint8Array(24).fill(2);
  const aad = utf8('aad');
  const pt = utf8('thirty bytes of geodata here!!');
  const c1 = chachaSeal(key, n12, pt, aad);
  const c2 = xchachaSeal(key, n24, pt, aad);
  t.same(chachaOpen(key, n12, c1, aad), pt);
  t.same(xchachaOpen(key, n24, c2, aad), pt);
  let rejected = 0;
  for (let i = 0; i < c1.length; i++) {
    for (const [c, open] of [
      [c1, (x: Uint8Array) => chachaOpen(key, n12, x, aad)],
      [c2, (x: Uint8Array) => xchachaOpen(key, n24, x, aad)],
    ] as const) {
      const x = c.slice();
      x[i] ^= 0x80;
      try {
        open(x);
      } catch (e) {
        if (e instanceof BeepkitError && e.code === 'E_DECRYPT') rejected++;
      }
    }
  }
  t.equal(rejected, c1.length * 2);
  t.throws(() => chachaOpen(key, n12, c1, utf8('other')), { code: 'E_DECRYPT' });
  t.throws(() => chachaOpen(key, n12, c1.subarray(0, 10)), { code: 'E_TRUNCATED' });
  t.throws(() => chachaSeal(key.subarray(1), n12, pt), { code: 'E_KEY' });
});
