/**
 * Body codecs of every wire message (big-endian, via Writer/Reader). Integers
 * named *Ms, *Height, leafIndex are u64; day u32; coordinates i32 microdegrees.
 * Lists carry a count prefix (u8 or u16 as noted); byte strings a u16 (vbytes)
 * or u32 (lbytes) length; strings are u16-length UTF-8.
 */
import { BeepkitError, type ErrorCode } from '../errors.ts';
import { Reader, Writer } from '../bytes.ts';
import type { BodyOf, CaRequestBody, GnssSummary, WireType } from './types.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

function fail(code: ErrorCode, msg: string): never {
  throw new BeepkitError(code, msg);
}

function str(w: Writer, s: string, what: string): void {
  if (typeof s !== 'string' || dec.decode(enc.encode(s)) !== s) fail('E_FORMAT', `${what}: not a well-formed string`);
  w.str(s);
}

function i8w(w: Writer, v: number, what: string): void {
  if (!Number.isInteger(v) || v < -128 || v > 127) fail('E_RANGE', `${what} out of range: ${v}`);
  w.u8(v & 0xff);
}
const i8r = (r: Reader, what: string): number => (r.u8(what) << 24) >> 24;

function fixed(w: Writer, b: Uint8Array, len: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== len) fail('E_RANGE', `${what}: expected ${len} bytes`);
  w.bytes(b);
}

function count(w: Writer, n: number, max: number, what: string): void {
  if (n > max) fail('E_RANGE', `${what}: ${n} entries exceed ${max}`);
  if (max === 0xff) w.u8(n);
  else w.u16(n);
}

function list<T>(r: Reader, max: number, what: string, item: () => T): T[] {
  const n = max === 0xff ? r.u8(what) : r.u16(what);
  const out: T[] = [];
  for (let k = 0; k < n; k++) out.push(item());
  return out;
}

function hashes(w: Writer, hs: Uint8Array[], max: number, what: string): void {
  count(w, hs.length, max, what);
  for (const h of hs) fixed(w, h, 32, what);
}
const readHashes = (r: Reader, max: number, what: string): Uint8Array[] => list(r, max, what, () => r.bytes(32, what));

/** Enumerations on the wire as u8 indices. */
function enumCodec<T extends string>(names: readonly T[], what: string) {
  return {
    w(w: Writer, v: T): void {
      const i = names.indexOf(v);
      if (i < 0) fail('E_RANGE', `${what}: unknown value ${JSON.stringify(v)}`);
      w.u8(i);
    },
    r(r: Reader): T {
      const i = r.u8(what);
      if (i >= names.length) fail('E_RANGE', `${what}: unknown value ${i}`);
      return names[i];
    },
  };
}
const chain = enumCodec(['tracing', 'notification'] as const, 'chain');
const risk = enumCodec(['none', 'low', 'medium', 'high'] as const, 'risk');
const online = enumCodec(['offline', 'online'] as const, 'state');
const venueState = enumCodec(['empty', 'infected', 'clean'] as const, 'venue state');
const fixMode = enumCodec(['none', '2d', '3d'] as const, 'fix mode');
const presence = enumCodec(['absent', 'present'] as const, 'presence');
const okFlag = enumCodec(['ok', 'error'] as const, 'result');

const CODE_RE = /^E_[A-Z0-9_]{1,62}$/;
function code(w: Writer, c: string): void {
  if (!CODE_RE.test(c)) fail('E_FORMAT', `error code must match ${CODE_RE}: ${JSON.stringify(c)}`);
  w.str(c);
}
function readCode(r: Reader): string {
  const c = r.str('code');
  if (!CODE_RE.test(c)) fail('E_FORMAT', `error code must match ${CODE_RE}`);
  return c;
}

function latLon(w: Writer, latE6: number, lonE6: number): void {
  if (!Number.isInteger(latE6) || Math.abs(latE6) > 90e6) fail('E_RANGE', `latE6 out of range: ${latE6}`);
  if (!Number.isInteger(lonE6) || Math.abs(lonE6) > 180e6) fail('E_RANGE', `lonE6 out of range: ${lonE6}`);
  w.i32(latE6).i32(lonE6);
}
function readLatLon(r: Reader): { latE6: number; lonE6: number } {
  const latE6 = r.i32('latE6');
  const lonE6 = r.i32('lonE6');
  if (Math.abs(latE6) > 90e6 || Math.abs(lonE6) > 180e6) fail('E_RANGE', 'coordinates out of range');
  return { latE6, lonE6 };
}

function venueId(w: Writer, id: Uint8Array): void {
  fixed(w, id, 6, 'venueId');
}

/** CaRequest body up to (not including) the signature. */
export function writeCaRequestBody(w: Writer, m: CaRequestBody): void {
  if (m.gnss === null) presence.w(w, 'absent');
  else {
    const g = m.gnss;
    presence.w(w, 'present');
    w.u64(g.timeMs);
    latLon(w, g.latE6, g.lonE6);
    w.u32(g.accuracyCm);
    fixMode.w(w, g.mode);
    w.u8(g.satellites).u16(g.hdopX100);
  }
  count(w, m.venues.length, 0xff, 'venues');
  for (const v of m.venues) {
    if (v.frame.length > 255) fail('E_RANGE', 'venue observation: frame exceeds 255 bytes');
    w.vbytes(v.frame);
    i8w(w, v.rssi, 'rssi');
    w.u64(v.receivedAtMs);
  }
  w.u32(m.day);
  fixed(w, m.pseudonymPublicKey, 32, 'pseudonymPublicKey');
  w.lbytes(m.extra);
}

function readCaRequestBody(r: Reader): CaRequestBody {
  let gnss: GnssSummary | null = null;
  if (presence.r(r) === 'present') {
    const timeMs = r.u64('timeMs');
    const { latE6, lonE6 } = readLatLon(r);
    gnss = { timeMs, latE6, lonE6, accuracyCm: r.u32('accuracyCm'), mode: fixMode.r(r), satellites: r.u8('satellites'), hdopX100: r.u16('hdopX100') };
  }
  const venues = list(r, 0xff, 'venues', () => {
    const frame = r.vbytes('frame');
    if (frame.length > 255) fail('E_RANGE', 'venue observation: frame exceeds 255 bytes');
    return { frame, rssi: i8r(r, 'rssi'), receivedAtMs: r.u64('receivedAtMs') };
  });
  return { gnss, venues, day: r.u32('day'), pseudonymPublicKey: r.bytes(32, 'pseudonymPublicKey'), extra: r.lbytes('extra') };
}

interface Codec<K extends WireType> {
  code: number;
  w(w: Writer, m: BodyOf<K>): void;
  r(r: Reader): BodyOf<K>;
}

export const CODECS: { [K in WireType]: Codec<K> } = {
  'upload-batch': { code: 0x01, w: (w, m) => void w.lbytes(m.batch), r: (r) => ({ batch: r.lbytes('batch') }) },
  receipt: {
    code: 0x02,
    w(w, m) {
      fixed(w, m.entryHash, 32, 'entryHash');
      w.u64(m.leafIndex).u64(m.blockHeight);
      hashes(w, m.proof, 0xff, 'proof');
      w.lbytes(m.signedTreeHead);
    },
    r: (r) => ({
      entryHash: r.bytes(32, 'entryHash'),
      leafIndex: r.u64('leafIndex'),
      blockHeight: r.u64('blockHeight'),
      proof: readHashes(r, 0xff, 'proof'),
      signedTreeHead: r.lbytes('signedTreeHead'),
    }),
  },
  error: {
    code: 0x03,
    w(w, m) {
      code(w, m.code);
      str(w, m.message, 'message');
      hashes(w, m.recordHashes, 0xffff, 'recordHashes');
    },
    r: (r) => ({ code: readCode(r), message: r.str('message'), recordHashes: readHashes(r, 0xffff, 'recordHashes') }),
  },
  'ca-request': {
    code: 0x10,
    w(w, m) {
      writeCaRequestBody(w, m);
      fixed(w, m.signature, 64, 'signature');
    },
    r: (r) => ({ ...readCaRequestBody(r), signature: r.bytes(64, 'signature') }),
  },
  'ca-response': {
    code: 0x11,
    w(w, { result: x }) {
      if (x.ok) {
        okFlag.w(w, 'ok');
        w.lbytes(x.certificate);
        fixed(w, x.solverPublicKey, 32, 'solverPublicKey');
        w.vbytes(x.solverKeyId);
      } else {
        okFlag.w(w, 'error');
        code(w, x.code);
        str(w, x.message, 'message');
      }
    },
    r: (r) => ({
      result:
        okFlag.r(r) === 'ok'
          ? { ok: true, certificate: r.lbytes('certificate'), solverPublicKey: r.bytes(32, 'solverPublicKey'), solverKeyId: r.vbytes('solverKeyId') }
          : { ok: false, code: readCode(r), message: r.str('message') },
    }),
  },
  'catchup-request': {
    code: 0x20,
    w(w, m) {
      chain.w(w, m.chain);
      w.u64(m.fromHeight).u16(m.maxBlocks);
    },
    r: (r) => ({ chain: chain.r(r), fromHeight: r.u64('fromHeight'), maxBlocks: r.u16('maxBlocks') }),
  },
  'catchup-response': {
    code: 0x21,
    w(w, m) {
      chain.w(w, m.chain);
      count(w, m.blocks.length, 0xffff, 'blocks');
      for (const b of m.blocks) w.lbytes(b);
      w.u64(m.tipHeight);
    },
    r: (r) => ({ chain: chain.r(r), blocks: list(r, 0xffff, 'blocks', () => r.lbytes('block')), tipHeight: r.u64('tipHeight') }),
  },
  'notification-block': {
    code: 0x22,
    w: (w, m) => void w.u64(m.height).lbytes(m.block),
    r: (r) => ({ height: r.u64('height'), block: r.lbytes('block') }),
  },
  'carer-alert': {
    code: 0x30,
    w(w, m) {
      str(w, m.wearableLabel, 'wearableLabel');
      risk.w(w, m.risk);
      w.u32(m.day);
      str(w, m.explanation, 'explanation');
    },
    r: (r) => ({ wearableLabel: r.str('wearableLabel'), risk: risk.r(r), day: r.u32('day'), explanation: r.str('explanation') }),
  },
  'device-status': {
    code: 0x40,
    w(w, m) {
      online.w(w, m.state);
      str(w, m.agentVersion, 'agentVersion');
      const keys = Object.keys(m.counters).sort();
      count(w, keys.length, 0xffff, 'counters');
      for (const k of keys) {
        str(w, k, 'counter name');
        w.u64(m.counters[k]);
      }
    },
    r(r) {
      const state = online.r(r);
      const agentVersion = r.str('agentVersion');
      let prev: string | undefined;
      const entries = list(r, 0xffff, 'counters', () => {
        const k = r.str('counter name');
        if (prev !== undefined && !(prev < k)) fail('E_FORMAT', 'device status: counters not strictly sorted by name');
        prev = k;
        return [k, r.u64('counter')] as const;
      });
      return { state, agentVersion, counters: Object.fromEntries(entries) };
    },
  },
  'venue-register': {
    code: 0x50,
    w(w, m) {
      venueId(w, m.venueId);
      count(w, m.regionPath.length, 0xff, 'regionPath');
      for (const p of m.regionPath) str(w, p, 'region');
      latLon(w, m.latE6, m.lonE6);
      w.u32(m.radiusM).vbytes(m.keyMaterial);
      str(w, m.name, 'name');
    },
    r: (r) => ({
      venueId: r.bytes(6, 'venueId'),
      regionPath: list(r, 0xff, 'regionPath', () => r.str('region')),
      ...readLatLon(r),
      radiusM: r.u32('radiusM'),
      keyMaterial: r.vbytes('keyMaterial'),
      name: r.str('name'),
    }),
  },
  'venue-status-query': { code: 0x51, w: (w, m) => venueId(w, m.venueId), r: (r) => ({ venueId: r.bytes(6, 'venueId') }) },
  'venue-status-reply': {
    code: 0x52,
    w(w, m) {
      venueId(w, m.venueId);
      venueState.w(w, m.state);
      w.u64(m.sinceMs);
    },
    r: (r) => ({ venueId: r.bytes(6, 'venueId'), state: venueState.r(r), sinceMs: r.u64('sinceMs') }),
  },
  'venue-signoff': { code: 0x53, w: (w, m) => void w.vbytes(m.signoff), r: (r) => ({ signoff: r.vbytes('signoff') }) },
  'diagnosis-submit': {
    code: 0x60,
    w: (w, m) => void w.lbytes(m.consent).lbytes(m.endorsement),
    r: (r) => ({ consent: r.lbytes('consent'), endorsement: r.lbytes('endorsement') }),
  },
  'notification-submit': {
    code: 0x61,
    w(w, m) {
      count(w, m.entries.length, 0xffff, 'entries');
      for (const e of m.entries) w.lbytes(e);
    },
    r: (r) => ({ entries: list(r, 0xffff, 'entries', () => r.lbytes('entry')) }),
  },
};

export const TYPE_BY_CODE: ReadonlyMap<number, WireType> = new Map((Object.keys(CODECS) as WireType[]).map((k) => [CODECS[k].code, k]));
