/** RFC 9162 Merkle trees, proofs and signed tree heads. */
export { HASH_SIZE, EMPTY_ROOT, leafHash, nodeHash, sha256, splitPoint } from './hash.ts';
export { type SubtreeHasher, leafArrayHasher, rootOf, inclusionProof, consistencyProof, verifyInclusion, verifyConsistency } from './proofs.ts';
export { MerkleTree } from './tree.ts';
export { type SignedTreeHead, STH_VERSION, SIGNATURE_SIZE, KEY_ID_SIZE, keyIdOf, signingBytes, encodeSth, decodeSth, readSth } from './sth.ts';
