import t from 'tap';
import fc from 'fast-check';
import { MerkleTree, consistencyProof, inclusionProof, leafHash, rootOf, verifyConsistency, verifyInclusion } from '../src/merkle/index.ts';

const treeArb = fc.array(fc.uint8Array({ maxLength: 8 }), { minLength: 1, maxLength: 70 }).map((ds) => ds.map((d) => leafHash(d)));
const flip = (h: Uint8Array, bit: number): Uint8Array => {
  const c = h.slice();
  c[(bit >> 3) % c.length] ^= 1 << (bit & 7);
  return c;
};

t.test('every inclusion proof verifies; any alteration fails', async (t) => {
  let checked = 0;
  fc.assert(
    fc.property(treeArb, fc.nat(), fc.nat(), fc.nat(), (hashes, a, b, bit) => {
      const size = 1 + (a % hashes.length);
      const index = b % size;
      const tree = new MerkleTree();
      for (const h of hashes) tree.append(h);
      const root = rootOf(hashes, size);
      const proof = inclusionProof(hashes, index, size);
      if (!verifyInclusion(hashes[index], index, size, proof, root)) return false;
      if (!verifyInclusion(hashes[index], index, size, tree.inclusionProof(index, size), tree.root(size))) return false;
      if (verifyInclusion(flip(hashes[index], bit), index, size, proof, root)) return false;
      if (verifyInclusion(hashes[index], index, size, proof, flip(root, bit))) return false;
      if (proof.length > 0) {
        const j = bit % proof.length;
        const bad = proof.map((p, i) => (i === j ? flip(p, bit) : p));
        if (verifyInclusion(hashes[index], index, size, bad, root)) return false;
        if (verifyInclusion(hashes[index], index, size, proof.slice(0, -1), root)) return false;
      }
      if (verifyInclusion(hashes[index], index, size, [...proof, root], root)) return false;
      for (let other = 0; other < size; other++) {
        if (other !== index && verifyInclusion(hashes[index], other, size, proof, root) && !sameBytes(hashes[other], hashes[index])) return false;
      }
      checked++;
      return true;
    }),
    { seed: 6162, numRuns: 300 },
  );
  t.equal(checked, 300);
});

t.test('every consistency proof verifies; any alteration fails', async (t) => {
  let checked = 0;
  fc.assert(
    fc.property(treeArb, fc.nat(), fc.nat(), fc.nat(), (hashes, a, b, bit) => {
      const size2 = 1 + (a % hashes.length);
      const size1 = b % (size2 + 1);
      const tree = new MerkleTree();
      for (const h of hashes) tree.append(h);
      const r1 = rootOf(hashes, size1);
      const r2 = rootOf(hashes, size2);
      const proof = consistencyProof(hashes, size1, size2);
      if (!verifyConsistency(size1, size2, r1, r2, proof)) return false;
      if (!verifyConsistency(size1, size2, tree.root(size1), tree.root(size2), tree.consistencyProof(size1, size2))) return false;
      if (size1 > 0 && size1 < size2) {
        if (verifyConsistency(size1, size2, flip(r1, bit), r2, proof)) return false;
        if (verifyConsistency(size1, size2, r1, flip(r2, bit), proof)) return false;
        const j = bit % proof.length;
        if (
          verifyConsistency(
            size1,
            size2,
            r1,
            r2,
            proof.map((p, i) => (i === j ? flip(p, bit) : p)),
          )
        )
          return false;
        if (verifyConsistency(size1, size2, r1, r2, proof.slice(0, -1))) return false;
      }
      checked++;
      return true;
    }),
    { seed: 9162, numRuns: 300 },
  );
  t.equal(checked, 300);
});

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
