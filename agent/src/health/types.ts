/**
 * The agent's status snapshot. Counts, states and reason codes only: nothing
 * here may link a pseudonym, TEK, RPI, BLE address or position to the device.
 */
export interface AgentStatus {
  state: 'starting' | 'running' | 'stopping' | 'stopped';
  uptimeSeconds: number;
  /** UTC day number of the keys in use. */
  day: number;
  gnss: {
    type: string;
    state: string;
    reason?: string;
    usable: boolean;
    mode?: number;
    satellites?: number;
    fixAgeMs?: number;
    counters: Record<string, number>;
  };
  radio: {
    scanner: string;
    advertiser: string;
    scanning: boolean;
    advertising: boolean;
    lastError?: string;
    counters: Record<string, number>;
    /**
     * The TX power in the AEM: the advertiser controller's (LE Read Advertising Physical Channel Tx Power)
     * plus the correction, or the configured `radio.txPower` when the controller did not report one.
     */
    txPower?: { controller: number | null; correction: number; advertised: number | null; source: 'model' | 'controller' | 'config' | null };
  };
  scan: { total: number; accepted: number; peers: number; byKind: Record<string, number>; rejects: Record<string, number> };
  trust: { state: string; reason?: string; counters: Record<string, number> };
  certificate: { today: boolean; requests: number; inFlight: boolean; lastCode?: string; codes: Record<string, number> };
  encounters: number;
  /**
   * The receiver's calibration (model row or fallback, unit correction, table version) and the minutes the
   * proximity estimator called close over all encounters in the log (agent/README.md "Proximity"); counts only.
   */
  proximity?: { closeMinutes: number; totalMinutes: number; model: string; modelSource: string; rssiCorrection: number; txPower: number; tableVersion: string };
  /** `seconds`: time spent in venues, closed visits plus the open ones so far. */
  visits: { open: number; total: number; seconds?: number };
  publisher: Record<string, number>;
  /** `oldestMs`: the start of the interval the oldest pending item was sealed for. */
  outbox: { depth: number; bytes: number; oldestMs?: number };
  network: { state: string; counters: Record<string, number> };
  /** `lastReceiptMs`: when the last verified receipt arrived (since this start). */
  upload: { lastDecision?: string; lastReceiptMs?: number; counters: Record<string, number> };
  alerts: { total: number; byLevel: Record<string, number> };
  errors: Record<string, number>;
  /**
   * The time policy (agent/src/time/keeper.ts): the clock's source, whether it may seal and sign,
   * the GNSS correction applied (offsetMs) and the last GNSS − clock disagreement; ticks held while
   * not trusted, and the backlog waiting to be sealed under its true time.
   */
  time: {
    source: string;
    trusted: boolean;
    offsetMs: number;
    gnssDeltaMs?: number;
    ntp?: boolean;
    corrections: number;
    reason: string;
    code?: string;
    held: { publish: number; upload: number };
    backlog: { size: number; dropped: number };
  };
  /** The venue heard last and its state at the gateway (app/venue-watch.ts), when the agent has a network. */
  venue?: { venue: string; state?: string; sinceMs?: number; checkedMs?: number; lastCode?: string; queries: number; failures: number };
  /** The proximity feed's bounds at work (app/proximity-feed.ts), when on: counts only. */
  feed?: { peers: number; samples: number; skippedGap: number; skippedRate: number; peersDropped: number };
  /** The local API: requests refused by code (health/guard.ts). */
  api?: { refusals: Record<string, number> };
  /** The carer side, when enabled: labels and counts only (agent/src/carer/service.ts CarerStatus). */
  carer?: {
    enabled: true;
    pairing: string;
    wearables: { label: string; pairedMs: number; records: number; days: number; lastSyncMs?: number; lastError?: string }[];
    syncs: number;
    failures: Record<string, number>;
  };
}
