/** Vectors of what a device computes and sends: key schedule, EN RPI/AEM, venue frame, TraceCode, batch. */
import { Writer, concatBytes } from '../src/index.ts';
import { createKeystore, dayChainKey, deriveDayKeys, type DayKeys } from '../src/keys/index.ts';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { DEFAULT_METADATA, bleAddress, deriveAddrKey, deriveAemk, deriveAems, deriveRpi, deriveRpik, enIntervalNumber } from '../src/rpi/index.ts';
import { encodeAdvert, encodeVenueFrame, slotOf, venueId8, venueMac } from '../src/frames/index.ts';
import { encodeGeodata, generalise, type Fix } from '../src/geodata/index.ts';
import { Ed25519Signer, sha256, utf8, x25519, x25519PublicKey } from '../src/crypto/index.ts';
import { TraceCodeSealer, encodeTraceCode, decodeTraceCode, recordHash, signBatch, traceCodeKey } from '../src/tracecode/index.ts';
import { issueCertificate, keyId, type Certificate } from '../src/cert/index.ts';
import { encodeMessage } from '../src/wire/index.ts';
import { DAY, NOW_S, file, fixed, flip, hx, type VectorFile } from './common.ts';

export const master = fixed('master');
export const dayKeys: DayKeys = deriveDayKeys(createKeystore(master, DAY), DAY);
export const venueKey = fixed('venue-key');
export const venueId = fixed('venue-id', 6);
export const solverPriv = fixed('solver');
export const solverPub = x25519PublicKey(solverPriv);
export const ca = new Ed25519Signer(fixed('ca'));
export const INTERVAL = Math.floor((NOW_S - DAY * 86_400) / 1800);
export const slot = slotOf(NOW_S, 60);

export function keysVectors(): VectorFile {
  const state = createKeystore(master, DAY);
  const days = [DAY, DAY + 1].map((d) => {
    const k = deriveDayKeys(state, d);
    return {
      day: d,
      chainKey: hx(dayChainKey(state, d)),
      signingSeed: hx(k.signingSeed),
      pseudonym: hx(k.pseudonym),
      tek: hx(k.tek),
      ephemeralPrivateKey: hx(k.ephemeralPriv),
      ephemeralPublicKey: hx(k.ephemeralPub),
    };
  });
  return file({
    kind: 'key-schedule',
    spec: 'SPEC.md §3',
    context: { fromDay: DAY },
    inputs: { master: hx(master), fromDay: DAY, note: `chain[${DAY}] = master; chain[d+1] = HKDF(chain[d], empty salt, "beepkit/v1/keys/ratchet", 32)`, days },
    valid: [{ name: 'a 32-byte master secret', check: 'createKeystore', hex: hx(master) }],
    invalid: [{ name: 'a 31-byte master secret', check: 'createKeystore', hex: hx(master.subarray(0, 31)), code: 'E_KEY' }],
  });
}

export function enVectors(): VectorFile {
  const tek = dayKeys.tek;
  const enin = enIntervalNumber(NOW_S);
  const rpi = deriveRpi(tek, enin);
  const aem = deriveAems(tek, rpi, DEFAULT_METADATA);
  const advert = encodeAdvert({ kind: 'exposure-notification', rpi, aem });
  const short = concatBytes(advert.subarray(0, 4), Uint8Array.of(0x16), advert.subarray(5, advert.length - 1));
  // The address retry (§4.1) happens for 2 in 2^45 RPIs, so no real ENIN reaches it: the RPI of this example is
  // chosen so that its first block AES(ADDRK, rpi) has 46 zero random bits (rpi = AES⁻¹(ADDRK, that block)).
  const addrk = deriveAddrKey(tek);
  const block1 = concatBytes(Uint8Array.of(0xc0, 0, 0, 0, 0, 0), fixed('addr-retry-tail', 10));
  const aesDecrypt = createDecipheriv('aes-128-ecb', addrk, null).setAutoPadding(false);
  const retryRpi = new Uint8Array(Buffer.concat([aesDecrypt.update(block1), aesDecrypt.final()]));
  const aesEncrypt = createCipheriv('aes-128-ecb', addrk, null).setAutoPadding(false);
  const block2 = new Uint8Array(Buffer.concat([aesEncrypt.update(block1), aesEncrypt.final()]));
  const retryAddress = bleAddress(tek, retryRpi);
  return file({
    kind: 'exposure-notification',
    spec: 'SPEC.md §4.1',
    context: {},
    inputs: {
      tek: hx(tek),
      unixSeconds: NOW_S,
      enin,
      metadata: hx(DEFAULT_METADATA),
      rpik: hx(deriveRpik(tek)),
      aemk: hx(deriveAemk(tek)),
      rpi: hx(rpi),
      aem: hx(aem),
      addrk: hx(addrk),
      bleAddress: hx(bleAddress(tek, rpi)),
      addressRetry: {
        note: 'an RPI whose first block AES-128-ECB(ADDRK, RPI) has its 46 random bits all zero: the block is encrypted again, AES-128-ECB(ADDRK, first block), and the address is taken from that second block',
        rpi: hx(retryRpi),
        firstBlock: hx(block1),
        secondBlock: hx(block2),
        bleAddress: hx(retryAddress),
      },
    },
    valid: [
      { name: 'EN advert without flags', check: 'decodeAdvert', hex: hx(advert) },
      { name: 'EN advert with flags 0x1a', check: 'decodeAdvert', hex: hx(encodeAdvert({ kind: 'exposure-notification', rpi, aem, flags: 0x1a })) },
    ],
    invalid: [
      { name: 'service data one byte short (AEM of 3 bytes)', check: 'decodeAdvert', hex: hx(short), code: 'E_TRUNCATED' },
      { name: 'AD length past the end', check: 'decodeAdvert', hex: hx(advert.subarray(0, advert.length - 1)), code: 'E_OVERRUN' },
    ],
  });
}

export function venueVectors(): VectorFile {
  const frame = (s: number): Uint8Array => encodeVenueFrame({ venueId, slot: s, txPower: -59 }, venueKey);
  const f = frame(slot);
  const macInput = new Writer(64)
    .bytes(utf8('beepkit/venue-frame'))
    .u8(1)
    .bytes(venueId)
    .u32(slot)
    .u8(-59 & 0xff)
    .finish();
  return file({
    kind: 'venue-frame',
    spec: 'SPEC.md §4.2',
    context: { venueKey: hx(venueKey), nowSlot: slot, slotWindow: 1 },
    inputs: {
      venueKey: hx(venueKey),
      venueId: hx(venueId),
      venueId8: hx(venueId8(venueId)),
      unixSeconds: NOW_S,
      slotSeconds: 60,
      slot,
      txPower: -59,
      macInput: hx(macInput),
      mac: hx(venueMac({ venueId, slot, txPower: -59 }, venueKey)),
    },
    valid: [
      { name: 'frame of the current slot', check: 'verifyVenueFrame', hex: hx(f) },
      { name: 'frame of the previous slot (inside the window)', check: 'verifyVenueFrame', hex: hx(frame(slot - 1)) },
    ],
    invalid: [
      { name: 'MAC bit flipped', check: 'verifyVenueFrame', hex: hx(flip(f, -1)), code: 'E_CHECKSUM' },
      { name: 'slot two before now', check: 'verifyVenueFrame', hex: hx(frame(slot - 2)), code: 'E_REPLAY' },
      { name: 'slot two after now', check: 'verifyVenueFrame', hex: hx(frame(slot + 2)), code: 'E_EXPIRED' },
      { name: 'version 2', check: 'verifyVenueFrame', hex: hx(flip(f, 7, 0x03)), code: 'E_VERSION' },
    ],
  });
}

/**
 * Two stays, one record each, sealed for the interval in which the stay began (§7.4): a street from 11:40:07 to
 * 11:59:40 (interval INTERVAL − 1 = 23) and the café, with its venue, from 12:00:20 to 12:05:00 (interval 24).
 */
const DAY_START = DAY * 86_400;
const stays = new Map<number, Fix>([
  [INTERVAL - 1, { start: NOW_S - 1500, end: DAY_START + 12 * 3600 - 20, lat: 55.9521, lon: -3.1965, accuracy: 12, sources: 1 }],
  [INTERVAL, { start: DAY_START + 12 * 3600 + 20, end: NOW_S - 7, lat: 55.9533, lon: -3.1883, accuracy: 8, sources: 1 | 2, venue: venueId8(venueId) }],
]);
for (const [i, s] of stays) if (Math.floor((s.start - DAY_START) / 1800) !== i) throw new Error(`stay of interval ${i} begins in another interval`);
const fix = stays.get(INTERVAL)!;
export const sealer = new TraceCodeSealer({ prefix: dayKeys.pseudonym, ephemeralPriv: dayKeys.ephemeralPriv, solverPub });
export const geodata = generalise(fix, 'grid50');
/** The geodata of the stay that began in `interval`. */
export function geodataOf(interval: number): ReturnType<typeof generalise> {
  const s = stays.get(interval);
  if (!s) throw new Error(`no stay began in interval ${interval}`);
  return generalise(s, 'grid50');
}
export const record = (interval: number): Uint8Array => sealer.seal(interval, geodataOf(interval), fixed(`salt-${interval}`, 8));

export function traceCodeVectors(): VectorFile {
  const g = encodeGeodata(geodata);
  const tc = record(INTERVAL);
  const shared = x25519(dayKeys.ephemeralPriv, solverPub);
  const salt = fixed(`salt-${INTERVAL}`, 8);
  const nonce = new Writer(12).u16(INTERVAL).u16(0).bytes(salt).finish();
  const aad = new Writer(67).u8(1).bytes(dayKeys.pseudonym).bytes(dayKeys.ephemeralPub).u16(INTERVAL).finish();
  const v2 = encodeTraceCode({ ...decodeTraceCode(tc), version: 1 });
  v2[0] = 2;
  return file({
    kind: 'tracecode',
    spec: 'SPEC.md §7.1, §7.2',
    context: { solverPrivateKey: hx(solverPriv), ephemeralPublicKey: hx(dayKeys.ephemeralPub) },
    inputs: {
      fix: { ...fix, venue: hx(fix.venue!) },
      level: 'grid50',
      geodata: hx(g),
      prefix: hx(dayKeys.pseudonym),
      interval: INTERVAL,
      salt: hx(salt),
      ephemeralPrivateKey: hx(dayKeys.ephemeralPriv),
      ephemeralPublicKey: hx(dayKeys.ephemeralPub),
      solverPrivateKey: hx(solverPriv),
      solverPublicKey: hx(solverPub),
      x25519: hx(shared),
      aeadKey: hx(traceCodeKey(shared, dayKeys.ephemeralPub, solverPub)),
      nonce: hx(nonce),
      aad: hx(aad),
      recordHash: hx(recordHash(tc)),
    },
    valid: [
      { name: 'geodata, grid 50 m, with a venue', check: 'decodeGeodata', hex: hx(g) },
      { name: 'TraceCode', check: 'openTraceCode', hex: hx(tc) },
    ],
    invalid: [
      { name: 'geodata flag bit 2', check: 'decodeGeodata', hex: hx(flip(g, 21, 0x04)), code: 'E_FORMAT' },
      { name: 'geodata level 6', check: 'decodeGeodata', hex: hx(flip(g, 1, 2 ^ 6)), code: 'E_RANGE' },
      { name: 'geodata start after end', check: 'decodeGeodata', hex: hx(flip(g, 2, 0x80)), code: 'E_RANGE' },
      { name: 'TraceCode version 2', check: 'decodeTraceCode', hex: hx(v2), code: 'E_VERSION' },
      { name: 'ciphertext bit flipped', check: 'openTraceCode', hex: hx(flip(tc, 50)), code: 'E_DECRYPT' },
      { name: 'interval changed (bound by nonce and AAD)', check: 'openTraceCode', hex: hx(flip(tc, 34)), code: 'E_DECRYPT' },
    ],
  });
}

export function deviceCert(): Certificate {
  return issueCertificate(ca, {
    // as the CA issues it (§10): notBefore = max(day start, issue time − maxSkewSec 300),
    // notAfter = (day + 1) × 86400 − 1 + certGraceSec 21600
    role: 'device',
    serial: 1,
    day: DAY,
    notBefore: Math.max(DAY * 86_400, NOW_S - 300),
    notAfter: (DAY + 1) * 86_400 - 1 + 21_600,
    subject: dayKeys.pseudonym,
    solverKeyId: keyId(solverPub),
    region: 'scotland/city-of-edinburgh/edinburgh/cafe',
  });
}

export const batchOf = (records: Uint8Array[], cert = deviceCert().bytes): Uint8Array =>
  signBatch({ day: DAY, ephemeralPub: dayKeys.ephemeralPub, certificate: cert, records }, dayKeys.signingSeed);

export function batchVectors(): VectorFile {
  const intervals = [INTERVAL - 1, INTERVAL];
  const batch = batchOf(intervals.map(record));
  const claim = (i: number): string => hx(sha256(utf8('beepkit/claim/v1'), dayKeys.pseudonym, new Writer(6).u32(DAY).u16(i).finish()).subarray(0, 16));
  const other = new TraceCodeSealer({ prefix: fixed('other-pseudonym'), ephemeralPriv: dayKeys.ephemeralPriv, solverPub }).seal(
    INTERVAL,
    geodata,
    fixed('salt-x', 8),
  );
  const cid = sha256(batch).slice(0, 8);
  const upload = encodeMessage({ type: 'upload-batch', correlationId: cid, batch });
  return file({
    kind: 'batch',
    spec: 'SPEC.md §7.3, §7.4',
    context: { caPublicKey: hx(ca.publicKey), now: NOW_S },
    inputs: {
      caSeed: hx(fixed('ca')),
      caPublicKey: hx(ca.publicKey),
      certificate: hx(deviceCert().bytes),
      intervals,
      records: intervals.map((i) => {
        const s = stays.get(i)!;
        return {
          interval: i,
          stay: { ...s, venue: s.venue ? hx(s.venue) : null },
          level: 'grid50',
          geodata: hx(encodeGeodata(geodataOf(i))),
          salt: hx(fixed(`salt-${i}`, 8)),
        };
      }),
      signedBytes: `"beepkit/batch/v1" || batch[0 .. ${batch.length - 64}]`,
      recordHashes: batchRecords(batch).map((r) => hx(recordHash(r))),
      claimKeys: intervals.map(claim),
      entryHash: hx(sha256(Uint8Array.of(0), batch)),
      correlationId: hx(cid),
      uploadBatchMessage: hx(upload),
    },
    valid: [
      { name: 'a signed batch of two records', check: 'verifyBatch', hex: hx(batch) },
      { name: 'the UploadBatch message', check: 'decodeMessage', hex: hx(upload) },
    ],
    invalid: [
      { name: 'signature bit flipped', check: 'verifyBatch', hex: hx(flip(batch, -1)), code: 'E_SIGNATURE' },
      { name: 'the same interval twice', check: 'decodeBatch', hex: hx(batchOf([record(INTERVAL), record(INTERVAL)])), code: 'E_FORMAT' },
      { name: "a record with another pseudonym's prefix", check: 'verifyBatch', hex: hx(batchOf([record(INTERVAL - 1), other])), code: 'E_CERT' },
      {
        name: 'record count 0',
        check: 'decodeBatch',
        hex: hx(concatBytes(batch.subarray(0, 39 + deviceCert().bytes.length), Uint8Array.of(0, 0), batch.subarray(batch.length - 64))),
        code: 'E_RANGE',
      },
      { name: 'version 2', check: 'decodeBatch', hex: hx(flip(batch, 0, 3)), code: 'E_VERSION' },
    ],
  });
}

function batchRecords(batch: Uint8Array): Uint8Array[] {
  const certLen = (batch[37] << 8) | batch[38];
  const at = 39 + certLen;
  const n = (batch[at] << 8) | batch[at + 1];
  return Array.from({ length: n }, (_, i) => batch.subarray(at + 2 + i * 89, at + 2 + (i + 1) * 89));
}
