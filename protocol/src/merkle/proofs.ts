/**
 * RFC 9162 §2.1.2–2.1.4: Merkle tree hash, inclusion (audit) paths and
 * consistency proofs. Generation works over any `SubtreeHasher` (an array of
 * leaf hashes, or an incremental tree that keeps its level hashes); the
 * verifiers follow the RFC's verification algorithms step by step.
 */
import { BeepkitError } from '../errors.ts';
import { equalBytes } from '../bytes.ts';
import { EMPTY_ROOT, HASH_SIZE, nodeHash, splitPoint } from './hash.ts';

/** Gives MTH(D[start:end]) for 0 <= start < end <= size. */
export interface SubtreeHasher {
  readonly size: number;
  subtreeHash(start: number, end: number): Uint8Array;
}

/** A SubtreeHasher over a plain array of leaf hashes (naive recursion, O(n) per call). */
export function leafArrayHasher(leaves: readonly Uint8Array[]): SubtreeHasher {
  const mth = (start: number, end: number): Uint8Array => {
    if (end - start === 1) return leaves[start];
    const k = splitPoint(end - start);
    return nodeHash(mth(start, start + k), mth(start + k, end));
  };
  return { size: leaves.length, subtreeHash: mth };
}

/** MTH of the first `size` leaves (EMPTY_ROOT for size 0). */
export function rootOf(src: SubtreeHasher | readonly Uint8Array[], size?: number): Uint8Array {
  const h = hasherOf(src);
  const n = size ?? h.size;
  checkSize(n, h.size);
  return n === 0 ? EMPTY_ROOT : h.subtreeHash(0, n);
}

/** PATH(m, D[n]) of RFC 9162 §2.1.3.1; `treeSize` defaults to the whole tree. */
export function inclusionProof(src: SubtreeHasher | readonly Uint8Array[], index: number, treeSize?: number): Uint8Array[] {
  const h = hasherOf(src);
  const n = treeSize ?? h.size;
  checkSize(n, h.size);
  if (!Number.isInteger(index) || index < 0 || index >= n) throw new BeepkitError('E_RANGE', `leaf index ${index} outside tree of size ${n}`);
  const out: Uint8Array[] = [];
  const path = (m: number, start: number, end: number): void => {
    if (end - start <= 1) return;
    const k = splitPoint(end - start);
    if (m < k) {
      path(m, start, start + k);
      out.push(h.subtreeHash(start + k, end));
    } else {
      path(m - k, start + k, end);
      out.push(h.subtreeHash(start, start + k));
    }
  };
  path(index, 0, n);
  return out;
}

/** PROOF(m, D[n]) of RFC 9162 §2.1.4.1 between sizes size1 <= size2. */
export function consistencyProof(src: SubtreeHasher | readonly Uint8Array[], size1: number, size2?: number): Uint8Array[] {
  const h = hasherOf(src);
  const n = size2 ?? h.size;
  checkSize(n, h.size);
  if (!Number.isInteger(size1) || size1 < 0 || size1 > n) throw new BeepkitError('E_RANGE', `consistency from size ${size1} to ${n}`);
  const out: Uint8Array[] = [];
  if (size1 === 0 || size1 === n) return out;
  const sub = (m: number, start: number, end: number, b: boolean): void => {
    if (m === end - start) {
      if (!b) out.push(h.subtreeHash(start, end));
      return;
    }
    const k = splitPoint(end - start);
    if (m <= k) {
      sub(m, start, start + k, b);
      out.push(h.subtreeHash(start + k, end));
    } else {
      sub(m - k, start + k, end, false);
      out.push(h.subtreeHash(start, start + k));
    }
  };
  sub(size1, 0, n, true);
  return out;
}

/** RFC 9162 §2.1.3.2. Never throws; false for any malformed input. */
export function verifyInclusion(leafHash: Uint8Array, index: number, treeSize: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!isSize(index) || !isSize(treeSize) || index >= treeSize) return false;
  if (!isHash(leafHash) || !isHash(root) || !proof.every(isHash)) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(r, root);
}

/**
 * RFC 9162 §2.1.4.2. Equal sizes need an empty proof and equal roots; size1 = 0
 * needs an empty proof and root1 = MTH({}). Never throws.
 */
export function verifyConsistency(size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!isSize(size1) || !isSize(size2) || size1 > size2) return false;
  if (!isHash(root1) || !isHash(root2) || !proof.every(isHash)) return false;
  if (size1 === size2) return proof.length === 0 && equalBytes(root1, root2);
  if (size1 === 0) return proof.length === 0 && equalBytes(root1, EMPTY_ROOT);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = path[0];
  for (let i = 1; i < path.length; i++) {
    const c = path[i];
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return equalBytes(fr, root1) && equalBytes(sr, root2) && sn === 0;
}

function hasherOf(src: SubtreeHasher | readonly Uint8Array[]): SubtreeHasher {
  return Array.isArray(src) ? leafArrayHasher(src as readonly Uint8Array[]) : (src as SubtreeHasher);
}

function checkSize(n: number, have: number): void {
  if (!isSize(n) || n > have) throw new BeepkitError('E_RANGE', `tree size ${n} outside 0..${have}`);
}

function isSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function isHash(h: Uint8Array): boolean {
  return h instanceof Uint8Array && h.length === HASH_SIZE;
}

function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  let x = n;
  while (x % 2 === 0) x /= 2;
  return x === 1;
}
