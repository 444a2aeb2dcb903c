// fast-check arbitraries for every wire message type (shared by the wire property and fuzz tests).
import fc from 'fast-check';
import type { WireMessage, WireType } from '../src/wire/index.ts';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const blob = fc.uint8Array({ maxLength: 64 });
const hash = bytes(32);
const u64 = fc.maxSafeNat();
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const text = fc.string({ unit: 'grapheme', maxLength: 24 });
const code = fc.stringMatching(/^E_[A-Z0-9_]{1,20}$/);
const lat = fc.integer({ min: -90e6, max: 90e6 });
const lon = fc.integer({ min: -180e6, max: 180e6 });
const chain = fc.constantFrom('tracing' as const, 'notification' as const);

const bodies: { [K in WireType]: fc.Arbitrary<Omit<Extract<WireMessage, { type: K }>, 'type' | 'correlationId'>> } = {
  'upload-batch': fc.record({ batch: blob }),
  receipt: fc.record({ entryHash: hash, leafIndex: u64, blockHeight: u64, proof: fc.array(hash, { maxLength: 4 }), signedTreeHead: blob }),
  error: fc.record({ code, message: text, recordHashes: fc.array(hash, { maxLength: 3 }) }),
  'ca-request': fc.record({
    gnss: fc.option(
      fc.record({
        timeMs: u64,
        latE6: lat,
        lonE6: lon,
        accuracyCm: u32,
        mode: fc.constantFrom('none' as const, '2d' as const, '3d' as const),
        satellites: fc.integer({ min: 0, max: 255 }),
        hdopX100: fc.integer({ min: 0, max: 0xffff }),
      }),
      { nil: null },
    ),
    venues: fc.array(fc.record({ frame: fc.uint8Array({ maxLength: 31 }), rssi: fc.integer({ min: -128, max: 127 }), receivedAtMs: u64 }), { maxLength: 3 }),
    day: u32,
    pseudonymPublicKey: hash,
    extra: blob,
    signature: bytes(64),
  }),
  'ca-response': fc.record({
    result: fc.oneof(
      fc.record({ ok: fc.constant(true as const), certificate: blob, solverPublicKey: hash, solverKeyId: fc.uint8Array({ maxLength: 16 }) }),
      fc.record({ ok: fc.constant(false as const), code, message: text }),
    ),
  }),
  'catchup-request': fc.record({ chain, fromHeight: u64, maxBlocks: fc.integer({ min: 0, max: 0xffff }) }),
  'catchup-response': fc.record({ chain, blocks: fc.array(blob, { maxLength: 4 }), tipHeight: u64 }),
  'notification-block': fc.record({ height: u64, block: blob }),
  'carer-alert': fc.record({
    wearableLabel: text,
    risk: fc.constantFrom('none' as const, 'low' as const, 'medium' as const, 'high' as const),
    day: u32,
    explanation: text,
  }),
  'device-status': fc.record({
    state: fc.constantFrom('online' as const, 'offline' as const),
    agentVersion: text,
    counters: fc.dictionary(fc.string({ maxLength: 12 }), u64, { maxKeys: 5 }),
  }),
  'venue-register': fc.record({
    venueId: bytes(6),
    regionPath: fc.array(text, { maxLength: 4 }),
    latE6: lat,
    lonE6: lon,
    radiusM: u32,
    keyMaterial: blob,
    name: text,
  }),
  'venue-status-query': fc.record({ venueId: bytes(6) }),
  'venue-status-reply': fc.record({ venueId: bytes(6), state: fc.constantFrom('empty' as const, 'infected' as const, 'clean' as const), sinceMs: u64 }),
  'venue-signoff': fc.record({ signoff: blob }),
  'diagnosis-submit': fc.record({ consent: blob, endorsement: blob }),
  'notification-submit': fc.record({ entries: fc.array(blob, { maxLength: 4 }) }),
};

export const messageByType = Object.fromEntries(
  (Object.keys(bodies) as WireType[]).map((type) => [
    type,
    fc.tuple(bytes(8), bodies[type] as fc.Arbitrary<object>).map(([correlationId, b]) => ({ type, correlationId, ...b }) as WireMessage),
  ]),
) as Record<WireType, fc.Arbitrary<WireMessage>>;

export const anyMessage: fc.Arbitrary<WireMessage> = fc.oneof(...Object.values(messageByType));
