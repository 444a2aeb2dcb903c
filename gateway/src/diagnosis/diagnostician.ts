/**
 * The diagnostician (BeepTrace steps 7–8). Issues challenges, verifies the
 * patient's consent bundle (challenge freshness and addressee, every
 * pseudonym proof, days in the window, TEKs of past days only), and endorses:
 *   - an endorsement record on the tracing chain, signed with the
 *     diagnostician key whose CA certificate (role diagnostician) is its prefix;
 *   - the TEKs as Exposure Notification keys on the notification chain;
 *   - the venue visits as venue exposures (through the venue state machine).
 * Nothing is appended or published unless everything verifies.
 */
import { BeepkitError } from '@beepkit/protocol';
import { toHex } from '@beepkit/protocol/bytes';
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { decodeCertificate, verifyCertificate, type Certificate } from '@beepkit/protocol/cert';
import { recordHash } from '@beepkit/protocol/tracecode';
import { encodeNotificationEntry, newChallenge, signEndorsement, verifyConsent, type Challenge, type Consent } from '@beepkit/protocol/endorse';
import type { Ledger, Logger, Receipt } from '../ledger/types.ts';
import type { NotificationSink } from '../solver/source.ts';
import type { VenueRegistry } from '../venues/registry.ts';
import { hostNow } from '@beepkit/protocol/clock';

const silent: Logger = { info() {}, warn() {}, error() {}, debug() {} };

export interface DiagnosticianOptions {
  /** Ed25519 seed of the diagnostician key. */
  signingSeed: Uint8Array;
  /** Its CA-issued certificate (role diagnostician), encoded. */
  certificate: Uint8Array;
  caPub: Uint8Array;
  ledger: Pick<Ledger, 'append'>;
  sink: NotificationSink;
  /** When given, endorsed visits drive the venue state machine (which publishes through its own sink). */
  venues?: VenueRegistry;
  /** Clock, ms. */
  now: () => number;
  challengeTtlSeconds?: number;
  windowDays?: number;
  /** Geodata level the solver coarsens the endorsed records to (0 exact .. 4 grid1000). */
  matchLevel?: number;
  /** Accept only challenges this instance issued (default true; the file-based CLI turns it off). */
  requireIssued?: boolean;
  logger?: Logger;
}

export interface EndorseResult {
  endorsement: Uint8Array;
  receipt: Receipt;
  teks: number;
  visits: number;
}

export class Diagnostician {
  readonly signer: Ed25519Signer;
  private readonly o: DiagnosticianOptions;
  private readonly now: () => number;
  private readonly issued = new Map<string, number>();
  private readonly used = new Set<string>();
  private readonly log: Logger;

  constructor(o: DiagnosticianOptions) {
    this.o = o;
    this.now = o.now ?? hostNow;
    this.signer = new Ed25519Signer(o.signingSeed);
    this.log = o.logger ?? silent;
  }

  /** Verifies the own certificate now (E_CERT, E_SIGNATURE, E_EXPIRED). */
  certificate(): Certificate {
    return verifyCertificate(decodeCertificate(this.o.certificate), this.o.caPub, {
      now: Math.floor(this.now() / 1000),
      role: 'diagnostician',
      subject: this.signer.publicKey,
    });
  }

  challenge(): Challenge {
    const c = newChallenge(this.signer.publicKey, Math.floor(this.now() / 1000), this.o.challengeTtlSeconds ?? 900);
    this.issued.set(toHex(c.nonce), c.expiresAt);
    const nowS = Math.floor(this.now() / 1000);
    for (const [k, exp] of this.issued) if (exp < nowS) this.issued.delete(k);
    return c;
  }

  /** Throws unless the consent may be endorsed now. */
  verify(consent: Consent): void {
    this.certificate();
    const now = Math.floor(this.now() / 1000);
    verifyConsent(consent, { now, diagnostician: this.signer.publicKey, windowDays: this.o.windowDays });
    const nonce = toHex(consent.challenge.nonce);
    if (this.used.has(nonce)) throw new BeepkitError('E_REPLAY', 'consent: challenge already used');
    if ((this.o.requireIssued ?? true) && !this.issued.has(nonce)) throw new BeepkitError('E_REPLAY', 'consent: challenge was not issued here (or expired)');
  }

  /** Verifies and endorses; returns what was appended. */
  async endorse(consent: Consent): Promise<EndorseResult> {
    this.verify(consent);
    const nonce = toHex(consent.challenge.nonce);
    this.used.add(nonce);
    this.issued.delete(nonce);
    const endorsement = signEndorsement(
      { certificate: this.o.certificate, challenge: consent.challenge, time: Math.floor(this.now() / 1000), level: this.o.matchLevel ?? 0, days: consent.days },
      this.signer,
    );
    const [res] = await this.o.ledger.append('tracing', [{ data: endorsement, keys: [recordHash(endorsement)] }]);
    if ('error' in res) throw new BeepkitError(res.error.code, `endorsement not appended: ${res.error.message}`);
    if (consent.teks.length) await this.o.sink.publish(consent.teks.map((t) => encodeNotificationEntry({ type: 'tek', ...t })));
    for (const v of consent.visits) {
      if (this.o.venues) await this.o.venues.infectedVisit(v.venue, v.entry, v.exit, 'report');
      else await this.o.sink.publish([encodeNotificationEntry({ type: 'venue-exposure', venue: v.venue, start: v.entry, end: v.exit })]);
    }
    this.log.info({ days: consent.days.length, teks: consent.teks.length, visits: consent.visits.length, height: res.blockHeight }, 'diagnosis endorsed');
    return { endorsement, receipt: res, teks: consent.teks.length, visits: consent.visits.length };
  }
}
