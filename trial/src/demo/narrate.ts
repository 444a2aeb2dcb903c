/**
 * Plain-language narration of a running field trial: what changed between two
 * observations of a device agent becomes a line ("Alice entered The Beep Café").
 * Pure: the orchestrator feeds snapshots and scenario times.
 */
import type { Level } from './summary.ts';

/** What the demo reads from an agent's /status (a stable subset). */
export interface AgentSnapshot {
  running: boolean;
  radioOn: boolean;
  gnssUsable: boolean;
  trust: string;
  certificate: boolean;
  visitsOpen: number;
  visitsTotal: number;
  sealed: number;
  alerts: Partial<Record<Level, number>>;
}

export interface VenueLike {
  id: string;
  name: string;
  center: { x: number; y: number };
  radius: number;
}

/** Narration event: a line, and what the dashboard should be told. */
export type Narration =
  | { kind: 'ready'; text: string }
  | { kind: 'visit-open'; text: string; venue?: string }
  | { kind: 'visit-close'; text: string; venue?: string }
  | { kind: 'trust'; text: string; state: 'untrusted' | 'trusted' | 'lost' }
  | { kind: 'certificate'; text: string }
  | { kind: 'tracecode'; text: string; count: number }
  | { kind: 'alert'; text: string; level: Level };

/** Scenario seconds as `t+mm:ss` (hours when needed). */
export function clockLabel(t: number): string {
  const s = Math.max(0, Math.floor(t));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `t+${h}:${mm}:${ss}` : `t+${mm}:${ss}`;
}

/** The venue a position is nearest to, with the distance to its edge (0 inside). */
export function nearestVenue(p: { x: number; y: number }, venues: VenueLike[]): { venue: VenueLike; edgeM: number } | undefined {
  let best: { venue: VenueLike; edgeM: number } | undefined;
  for (const v of venues) {
    const edgeM = Math.max(0, Math.hypot(p.x - v.center.x, p.y - v.center.y) - v.radius);
    if (!best || edgeM < best.edgeM) best = { venue: v, edgeM };
  }
  return best;
}

/** "Dave is 230 m from The Beep Café" / "Alice is at The Beep Café". */
export function whereText(label: string, p: { x: number; y: number }, venues: VenueLike[]): string {
  const n = nearestVenue(p, venues);
  if (!n) return `${label} is at ${p.x.toFixed(0)} m east, ${p.y.toFixed(0)} m north`;
  return n.edgeM === 0 ? `${label} is at ${n.venue.name}` : `${label} is ${Math.round(n.edgeM)} m from ${n.venue.name}`;
}

const RANK: Record<Level, number> = { none: 0, low: 1, high: 2 };

/** The highest level with a non-zero count. */
export function topLevel(alerts: Partial<Record<Level, number>>): Level {
  let top: Level = 'none';
  for (const [l, n] of Object.entries(alerts) as [Level, number][]) if (n > 0 && RANK[l] > RANK[top]) top = l;
  return top;
}

/**
 * Lines for what changed from `prev` to `next` for device `label`. `venue` is
 * the venue the device is nearest to now (for naming the visit).
 */
export function narrateChange(label: string, prev: AgentSnapshot | undefined, next: AgentSnapshot, venue?: VenueLike): Narration[] {
  const out: Narration[] = [];
  const p: AgentSnapshot = prev ?? {
    running: false,
    radioOn: false,
    gnssUsable: false,
    trust: 'untrusted',
    certificate: false,
    visitsOpen: 0,
    visitsTotal: 0,
    sealed: 0,
    alerts: {},
  };
  const at = venue?.name ?? 'a venue';
  if (next.radioOn && next.gnssUsable && !(p.radioOn && p.gnssUsable)) out.push({ kind: 'ready', text: `${label}'s kit is up: radio on, GNSS fix` });
  if (next.visitsOpen > p.visitsOpen) out.push({ kind: 'visit-open', text: `${label} entered ${at}`, venue: venue?.id });
  if (next.visitsOpen < p.visitsOpen && next.visitsTotal >= p.visitsTotal) out.push({ kind: 'visit-close', text: `${label} left ${at}`, venue: venue?.id });
  if (next.trust !== p.trust && (next.trust === 'trusted' || next.trust === 'lost' || next.trust === 'untrusted')) {
    const why = next.trust === 'trusted' ? 'GNSS and the venue beacon agree' : 'sources no longer agree';
    if (prev || next.trust === 'trusted') out.push({ kind: 'trust', text: `${label}'s location is ${next.trust} (${why})`, state: next.trust });
  }
  if (next.certificate && !p.certificate) out.push({ kind: 'certificate', text: `${label} earned today's certificate from the CA` });
  if (next.sealed > p.sealed)
    out.push({
      kind: 'tracecode',
      text: `${label} sealed ${next.sealed - p.sealed === 1 ? 'a TraceCode' : `${next.sealed - p.sealed} TraceCodes`} (${next.sealed} so far)`,
      count: next.sealed,
    });
  const lvl = topLevel(next.alerts);
  if (RANK[lvl] > RANK[topLevel(p.alerts)]) out.push({ kind: 'alert', text: `ALERT for ${label}: ${lvl} risk`, level: lvl });
  return out;
}

/** A snapshot from an agent's /status JSON (tolerant of missing parts). */
export function snapshotOf(s: unknown): AgentSnapshot {
  const o = (s ?? {}) as {
    state?: string;
    radio?: { scanner?: string };
    gnss?: { usable?: boolean };
    trust?: { state?: string };
    certificate?: { today?: boolean };
    visits?: { open?: number; total?: number };
    publisher?: Record<string, number>;
    alerts?: { byLevel?: Record<string, number> };
  };
  const by = o.alerts?.byLevel ?? {};
  return {
    running: o.state === 'running',
    radioOn: o.radio?.scanner === 'poweredOn',
    gnssUsable: !!o.gnss?.usable,
    trust: o.trust?.state ?? 'untrusted',
    certificate: !!o.certificate?.today,
    visitsOpen: o.visits?.open ?? 0,
    visitsTotal: o.visits?.total ?? 0,
    sealed: o.publisher?.seal ?? 0,
    alerts: { low: by.low ?? 0, high: by.high ?? 0 },
  };
}
