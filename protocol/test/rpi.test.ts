import t from 'tap';
import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '../src/bytes.ts';
import {
  DEFAULT_METADATA,
  bleAddresses,
  decryptAem,
  deriveAemk,
  deriveAems,
  deriveRpi,
  deriveRpik,
  deriveRpis,
  deriveRpisForKeys,
  encodeMetadata,
  enIntervalNumber,
  formatBleAddress,
  intervalIds,
} from '../src/rpi/index.ts';

const v = JSON.parse(readFileSync(new URL('./vectors/exposure-notification.json', import.meta.url), 'utf8')) as {
  keyGenerationSeconds: number;
  rollingStartIntervalNumber: number;
  tek: string;
  rpik: string;
  aemk: string;
  metadata: string;
  intervals: { enin: number; rpi: string; aem: string }[];
};
const tek = fromHex(v.tek);

t.test('EN v1.2 published vectors: RPIK, AEMK, 144 RPIs and AEMs', async (t) => {
  t.equal(enIntervalNumber(v.keyGenerationSeconds), v.rollingStartIntervalNumber);
  t.equal(toHex(deriveRpik(tek)), v.rpik);
  t.equal(toHex(deriveAemk(tek)), v.aemk);
  t.equal(v.intervals.length, 144);
  const rpis = deriveRpis(tek, v.rollingStartIntervalNumber, 144);
  const aems = deriveAems(tek, rpis, fromHex(v.metadata));
  let good = 0;
  v.intervals.forEach((iv, i) => {
    if (toHex(rpis.subarray(i * 16, i * 16 + 16)) === iv.rpi && toHex(aems.subarray(i * 4, i * 4 + 4)) === iv.aem) good++;
  });
  t.equal(good, 144, 'every interval matches');
  t.equal(toHex(deriveRpi(tek, v.intervals[77].enin)), v.intervals[77].rpi, 'single-interval path');
  const ids = intervalIds(tek, v.intervals[5].enin, 2, fromHex(v.metadata));
  t.equal(toHex(ids[1].aem), v.intervals[6].aem);
  t.equal(toHex(decryptAem(tek, fromHex(v.intervals[9].rpi), fromHex(v.intervals[9].aem))), v.metadata, 'AEM decrypts to metadata');
});

t.test('deriveRpisForKeys equals per-key derivation', async (t) => {
  const teks = [tek, new Uint8Array(16).fill(1), new Uint8Array(16).fill(2)];
  const starts = [v.rollingStartIntervalNumber, v.rollingStartIntervalNumber, v.rollingStartIntervalNumber + 144];
  const out = deriveRpisForKeys(teks, starts);
  t.equal(out.length, 3 * 144 * 16);
  for (let k = 0; k < 3; k++) t.same(out.subarray(k * 2304, (k + 1) * 2304), deriveRpis(teks[k], starts[k], 144), `key ${k}`);
  t.equal(toHex(out.subarray(16, 32)), v.intervals[1].rpi);
  t.throws(() => deriveRpisForKeys(teks, starts.slice(1)), { code: 'E_RANGE' });
  t.throws(() => deriveRpisForKeys(teks, starts, new Uint8Array(10)), { code: 'E_RANGE' });
  t.throws(() => deriveRpi(new Uint8Array(15), 1), { code: 'E_KEY' });
  t.throws(() => deriveRpi(tek, -1), { code: 'E_RANGE' });
});

t.test('metadata', async (t) => {
  t.equal(toHex(DEFAULT_METADATA), '40000000');
  t.equal(toHex(encodeMetadata(8)), '40080000');
  t.equal(toHex(encodeMetadata(-20)), '40ec0000');
  t.throws(() => encodeMetadata(200), { code: 'E_RANGE' });
});

t.test('BLE non-resolvable private addresses rotate with the RPI', async (t) => {
  const rpis = deriveRpis(tek, v.rollingStartIntervalNumber, 144);
  const addrs = bleAddresses(tek, rpis);
  const seen = new Set<string>();
  let bad = 0;
  for (let i = 0; i < 144; i++) {
    const a = addrs.subarray(i * 6, i * 6 + 6);
    const random46 = [a[0] & 0x3f, ...a.subarray(1)];
    if ((a[0] & 0xc0) !== 0 || random46.every((x) => x === 0) || (random46[0] === 0x3f && random46.slice(1).every((x) => x === 0xff))) bad++;
    seen.add(toHex(a));
  }
  t.equal(bad, 0, 'top bits 0b00 and random part neither all-zero nor all-one');
  t.equal(seen.size, 144, 'one distinct address per interval');
  t.same(intervalIds(tek, v.rollingStartIntervalNumber + 3, 1)[0].address, addrs.subarray(18, 24), 'same address from the single-interval path');
  t.match(formatBleAddress(addrs.subarray(0, 6)), /^[0-3][0-9A-F](:[0-9A-F]{2}){5}$/);
});

t.test('beepkit address vectors (keys.json) are stable', async (t) => {
  const k = JSON.parse(readFileSync(new URL('./vectors/keys.json', import.meta.url), 'utf8')) as {
    bleAddress: { tek: string; enin: number; rpis: string[]; addresses: string[] };
  };
  const rpis = deriveRpis(fromHex(k.bleAddress.tek), k.bleAddress.enin, 3);
  t.same(
    [0, 1, 2].map((i) => toHex(rpis.subarray(i * 16, i * 16 + 16))),
    k.bleAddress.rpis,
  );
  const a = bleAddresses(fromHex(k.bleAddress.tek), rpis);
  t.same(
    [0, 1, 2].map((i) => toHex(a.subarray(i * 6, i * 6 + 6))),
    k.bleAddress.addresses,
  );
});

t.test('the midstate RPIK equals HKDF for random keys and the EN vector', async (t) => {
  const { rpikInto } = await import('../src/rpi/rpik.ts');
  const { hkdfSync, createHash } = await import('node:crypto');
  const k = new Uint8Array(16);
  let bad = 0;
  for (let i = 0; i < 256; i++) {
    const tek = createHash('sha256').update(`rpik-${i}`).digest().subarray(0, 16);
    rpikInto(tek, k);
    if (Buffer.compare(Buffer.from(k), Buffer.from(hkdfSync('sha256', tek, new Uint8Array(0), 'EN-RPIK', 16)))) bad++;
  }
  t.equal(bad, 0, 'RPIK equals node HKDF for 256 keys');
  rpikInto(Buffer.from('75c734c6dd1a782de7a965da5eb93125', 'hex'), k);
  t.equal(Buffer.from(k).toString('hex'), '185ad91db69ec7dd048960f1f3ba6175', 'published RPIK');
});
