/**
 * The operator messages into the running gateway (payload in, encoded reply out, never throw):
 *   - DiagnosisSubmit (diagnostician, `beepkit diagnose endorse --broker`): the
 *     consent and the endorsement record signed over it. Checked in full: the
 *     record (diagnostician certificate from this CA, challenge, proofs,
 *     signature), the consent against the record's challenge and days, single
 *     use. Then the record goes on the tracing chain, the TEKs on the
 *     notification chain, the visits through the venue state machine.
 *   - VenueSignoff (venue, `beepkit venue signoff --broker`): verified with the
 *     venue's sign-off key (derived from its registered venue key).
 *   - NotificationSubmit (solver, `beepkit solver run --broker`): only from
 *     device ids listed in `feed.publishers`.
 */
import { BeepkitError, type ErrorCode } from '@beepkit/protocol';
import { equalBytes, toHex } from '@beepkit/protocol/bytes';
import { decodeConsent, encodeChallenge, encodeNotificationEntry, isNotificationEntry, verifyConsent, verifyEndorsement } from '@beepkit/protocol/endorse';
import { venueId6 } from '@beepkit/protocol/frames';
import { recordHash } from '@beepkit/protocol/tracecode';
import { decodeMessage, encodeMessage } from '@beepkit/protocol/wire';
import { codeOf, correlationOf, errorReply, receiptReply } from '../ingest/index.ts';
import type { Ledger, Logger } from '../ledger/types.ts';
import { SIGNOFF_SKEW_MS, type VenueRegistry as VenueStates } from '../venues/registry.ts';

export interface OpsDeps {
  ledger: Pick<Ledger, 'append' | 'getByKey'>;
  publishNotification: (entries: Uint8Array[]) => Promise<{ blockHeight: number }[] | unknown[]>;
  venueStates: VenueStates;
  caPublicKey: Uint8Array;
  /** Clock, ms. */
  now: () => number;
  publishers: readonly string[];
  logger: Logger;
}

function decode(payload: Uint8Array, type: string) {
  const m = decodeMessage(payload);
  if (m.type !== type) throw new BeepkitError('E_TYPE', `expected ${type}, got ${m.type}`);
  return m;
}

const refuse = (payload: Uint8Array, e: unknown): Uint8Array => errorReply(correlationOf(payload), codeOf(e), (e as Error).message);

export async function handleDiagnosis(d: OpsDeps, payload: Uint8Array): Promise<Uint8Array> {
  try {
    const m = decode(payload, 'diagnosis-submit');
    if (m.type !== 'diagnosis-submit') throw new BeepkitError('E_TYPE', 'diagnosis-submit');
    const { endorsement: e, certificate } = verifyEndorsement(m.endorsement, { caPub: d.caPublicKey });
    const consent = decodeConsent(m.consent);
    if (!equalBytes(encodeChallenge(consent.challenge), encodeChallenge(e.challenge)))
      throw new BeepkitError('E_CERT', 'diagnosis: the consent answers another challenge than the endorsement');
    const days = (x: { day: number; pseudonym: Uint8Array }[]) => x.map((y) => `${y.day}:${toHex(y.pseudonym)}`).join(',');
    if (days(consent.days) !== days(e.days)) throw new BeepkitError('E_CERT', 'diagnosis: the endorsement covers other days than the consent');
    verifyConsent(consent, { now: Math.floor(d.now() / 1000), diagnostician: certificate.subject });
    const key = recordHash(m.endorsement);
    if ((await d.ledger.getByKey('tracing', key)) !== undefined) throw new BeepkitError('E_REPLAY', 'diagnosis: this endorsement is already on the ledger');
    const [res] = await d.ledger.append('tracing', [{ data: m.endorsement, keys: [key] }]);
    if ('error' in res) throw new BeepkitError(res.error.code, `endorsement not appended: ${res.error.message}`);
    if (consent.teks.length) await d.publishNotification(consent.teks.map((t) => encodeNotificationEntry({ type: 'tek', ...t })));
    for (const v of consent.visits) await d.venueStates.infectedVisit(v.venue, v.entry, v.exit, 'report');
    d.logger.info(
      { days: consent.days.length, teks: consent.teks.length, visits: consent.visits.length, height: res.blockHeight },
      'diagnosis endorsed over MQTT',
    );
    return receiptReply(m.correlationId, res);
  } catch (e) {
    return refuse(payload, e);
  }
}

export async function handleVenueSignoff(d: OpsDeps, payload: Uint8Array): Promise<Uint8Array> {
  try {
    const m = decode(payload, 'venue-signoff');
    if (m.type !== 'venue-signoff') throw new BeepkitError('E_TYPE', 'venue-signoff');
    const venue = m.signoff.subarray(2, 10);
    await d.venueStates.signoff(m.signoff, d.now() + SIGNOFF_SKEW_MS);
    const s = d.venueStates.venueState(venue);
    return encodeMessage({ type: 'venue-status-reply', correlationId: m.correlationId, venueId: venueId6(venue), state: s.state, sinceMs: s.sinceMs });
  } catch (e) {
    return refuse(payload, e);
  }
}

export async function handleNotificationSubmit(d: OpsDeps, deviceId: string, payload: Uint8Array): Promise<Uint8Array> {
  try {
    const m = decode(payload, 'notification-submit');
    if (m.type !== 'notification-submit') throw new BeepkitError('E_TYPE', 'notification-submit');
    if (!d.publishers.includes(deviceId)) throw new BeepkitError('E_DENIED', 'notification entries only from the solvers in feed.publishers');
    if (m.entries.length === 0 || !m.entries.every(isNotificationEntry))
      throw new BeepkitError('E_FORMAT', 'notification-submit: not notification-chain entries');
    const r = (await d.publishNotification(m.entries)) as ({ blockHeight: number } | { error: { code: ErrorCode; message: string } })[];
    const last = r[r.length - 1];
    if (!last || 'error' in last) throw new BeepkitError(last ? last.error.code : 'E_IO', 'notification entries not appended');
    return receiptReply(m.correlationId, last as Parameters<typeof receiptReply>[1]);
  } catch (e) {
    return refuse(payload, e);
  }
}
