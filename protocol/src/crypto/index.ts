export * from './hash.ts';
export * from './aead.ts';
export * from './ed25519.ts';
export * from './x25519.ts';
export * from './chacha.ts';
export * from './sha256-block.ts';
