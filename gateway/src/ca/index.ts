/** CA: keys, venue registry, authorisation, revocation notices. */
export * from './keys.ts';
export * from './registry.ts';
export * from './authority.ts';
export * from './revocation.ts';
