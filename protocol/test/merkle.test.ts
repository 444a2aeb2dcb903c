import t from 'tap';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import {
  EMPTY_ROOT,
  MerkleTree,
  consistencyProof,
  decodeSth,
  encodeSth,
  inclusionProof,
  keyIdOf,
  leafHash,
  rootOf,
  signingBytes,
  verifyConsistency,
  verifyInclusion,
  type SignedTreeHead,
} from '../src/merkle/index.ts';
import { BeepkitError } from '../src/errors.ts';
import { fromHex, toHex } from '../src/bytes.ts';

interface Vectors {
  leaves: string[];
  emptyRoot: string;
  roots: string[];
  inclusion: { index: number; size: number; path: string[] }[];
  consistency: { size1: number; size2: number; proof: string[] }[];
}
const v = JSON.parse(readFileSync(new URL('./vectors/merkle-rfc6962.json', import.meta.url), 'utf8')) as Vectors;
const leaves = v.leaves.map((x) => fromHex(x));
const leafHashes = leaves.map(leafHash);

// Independent naive implementation (node:crypto + Buffer slicing) used to freeze the vectors.
const H = (...p: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const x of p) h.update(x);
  return new Uint8Array(h.digest());
};
const split = (n: number) => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};
const naiveMth = (d: Uint8Array[]): Uint8Array =>
  d.length === 0
    ? H()
    : d.length === 1
      ? H(Uint8Array.of(0), d[0])
      : H(Uint8Array.of(1), naiveMth(d.slice(0, split(d.length))), naiveMth(d.slice(split(d.length))));

// The published roots of the CT reference test tree, literally.
const PUBLISHED_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

t.test('roots for sizes 0..8', async (t) => {
  t.same(v.roots, PUBLISHED_ROOTS, 'frozen vectors equal the published roots');
  t.equal(toHex(EMPTY_ROOT), v.emptyRoot);
  t.equal(toHex(rootOf(leafHashes, 0)), v.emptyRoot);
  const tree = new MerkleTree();
  for (let n = 1; n <= 8; n++) {
    tree.append(leafHashes[n - 1]);
    t.equal(toHex(rootOf(leafHashes.slice(0, n))), v.roots[n - 1], `rootOf size ${n}`);
    t.equal(toHex(naiveMth(leaves.slice(0, n))), v.roots[n - 1], `naive size ${n}`);
    t.equal(toHex(tree.root()), v.roots[n - 1], `incremental size ${n}`);
  }
  for (let n = 1; n <= 8; n++) t.equal(toHex(tree.root(n)), v.roots[n - 1], `historical root ${n}`);
});

t.test('inclusion vectors: generation and verification', async (t) => {
  const tree = new MerkleTree();
  for (const h of leafHashes) tree.append(h);
  for (const c of v.inclusion) {
    const root = fromHex(v.roots[c.size - 1]);
    t.same(inclusionProof(leafHashes.slice(0, c.size), c.index).map(toHex), c.path, `array path ${c.index}/${c.size}`);
    t.same(tree.inclusionProof(c.index, c.size).map(toHex), c.path, `tree path ${c.index}/${c.size}`);
    const path = c.path.map((x) => fromHex(x));
    t.ok(verifyInclusion(leafHashes[c.index], c.index, c.size, path, root), `verifies ${c.index}/${c.size}`);
    if (c.size < 8) t.notOk(verifyInclusion(leafHashes[c.index], c.index, c.size + 1, path, fromHex(v.roots[c.size])), 'not in the next tree with this path');
    if (path.length > 0) t.notOk(verifyInclusion(leafHashes[c.index], c.index, c.size, path.slice(1), root), 'shortened path fails');
    if (c.size > 1) t.notOk(verifyInclusion(leafHashes[c.index], (c.index + 1) % c.size, c.size, path, root), 'wrong index fails');
  }
  t.notOk(verifyInclusion(leafHashes[0], 0, 0, [], EMPTY_ROOT), 'empty tree has no leaves');
  t.notOk(verifyInclusion(leafHashes[0], 0, 1, [leafHashes[1]], fromHex(v.roots[0])), 'extra path element fails');
});

t.test('consistency vectors: generation and verification', async (t) => {
  const tree = new MerkleTree();
  for (const h of leafHashes) tree.append(h);
  for (const c of v.consistency) {
    const r1 = fromHex(v.roots[c.size1 - 1]);
    const r2 = fromHex(v.roots[c.size2 - 1]);
    t.same(consistencyProof(leafHashes.slice(0, c.size2), c.size1).map(toHex), c.proof, `array ${c.size1}->${c.size2}`);
    t.same(tree.consistencyProof(c.size1, c.size2).map(toHex), c.proof, `tree ${c.size1}->${c.size2}`);
    const proof = c.proof.map((x) => fromHex(x));
    t.ok(verifyConsistency(c.size1, c.size2, r1, r2, proof), `verifies ${c.size1}->${c.size2}`);
    t.notOk(verifyConsistency(c.size1, c.size2, r2, r1, proof), 'swapped roots fail');
  }
  const r = fromHex(v.roots[3]);
  t.ok(verifyConsistency(4, 4, r, r, []), 'equal sizes, empty proof');
  t.notOk(verifyConsistency(4, 4, r, r, [r]), 'equal sizes, non-empty proof');
  t.ok(verifyConsistency(0, 4, EMPTY_ROOT, r, []), 'from the empty tree');
  t.notOk(verifyConsistency(5, 4, r, r, []), 'shrinking fails');
  t.notOk(verifyConsistency(3, 4, fromHex(v.roots[2]), r, []), 'empty proof fails');
});

t.test('range errors are typed', async (t) => {
  t.throws(() => inclusionProof(leafHashes, 8), BeepkitError);
  t.throws(() => consistencyProof(leafHashes, 9), BeepkitError);
  t.throws(() => new MerkleTree().root(1), BeepkitError);
});

const sth: SignedTreeHead = {
  chainId: 'tracing',
  treeSize: 8,
  rootHash: fromHex(v.roots[7]),
  timestampMs: 1_700_000_000_123,
  blockHeight: 3,
  keyId: keyIdOf(new Uint8Array(32).fill(9)),
  signature: new Uint8Array(64).fill(0xab),
};

t.test('STH codec round trip and signing bytes', async (t) => {
  const enc = encodeSth(sth);
  t.same(decodeSth(enc), sth);
  const sb = signingBytes(sth);
  t.equal(new TextDecoder().decode(sb.subarray(0, 14)), 'beepkit/sth/v1');
  t.equal(sb.length, enc.length - 64 + 14, 'signing bytes are the body without the signature, behind the tag');
  t.notSame(signingBytes({ ...sth, treeSize: 9 }), sb, 'tree size is signed');
  t.equal(keyIdOf(new Uint8Array(32)).length, 8);
});

t.test('STH decoder throws only typed errors', async (t) => {
  const enc = encodeSth(sth);
  for (let n = 0; n < enc.length; n++) {
    t.throws(() => decodeSth(enc.subarray(0, n)), { code: 'E_TRUNCATED' }, `truncated at ${n}`);
  }
  t.throws(() => decodeSth(new Uint8Array([...enc, 0])), { code: 'E_TRAILING' });
  const bad = enc.slice();
  bad[0] = 2;
  t.throws(() => decodeSth(bad), { code: 'E_VERSION' });
  t.throws(() => encodeSth({ ...sth, rootHash: new Uint8Array(31) }), { code: 'E_RANGE' });
});
