import t from 'tap';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '../src/bytes.ts';
import { isBeepkitError } from '../src/errors.ts';
import {
  createKeystore,
  dayChainKey,
  dayNumber,
  decodeKeystoreState,
  deriveDayKeys,
  encodeKeystoreState,
  openKeystore,
  purgeKeystore,
  renounceDay,
  rotateMaster,
  sealKeystore,
  type KeystoreState,
} from '../src/keys/index.ts';
import { ed25519Sign, ed25519Verify } from '../src/crypto/index.ts';
import { fuzz } from './crypto-fuzz.ts';

const v = JSON.parse(readFileSync(new URL('./vectors/keys.json', import.meta.url), 'utf8'));

t.test('key schedule vectors', async (t) => {
  const st = createKeystore(fromHex(v.master), v.fromDay, { retentionDays: v.retentionDays });
  for (const d of v.days) {
    const k = deriveDayKeys(st, d.day);
    t.same(
      {
        chainKey: toHex(dayChainKey(st, d.day)),
        signingSeed: toHex(k.signingSeed),
        pseudonym: toHex(k.pseudonym),
        tek: toHex(k.tek),
        ephemeralPriv: toHex(k.ephemeralPriv),
        ephemeralPub: toHex(k.ephemeralPub),
      },
      { chainKey: d.chainKey, signingSeed: d.signingSeed, pseudonym: d.pseudonym, tek: d.tek, ephemeralPriv: d.ephemeralPriv, ephemeralPub: d.ephemeralPub },
      `day ${d.day}`,
    );
    t.ok(ed25519Verify(k.pseudonym, Uint8Array.of(1), ed25519Sign(k.signingSeed, Uint8Array.of(1))), 'pseudonym pair matches');
  }
  t.equal(dayNumber(v.fromDay * 86400 + 86399), v.fromDay);
});

t.test('keystore vectors: seal is reproducible, open gives the state', async (t) => {
  const ks = v.keystore;
  const state = decodeKeystoreState(fromHex(ks.state));
  t.same(state.renounced, ks.renounced);
  t.equal(toHex(sealKeystore(state, { key: fromHex(ks.keyFile) }, { nonce: fromHex(ks.nonce) })), ks.sealedWithKeyFile);
  t.same(openKeystore(fromHex(ks.sealedWithKeyFile), { key: fromHex(ks.keyFile) }), state);
  const opened = openKeystore(fromHex(ks.sealedWithPassphrase), { passphrase: ks.passphrase });
  t.equal(toHex(encodeKeystoreState(opened)), ks.state);
  t.equal(
    toHex(sealKeystore(state, { passphrase: ks.passphrase, scrypt: ks.scrypt }, { nonce: fromHex(ks.nonce), salt: fromHex(ks.salt) })),
    ks.sealedWithPassphrase,
  );
  t.throws(() => openKeystore(fromHex(ks.sealedWithPassphrase), { passphrase: 'wrong' }), { code: 'E_DECRYPT' }, 'wrong passphrase');
  t.throws(() => openKeystore(fromHex(ks.sealedWithKeyFile), { key: new Uint8Array(32) }), { code: 'E_DECRYPT' }, 'wrong key file');
  t.throws(() => openKeystore(fromHex(ks.sealedWithKeyFile), { passphrase: 'x' }), { code: 'E_KEY' }, 'kind mismatch');
  t.throws(() => openKeystore(fromHex(ks.sealedWithPassphrase), { key: new Uint8Array(32) }), { code: 'E_KEY' });
});

t.test('renounce, purge (ratchet) and rotate', async (t) => {
  const master = new Uint8Array(32).fill(5);
  let st = createKeystore(master, 100, { retentionDays: 14 });
  const k105 = deriveDayKeys(st, 105);
  const k120 = deriveDayKeys(st, 120);
  t.throws(() => deriveDayKeys(st, 99), { code: 'E_KEY' }, 'before the keystore');
  st = renounceDay(st, 110);
  t.throws(() => deriveDayKeys(st, 110), { code: 'E_KEY' }, 'renounced');
  t.same(deriveDayKeys(st, 111).tek.length, 16);
  st = purgeKeystore(st, 118); // keeps 105..118
  t.equal(st.epochs[0].fromDay, 105);
  t.same(deriveDayKeys(st, 105), k105, 'retained day unchanged');
  t.throws(() => deriveDayKeys(st, 104), { code: 'E_KEY' }, 'purged day');
  t.notSame(toHex(st.epochs[0].chainKey), toHex(master), 'old chain key destroyed');
  st = purgeKeystore(st, 125); // cutoff 112: renounced 110 dropped
  t.same(st.renounced, []);
  t.same(deriveDayKeys(st, 120), k120, 'still the same after a second purge');
  const rotated = rotateMaster(st, new Uint8Array(32).fill(6), 121);
  t.same(deriveDayKeys(rotated, 120), k120, 'days before rotation keep their keys');
  t.notSame(toHex(deriveDayKeys(rotated, 121).tek), toHex(deriveDayKeys(st, 121).tek), 'new master from the rotation day');
  const purgedPastEpoch = purgeKeystore(rotated, 121 + 20);
  t.equal(purgedPastEpoch.epochs.length, 1, 'an epoch wholly before the window is dropped');
  t.equal(purgedPastEpoch.epochs[0].fromDay, 128);
  t.throws(() => rotateMaster(purgedPastEpoch, master, 100), { code: 'E_RANGE' });
  t.throws(() => createKeystore(new Uint8Array(31), 1), { code: 'E_KEY' });
  t.throws(() => createKeystore(master, 1, { retentionDays: 0 }), { code: 'E_RANGE' });
});

const stateArb: fc.Arbitrary<KeystoreState> = fc.record({
  retentionDays: fc.integer({ min: 1, max: 3650 }),
  epochs: fc
    .uniqueArray(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 6 })
    .chain((days) =>
      fc.tuple(...days.sort((a, b) => a - b).map((d) => fc.record({ fromDay: fc.constant(d), chainKey: fc.uint8Array({ minLength: 32, maxLength: 32 }) }))),
    ),
  renounced: fc.uniqueArray(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 20 }).map((a) => a.sort((x, y) => x - y)),
});

t.test('property: keystore state and sealed keystore round trip', async (t) => {
  const key = new Uint8Array(32).fill(9);
  let runs = 0;
  fc.assert(
    fc.property(stateArb, (s) => {
      runs++;
      const back = openKeystore(sealKeystore(s, { key }), { key });
      return (
        toHex(encodeKeystoreState(back)) === toHex(encodeKeystoreState(s)) && JSON.stringify(decodeKeystoreState(encodeKeystoreState(s))) === JSON.stringify(s)
      );
    }),
    { seed: 21, numRuns: 300 },
  );
  t.equal(runs, 300, 'every generated state round-tripped');
});

t.test('property: any single flipped byte of a sealed keystore is rejected', async (t) => {
  const key = new Uint8Array(32).fill(9);
  const sealed = sealKeystore(createKeystore(new Uint8Array(32).fill(1), 500), { key });
  let rejected = 0;
  for (let i = 0; i < sealed.length; i++) {
    const x = sealed.slice();
    x[i] ^= 0x01;
    try {
      openKeystore(x, { key });
    } catch (e) {
      if (isBeepkitError(e)) rejected++;
    }
  }
  t.equal(rejected, sealed.length);
});

t.test('fuzz: keystore state decoder and sealed keystore (key file)', async (t) => {
  const states = fc.sample(stateArb, { seed: 5, numRuns: 20 });
  const r1 = fuzz(decodeKeystoreState, states.map(encodeKeystoreState), 100_000, 101);
  t.same(r1.escaped, [], `state: ${JSON.stringify(r1.codes)}`);
  t.equal(r1.runs, 100_000);
  const key = new Uint8Array(32).fill(4);
  const sealed = states.slice(0, 5).map((s) => sealKeystore(s, { key }));
  const r2 = fuzz((b) => openKeystore(b, { key }), sealed, 100_000, 102);
  t.same(r2.escaped, [], `sealed: ${JSON.stringify(r2.codes)}`);
  t.equal(r2.runs, 100_000);
});
