export * from './verify.ts';
export * from './cursor.ts';
export * from './follower.ts';
export * from './self-match.ts';
export * from './shared.ts';
