export * from './outbox.ts';
export { crc32c } from './crc32c.ts';
