/**
 * The diagnosis step of the field trial (BeepTrace steps 7–11): a diagnostician
 * certified by the trial's CA issues a challenge, the patient's agent answers
 * with its consent bundle (`beepkit agent consent`), the diagnostician endorses
 * it on the tracing chain (venue visits → venue exposure on the notification
 * chain), and the solver publishes exposure notices; the gateway broadcasts
 * every notification block, so the agents' followers self-match.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '@beepkit/protocol/bytes';
import { venueId8 } from '@beepkit/protocol/frames';
import { consentFromFile, encodeChallenge } from '@beepkit/protocol/endorse';
import { readSecretFile } from '@beepkit/gateway/ca';
import type { Gateway } from '@beepkit/gateway/app';
import { Solver, ledgerTracingSource, type NotificationSink } from '@beepkit/gateway/solver';
import { VenueRegistry, type Surface } from '@beepkit/gateway/venues';
import { runConsent } from './agents.ts';
import { rigDiagnostician } from '@beepkit/hil-tests/diagnostician';
import { hostNow } from '@beepkit/protocol/clock';

export interface DiagnosisContext {
  gateway: Gateway;
  gatewayDir: string;
  dir: string;
  bin: string;
  now: () => number;
  region: string;
  venues: { id: string; venueId: string; surface?: string; region?: string }[];
}

export interface DiagnosisResult {
  days: number;
  visits: number;
  teks: number;
  blockHeight: number;
  venueStates: { id: string; state: string }[];
}

/** When (real epoch ms) an endorsement was appended or a notification publication returned, for measurement. */
export interface DiagnosisMark {
  kind: 'endorsement' | 'diagnostician-notice' | 'solver-notice';
  /** When the append / publication was started. */
  startedAt: number;
  /** When it returned (appended; notices broadcast). */
  at: number;
  entries: number;
}

/** Notification entries go through the gateway feed (appended and broadcast to every agent); `marks` records each publication. */
export function feedSink(gw: Gateway, marks?: DiagnosisMark[], kind: DiagnosisMark['kind'] = 'solver-notice'): NotificationSink {
  return {
    publish: async (entries) => {
      const startedAt = hostNow();
      const r = await gw.publishNotification(entries);
      marks?.push({ kind, startedAt, at: hostNow(), entries: entries.length });
      return r;
    },
  };
}

/** 8-byte venue id of the notification chain: the 6-byte venue id and two zero bytes. */
export { venueId8 };

export class DiagnosisStep {
  readonly venues: VenueRegistry;
  /** Endorsements and notification publications, in order (real time). */
  readonly marks: DiagnosisMark[] = [];
  constructor(private readonly c: DiagnosisContext) {
    this.venues = new VenueRegistry({ sink: feedSink(c.gateway, this.marks, 'diagnostician-notice'), now: c.now });
    for (const v of c.venues) this.venues.register(venueId8(v.venueId), { region: v.region ?? c.region, surface: v.surface as Surface | undefined });
  }

  /** Endorses the patient whose agent config is `configPath`. */
  async endorse(patient: string, configPath: string): Promise<DiagnosisResult> {
    const c = this.c;
    const now = c.now();
    const day = Math.floor(now / 86_400_000);
    const { diag, subject } = rigDiagnostician({
      gateway: c.gateway,
      gatewayDir: c.gatewayDir,
      region: c.region,
      sink: feedSink(c.gateway, this.marks, 'diagnostician-notice'),
      venues: this.venues,
      now: c.now,
    });
    const chFile = join(c.dir, `challenge-${patient}.hex`);
    const out = join(c.dir, `consent-${patient}.json`);
    writeFileSync(chFile, toHex(encodeChallenge(diag.challenge())) + '\n');
    await runConsent(c.bin, configPath, ['--diagnostician', toHex(subject), '--challenge', chFile, '--days', String(day), '--teks', '--visits', '--out', out]);
    const consent = consentFromFile(new Uint8Array(readFileSync(out)), out);
    const startedAt = hostNow();
    const r = await diag.endorse(consent);
    this.marks.push({ kind: 'endorsement', startedAt, at: hostNow(), entries: 1 });
    return {
      days: consent.days.length,
      visits: r.visits,
      teks: r.teks,
      blockHeight: r.receipt.blockHeight,
      venueStates: c.venues.map((v) => ({ id: v.id, state: this.venues.venueState(venueId8(v.venueId)).state })),
    };
  }

  /** One solver pass over the whole tracing chain; exposure notices go out on the feed. */
  async solve(): Promise<{ records: number; published: number; endorsements: number }> {
    const c = this.c;
    const solver = new Solver({
      source: ledgerTracingSource(c.gateway.ledger),
      sink: feedSink(c.gateway, this.marks, 'solver-notice'),
      solverKey: readSecretFile(c.gateway.keys.solverKeyFile),
      caPub: c.gateway.keys.caPublicKey,
      now: c.now,
      stateFile: join(c.dir, 'solver-state.json'),
    });
    solver.open();
    await solver.catchUp();
    return { records: solver.stats.records, published: solver.stats.published, endorsements: solver.stats.endorsements };
  }
}
