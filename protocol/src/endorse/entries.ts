/**
 * Notification-chain entry types (one item per entry, deterministic bytes, so
 * re-publishing the same result is idempotent on the ledger):
 *
 *   u8 tag=0xB1 | u8 type | body
 *   1 exposure      16 fingerprint | u8 risk (1 low, 2 high) | u32 day
 *   2 tek           16 tek | u32 rollingStart | u16 period (1..144)
 *   3 venue-exposure 8 venue id | u32 start | u32 end   (Unix seconds, end ≥ start; surface residual included)
 *   4 venue-state   8 venue id | u8 state (0 empty, 1 infected, 2 clean) | u32 since | u8 reason
 *                   (0 visit, 1 report, 2 expiry, 3 signoff)
 * Risk codes match the agent's RISK_CODE (0 none is never published).
 */
import { BeepkitError } from '../errors.ts';
import { Reader, Writer } from '../bytes.ts';
import { EK_PERIOD } from './consent.ts';

export const NOTIFICATION_TAG = 0xb1;
export const VENUE_STATES = ['empty', 'infected', 'clean'] as const;
export type VenueStateName = (typeof VENUE_STATES)[number];
export const STATE_REASONS = ['visit', 'report', 'expiry', 'signoff'] as const;
export type StateReason = (typeof STATE_REASONS)[number];

export type NotificationEntry =
  | { type: 'exposure'; fingerprint: Uint8Array; risk: 1 | 2; day: number }
  | { type: 'tek'; tek: Uint8Array; rollingStart: number; period: number }
  | { type: 'venue-exposure'; venue: Uint8Array; start: number; end: number }
  | { type: 'venue-state'; venue: Uint8Array; state: VenueStateName; since: number; reason: StateReason };

export function encodeNotificationEntry(e: NotificationEntry): Uint8Array {
  const w = new Writer(40).u8(NOTIFICATION_TAG);
  switch (e.type) {
    case 'exposure':
      if (e.risk !== 1 && e.risk !== 2) throw new BeepkitError('E_RANGE', `exposure: risk ${String(e.risk)} not 1 or 2`);
      return w.u8(1).bytes(e.fingerprint, 16).u8(e.risk).u32(e.day).finish();
    case 'tek':
      if (!Number.isInteger(e.period) || e.period < 1 || e.period > EK_PERIOD) throw new BeepkitError('E_RANGE', `tek: period ${e.period}`);
      return w.u8(2).bytes(e.tek, 16).u32(e.rollingStart).u16(e.period).finish();
    case 'venue-exposure':
      if (e.end < e.start) throw new BeepkitError('E_RANGE', 'venue-exposure: end before start');
      return w.u8(3).bytes(e.venue, 8).u32(e.start).u32(e.end).finish();
    case 'venue-state': {
      const s = VENUE_STATES.indexOf(e.state);
      const why = STATE_REASONS.indexOf(e.reason);
      if (s < 0 || why < 0) throw new BeepkitError('E_RANGE', 'venue-state: unknown state or reason');
      return w.u8(4).bytes(e.venue, 8).u8(s).u32(e.since).u8(why).finish();
    }
    default:
      throw new BeepkitError('E_TYPE', `unknown notification entry type ${String((e as { type: unknown }).type)}`);
  }
}

export function isNotificationEntry(b: Uint8Array): boolean {
  return b.length > 1 && b[0] === NOTIFICATION_TAG;
}

export function decodeNotificationEntry(b: Uint8Array): NotificationEntry {
  const r = new Reader(b, 'notification entry');
  const tag = r.u8('tag');
  if (tag !== NOTIFICATION_TAG) throw new BeepkitError('E_TYPE', `notification entry: tag 0x${tag.toString(16)}`);
  const type = r.u8('type');
  let e: NotificationEntry;
  if (type === 1) {
    const fingerprint = r.bytes(16, 'fingerprint');
    const risk = r.u8('risk');
    if (risk !== 1 && risk !== 2) throw new BeepkitError('E_RANGE', `exposure: risk ${risk} not 1 or 2`);
    e = { type: 'exposure', fingerprint, risk, day: r.u32('day') };
  } else if (type === 2) {
    e = { type: 'tek', tek: r.bytes(16, 'tek'), rollingStart: r.u32('rollingStart'), period: r.u16('period') };
    if (e.period < 1 || e.period > EK_PERIOD) throw new BeepkitError('E_RANGE', `tek: period ${e.period}`);
  } else if (type === 3) {
    e = { type: 'venue-exposure', venue: r.bytes(8, 'venue'), start: r.u32('start'), end: r.u32('end') };
    if (e.end < e.start) throw new BeepkitError('E_RANGE', 'venue-exposure: end before start');
  } else if (type === 4) {
    const venue = r.bytes(8, 'venue');
    const state = VENUE_STATES[r.u8('state')];
    const since = r.u32('since');
    const reason = STATE_REASONS[r.u8('reason')];
    if (!state || !reason) throw new BeepkitError('E_RANGE', 'venue-state: unknown state or reason');
    e = { type: 'venue-state', venue, state, since, reason };
  } else throw new BeepkitError('E_TYPE', `notification entry: unknown type ${type}`);
  r.end();
  return e;
}
