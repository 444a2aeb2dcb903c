/**
 * Outbox record bodies (inside frames). Item and batch payloads are sealed
 * with ChaCha20-Poly1305 (random 96-bit nonce, AAD = record type) when the
 * outbox has a key; ids (record hashes, public on the ledger anyway) are not.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Reader, Writer } from '@beepkit/protocol/bytes';
import { BeepkitError } from '@beepkit/protocol/errors';

export type OutboxRecord =
  | { type: 'item'; group: number; bytes: Uint8Array }
  | { type: 'batch'; seq: number; group: number; ids: Uint8Array[]; bytes: Uint8Array }
  | { type: 'ack'; seq: number }
  | { type: 'delivered'; ids: Uint8Array[] }
  | { type: 'drop'; ids: Uint8Array[] };

const TYPE = { item: 1, batch: 2, ack: 3, delivered: 4, drop: 5 } as const;
const NONCE = 12;
const TAG = 16;

/** Optional at-rest encryption of payloads. */
export class Sealer {
  constructor(private readonly key: Uint8Array | undefined) {
    if (key && key.length !== 32) throw new BeepkitError('E_KEY', `outbox key must be 32 bytes, got ${key.length}`);
  }
  get encrypted(): boolean {
    return this.key !== undefined;
  }
  seal(type: number, plain: Uint8Array): Uint8Array {
    if (!this.key) return plain;
    const nonce = randomBytes(NONCE);
    const c = createCipheriv('chacha20-poly1305', this.key, nonce, { authTagLength: TAG });
    c.setAAD(Uint8Array.of(type), { plaintextLength: plain.length });
    return new Uint8Array(Buffer.concat([nonce, c.update(plain), c.final(), c.getAuthTag()]));
  }
  open(type: number, sealed: Uint8Array): Uint8Array {
    if (!this.key) return sealed;
    if (sealed.length < NONCE + TAG) throw new BeepkitError('E_TRUNCATED', 'outbox: sealed payload too short');
    try {
      const d = createDecipheriv('chacha20-poly1305', this.key, sealed.subarray(0, NONCE), { authTagLength: TAG });
      const ctLen = sealed.length - NONCE - TAG;
      d.setAAD(Uint8Array.of(type), { plaintextLength: ctLen });
      d.setAuthTag(sealed.subarray(sealed.length - TAG));
      return new Uint8Array(Buffer.concat([d.update(sealed.subarray(NONCE, NONCE + ctLen)), d.final()]));
    } catch (cause) {
      throw new BeepkitError('E_DECRYPT', 'outbox: record does not open with this key', { cause });
    }
  }
}

/** Framed size of a record on disk (frame header included), without encoding it. */
export function recordSize(rec: OutboxRecord, sealer: Sealer): number {
  const sealed = (n: number): number => n + (sealer.encrypted ? NONCE + TAG : 0);
  const idBytes = (l: Uint8Array[]): number => 4 + l.reduce((a, id) => a + 1 + id.length, 0);
  const frame = 8 + 1;
  switch (rec.type) {
    case 'item':
      return frame + 4 + 4 + sealed(rec.bytes.length);
    case 'batch':
      return frame + 8 + idBytes(rec.ids) + 4 + sealed(rec.bytes.length);
    case 'ack':
      return frame + 4;
    default:
      return frame + idBytes(rec.ids);
  }
}

function ids(w: Writer, list: Uint8Array[]): void {
  w.u32(list.length);
  for (const id of list) w.u8(id.length).bytes(id);
}

function readIds(r: Reader): Uint8Array[] {
  const n = r.u32('ids.count');
  if (n > r.remaining) throw new BeepkitError('E_OVERRUN', 'outbox: id count exceeds record');
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(r.bytes(r.u8('id.length'), 'id'));
  return out;
}

export function encodeRecord(rec: OutboxRecord, sealer: Sealer): Uint8Array {
  const w = new Writer(64);
  w.u8(TYPE[rec.type]);
  switch (rec.type) {
    case 'item':
      w.u32(rec.group).lbytes(sealer.seal(TYPE.item, rec.bytes));
      break;
    case 'batch':
      w.u32(rec.seq).u32(rec.group);
      ids(w, rec.ids);
      w.lbytes(sealer.seal(TYPE.batch, rec.bytes));
      break;
    case 'ack':
      w.u32(rec.seq);
      break;
    case 'delivered':
    case 'drop':
      ids(w, rec.ids);
      break;
  }
  return w.finish();
}

/** Decodes one record body; only BeepkitError escapes. */
export function decodeRecord(body: Uint8Array, sealer: Sealer): OutboxRecord {
  const r = new Reader(body, 'outbox record');
  const t = r.u8('type');
  let rec: OutboxRecord;
  switch (t) {
    case TYPE.item: {
      const group = r.u32('group');
      rec = { type: 'item', group, bytes: sealer.open(TYPE.item, r.lbytes('item')) };
      break;
    }
    case TYPE.batch: {
      const seq = r.u32('seq');
      const group = r.u32('group');
      const list = readIds(r);
      rec = { type: 'batch', seq, group, ids: list, bytes: sealer.open(TYPE.batch, r.lbytes('batch')) };
      break;
    }
    case TYPE.ack:
      rec = { type: 'ack', seq: r.u32('seq') };
      break;
    case TYPE.delivered:
      rec = { type: 'delivered', ids: readIds(r) };
      break;
    case TYPE.drop:
      rec = { type: 'drop', ids: readIds(r) };
      break;
    default:
      throw new BeepkitError('E_TYPE', `outbox: unknown record type ${t}`);
  }
  r.end();
  return rec;
}
