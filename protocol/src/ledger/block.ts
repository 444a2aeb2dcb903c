/**
 * Pure codec of a block record (the unit of one group commit):
 *
 *   u8 recordType (1 = block)
 *   header: u8 version | str chain | u64 height | 32 prevHash | 32 entriesRoot
 *           | u64 firstLeafIndex | u32 entryCount | u64 timeMs | 8 keyId | 64 signature
 *   entryCount x { 32 entryHash | lbytes data | u16 keyCount | keyCount x vbytes key }
 *   lbytes STH (protocol/merkle codec) — the tree head after this block
 *
 * The block signature is Ed25519 over "beepkit/block/v1" || header without
 * the signature; the block hash is SHA-256 of those same signing bytes.
 */
import { BeepkitError } from '../errors.ts';
import { Reader, Writer } from '../bytes.ts';
import { HASH_SIZE, KEY_ID_SIZE, SIGNATURE_SIZE, encodeSth, readSth, sha256 } from '../merkle/index.ts';
import { CHAINS, type Block, type BlockHeader, type ChainName } from './types.ts';

export const RECORD_BLOCK = 1;
export const BLOCK_VERSION = 1;
const TEXT = new TextEncoder();
const BLOCK_DOMAIN = TEXT.encode('beepkit/block/v1');

function writeHeaderBody(w: Writer, h: Omit<BlockHeader, 'signature'>): Writer {
  return w
    .u8(BLOCK_VERSION)
    .str(h.chain)
    .u64(h.height)
    .bytes(h.prevHash, HASH_SIZE)
    .bytes(h.entriesRoot, HASH_SIZE)
    .u64(h.firstLeafIndex)
    .u32(h.entryCount)
    .u64(h.timeMs)
    .bytes(h.keyId, KEY_ID_SIZE);
}

export function blockSigningBytes(h: Omit<BlockHeader, 'signature'>): Uint8Array {
  return writeHeaderBody(new Writer(160).bytes(BLOCK_DOMAIN), h).finish();
}

export function blockHash(h: Omit<BlockHeader, 'signature'>): Uint8Array {
  return sha256(blockSigningBytes(h));
}

/** Where each entry sits inside an encoded record (offset of its entryHash, byte length). */
export interface EntrySpan {
  offset: number;
  length: number;
}

export function encodeBlock(b: Omit<Block, 'hash'>): { bytes: Uint8Array; spans: EntrySpan[] } {
  // sized exactly (the header's fixed fields, its chain name, the entries, the STH), so finish() returns the buffer itself: one buffer per block
  const sth = encodeSth(b.sth);
  let n = 1 + 103 + TEXT.encode(b.header.chain).length + SIGNATURE_SIZE + 4 + sth.length;
  for (const e of b.entries) {
    n += HASH_SIZE + 4 + e.data.length + 2;
    for (const k of e.keys) n += 2 + k.length;
  }
  const w = new Writer(n);
  w.u8(RECORD_BLOCK);
  writeHeaderBody(w, b.header).bytes(b.header.signature, SIGNATURE_SIZE);
  const spans: EntrySpan[] = [];
  for (const e of b.entries) {
    const at = w.length;
    w.bytes(e.entryHash, HASH_SIZE).lbytes(e.data).u16(e.keys.length);
    for (const k of e.keys) w.vbytes(k);
    spans.push({ offset: at, length: w.length - at });
  }
  w.lbytes(sth);
  return { bytes: w.finish(), spans };
}

export function readEntry(r: Reader): Block['entries'][number] {
  const entryHash = r.bytes(HASH_SIZE, 'entry.hash');
  const data = r.lbytes('entry.data');
  const n = r.u16('entry.keyCount');
  const keys: Uint8Array[] = [];
  for (let i = 0; i < n; i++) keys.push(r.vbytes('entry.key'));
  return { entryHash, data, keys };
}

/** Reads the record type and the block header. */
export function readHeader(r: Reader): BlockHeader {
  const type = r.u8('recordType');
  if (type !== RECORD_BLOCK) throw new BeepkitError('E_TYPE', `record type ${type} unknown`);
  const version = r.u8('version');
  if (version !== BLOCK_VERSION) throw new BeepkitError('E_VERSION', `block version ${version} unsupported`);
  const chain = r.str('chain');
  if (!(CHAINS as readonly string[]).includes(chain)) throw new BeepkitError('E_FORMAT', `unknown chain ${chain}`);
  return {
    chain: chain as ChainName,
    height: r.u64('height'),
    prevHash: r.bytes(HASH_SIZE, 'prevHash'),
    entriesRoot: r.bytes(HASH_SIZE, 'entriesRoot'),
    firstLeafIndex: r.u64('firstLeafIndex'),
    entryCount: r.u32('entryCount'),
    timeMs: r.u64('timeMs'),
    keyId: r.bytes(KEY_ID_SIZE, 'keyId'),
    signature: r.bytes(SIGNATURE_SIZE, 'signature'),
  };
}

export function decodeBlock(buf: Uint8Array): { block: Block; spans: EntrySpan[] } {
  const r = new Reader(buf, 'block');
  const header = readHeader(r);
  const entries: Block['entries'] = [];
  const spans: EntrySpan[] = [];
  for (let i = 0; i < header.entryCount; i++) {
    const at = r.offset;
    entries.push(readEntry(r));
    spans.push({ offset: at, length: r.offset - at });
  }
  const sr = new Reader(r.lbytes('sth'), 'block.sth');
  const sth = readSth(sr);
  sr.end();
  r.end();
  return { block: { header, hash: blockHash(header), entries, sth }, spans };
}
