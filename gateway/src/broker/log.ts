/** The gateway's libraries take the protocol's injected-logger shape; default silent. */
export { type Logger, silentLogger } from '@beepkit/protocol/log';

/**
 * A client-chosen identifier (client id, username) made safe to log: at most
 * `max` characters, control and non-ASCII characters escaped (\uXXXX), and
 * the length of anything cut off, so a 65 000-character id costs ~80 bytes of log.
 */
export function logId(v: unknown, max = 64): string | undefined {
  if (v === undefined || v === null) return undefined;
  const s = typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('latin1') : String(v);
  const esc = s.slice(0, max).replace(/[^\x20-\x7e]|\\/g, (c) => (c === '\\' ? '\\\\' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return s.length > max ? `${esc}…(+${s.length - max})` : esc;
}
