/**
 * The one payload envelope of every beepkit MQTT message:
 *
 *   'B' 'K' | version u8 (=1) | type u8 | correlation id (8 bytes) | body
 *
 * Decoding: bad magic → E_FORMAT, unknown version → E_VERSION, unknown type →
 * E_TYPE, short input → E_TRUNCATED, bytes after the body → E_TRAILING.
 */
import { BeepkitError } from '../errors.ts';
import { Reader, Writer, concatBytes } from '../bytes.ts';
import { CODECS, TYPE_BY_CODE, writeCaRequestBody } from './codecs.ts';
import { topics } from './topics.ts';
import type { BodyOf, CaRequestBody, DeviceStatus, MessageOf, WireMessage, WireType } from './types.ts';

export const WIRE_MAGIC = Uint8Array.of(0x42, 0x4b); // 'BK'
export const WIRE_VERSION = 1;
export const CORRELATION_ID_BYTES = 8;
const CA_REQUEST_TAG = new TextEncoder().encode('beepkit/v1/ca-request');

export function encodeMessage(m: WireMessage): Uint8Array {
  const codec = CODECS[m.type] as (typeof CODECS)[WireType] | undefined;
  if (!codec) throw new BeepkitError('E_TYPE', `wire: unknown message type ${JSON.stringify(m.type)}`);
  if (!(m.correlationId instanceof Uint8Array) || m.correlationId.length !== CORRELATION_ID_BYTES) {
    throw new BeepkitError('E_RANGE', `wire: correlationId must be ${CORRELATION_ID_BYTES} bytes`);
  }
  const w = new Writer(64).bytes(WIRE_MAGIC).u8(WIRE_VERSION).u8(codec.code).bytes(m.correlationId);
  (codec.w as (w: Writer, b: BodyOf<WireType>) => void)(w, m as BodyOf<WireType>);
  return w.finish();
}

function readHeader(r: Reader): { type: WireType; correlationId: Uint8Array } {
  const magic = r.bytes(2, 'magic');
  if (magic[0] !== WIRE_MAGIC[0] || magic[1] !== WIRE_MAGIC[1]) throw new BeepkitError('E_FORMAT', 'wire: bad magic (not a beepkit message)');
  const version = r.u8('version');
  if (version !== WIRE_VERSION) throw new BeepkitError('E_VERSION', `wire: unknown version ${version}`);
  const code = r.u8('type');
  const type = TYPE_BY_CODE.get(code);
  if (type === undefined) throw new BeepkitError('E_TYPE', `wire: unknown message type 0x${code.toString(16)}`);
  return { type, correlationId: r.bytes(CORRELATION_ID_BYTES, 'correlationId') };
}

/** `copy: false`: byte fields of the body are views into `buf` (zero-copy; e.g. ingest of an UploadBatch). */
export function decodeMessage(buf: Uint8Array, opts: { copy?: boolean } = {}): WireMessage {
  const r = new Reader(buf, 'wire', opts.copy ?? true);
  const { type, correlationId } = readHeader(r);
  const body = CODECS[type].r(r);
  r.end();
  return { type, correlationId, ...body } as WireMessage;
}

/** Decodes and insists on one message type (E_TYPE otherwise). */
export function decodeAs<K extends WireType>(buf: Uint8Array, type: K): MessageOf<K> {
  const m = decodeMessage(buf);
  if (m.type !== type) throw new BeepkitError('E_TYPE', `wire: expected ${type}, got ${m.type}`);
  return m as MessageOf<K>;
}

/** Reads only the envelope header (type, correlation id) without decoding the body, e.g. to route a reply. */
export function peekEnvelope(buf: Uint8Array): { type: WireType; correlationId: Uint8Array } {
  return readHeader(new Reader(buf, 'wire'));
}

/**
 * Exactly the bytes the pseudonym key signs in a CaRequest:
 * ASCII "beepkit/v1/ca-request" | body fields before the signature (as on the wire).
 * The correlation id is transport-only and not signed.
 */
export function caRequestSigningBytes(req: CaRequestBody): Uint8Array {
  const w = new Writer(128);
  writeCaRequestBody(w, req);
  return concatBytes(CA_REQUEST_TAG, w.finish());
}

/** The last-will publication for a device: retained offline DeviceStatus on its status topic. */
export function offlineWill(deviceId: string, agentVersion: string): { topic: string; payload: Uint8Array; qos: 1; retain: true } {
  const status: DeviceStatus = { type: 'device-status', correlationId: new Uint8Array(CORRELATION_ID_BYTES), state: 'offline', agentVersion, counters: {} };
  return { topic: topics.status(deviceId), payload: encodeMessage(status), qos: 1, retain: true };
}
