/**
 * The solver (BeepTrace steps 10–11): streams the tracing chain, verifies
 * every batch, decrypts its geodata (one ECDH per pseudonym-day through
 * EcdhCache), indexes it in memory (GeoIndex, retention window only), and on
 * every verified endorsement publishes, per exposed pseudonym-day, only its
 * fingerprint with a risk level and the day, through a NotificationSink.
 *
 * Restart safety: the index is rebuilt from the chain on start; endorsements
 * are processed only from the persisted cursor on, and the per-(fingerprint,
 * day) highest published risk is persisted after each block that published,
 * so nothing is missed or published twice (a crash between publish and save
 * re-publishes byte-identical entries, which the ledger treats as present).
 */
import { isBeepkitError } from '@beepkit/protocol';
import { toHex } from '@beepkit/protocol/bytes';
import { EcdhCache, TRACECODE_LEN, TraceCodeOpener, fingerprint, verifyBatch, type Batch } from '@beepkit/protocol/tracecode';
import { GEODATA_FIELD as F, GEODATA_VENUE_OFFSET } from '@beepkit/protocol/geodata';
import { encodeNotificationEntry, isEndorsement, verifyEndorsement } from '@beepkit/protocol/endorse';
import type { Logger } from '../ledger/types.ts';
import { GeoIndex, type IndexOptions } from './geoindex.ts';
import { exposures, matchRules, type MatchRules } from './match.ts';
import { ClaimBook, claim } from './claims.ts';
import { BatchScanner } from './scan.ts';
import type { DecryptPool, OpenedBatch } from './pool.ts';
import { loadState, saveState, type SolverState } from './state.ts';
import type { NotificationSink, SourceBlock, TracingSource } from './source.ts';
import { hostNow } from '@beepkit/protocol/clock';
import { leafHash } from '@beepkit/protocol/merkle';
import { SeenEntries } from './shards.ts';

const silent: Logger = { info() {}, warn() {}, error() {}, debug() {} };

export interface SolverOptions {
  source: TracingSource;
  /**
   * The other gateways' log shards (README "Several gateways"): their batches are indexed
   * (each catch-up drains them before the main `source`), and with shards every entry counts
   * once across all sources by its entry hash (`duplicateBatches`). Endorsements are taken
   * from `source` only (the main shard takes the diagnosis uploads); one on another shard is
   * counted (`endorsementsOffMain`) and skipped.
   */
  shards?: TracingSource[];
  sink: NotificationSink;
  /** The solver's X25519 private key. */
  solverKey: Uint8Array;
  /** CA public key: batch certificates and diagnostician certificates are verified against it. */
  caPub: Uint8Array;
  /** Cursor + dedup file (none: in memory only). */
  stateFile?: string;
  rules?: Partial<MatchRules>;
  retentionDays?: number;
  index?: IndexOptions;
  /** Clock, ms (retention). */
  now: () => number;
  /** Blocks fetched per call (default 64). */
  pageBlocks?: number;
  /** Follow mode poll interval (default 1000 ms). */
  pollMs?: number;
  /**
   * Re-verify each batch's pseudonym signature and certificate (default true).
   * false is for a trusted ledger source only: the gateway verified every
   * batch (signature, certificate at upload time, prefixes) before appending
   * it, and ledger blocks are gateway-signed and hash-chained, so a forged
   * batch there means a compromised gateway/ledger. Structure, single
   * pseudonym and AEAD are still checked (the AAD binds every record to its
   * prefix, the batch's ephemeral key and its interval); endorsements are
   * always verified.
   */
  verifyBatches?: boolean;
  logger?: Logger;
}

export interface SolverStats {
  blocks: number;
  records: number;
  rejectedBatches: number;
  undecryptable: number;
  endorsements: number;
  rejectedEndorsements: number;
  published: number;
  /** Records claiming an interval their pseudonym-day already claimed in an earlier entry: counted, not indexed. */
  conflictingClaims: number;
  /** Entries already read from another shard (the same batch bytes durable on two shards): skipped. */
  duplicateBatches: number;
  /** Endorsements found on a shard other than the main one: skipped. */
  endorsementsOffMain: number;
}

export interface Notice {
  fingerprint: Uint8Array;
  risk: 1 | 2;
  day: number;
}

export class Solver {
  index: GeoIndex;
  readonly stats: SolverStats = {
    blocks: 0,
    records: 0,
    rejectedBatches: 0,
    undecryptable: 0,
    endorsements: 0,
    rejectedEndorsements: 0,
    published: 0,
    conflictingClaims: 0,
    duplicateBatches: 0,
    endorsementsOffMain: 0,
  };
  private readonly o: SolverOptions;
  private readonly rules: MatchRules;
  private readonly cache: EcdhCache;
  private readonly opener: TraceCodeOpener;
  private readonly scanner = new BatchScanner();
  private readonly claims = new ClaimBook();
  private readonly fields = new Float64Array(8);
  private readonly log: Logger;
  private readonly now: () => number;
  private state: SolverState = { next: 0, published: {} };
  /** Next tracing height to index (the index is memory-only: starts at 0). */
  height = 0;
  /** Next height to index on each of `shards`. */
  readonly shardHeights: number[];
  private readonly seen: SeenEntries | undefined;
  private lastCompact = 0;
  private running = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(o: SolverOptions) {
    this.o = o;
    this.rules = matchRules(o.rules);
    this.cache = new EcdhCache(o.solverKey);
    this.opener = new TraceCodeOpener(this.cache);
    this.log = o.logger ?? silent;
    this.now = o.now ?? hostNow;
    this.index = new GeoIndex(o.index);
    this.shardHeights = (o.shards ?? []).map(() => 0);
    this.seen = o.shards?.length ? new SeenEntries() : undefined;
  }

  get solverPub(): Uint8Array {
    return this.cache.solverPub;
  }

  /** Loads the persisted cursor; call before catchUp/start. */
  open(): void {
    this.state = loadState(this.o.stateFile);
  }

  /** Height from which endorsements are (still) to be processed. */
  get cursor(): number {
    return this.state.next;
  }

  /** Processes blocks until the source has none left (or `maxBlocks`). Returns blocks processed. */
  async catchUp(maxBlocks = Infinity): Promise<number> {
    let done = 0;
    const shards = this.o.shards ?? [];
    for (let s = 0; s < shards.length; s++) {
      while (done < maxBlocks) {
        const page = await shards[s].blocks(this.shardHeights[s], Math.min(this.o.pageBlocks ?? 64, maxBlocks - done));
        if (page.length === 0) break;
        for (const b of page) {
          this.indexShardBlock(b);
          this.shardHeights[s] = b.height + 1;
          if (++done >= maxBlocks) break;
        }
      }
    }
    while (done < maxBlocks) {
      const page = await this.o.source.blocks(this.height, Math.min(this.o.pageBlocks ?? 64, maxBlocks - done));
      if (page.length === 0) break;
      for (const b of page) {
        await this.processBlock(b);
        done++;
        if (done >= maxBlocks) break;
      }
    }
    this.maybeCompact();
    return done;
  }

  /** Follow mode: catch up, then poll every `pollMs` until stop(). */
  start(): void {
    if (this.running) return;
    this.open();
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          await this.catchUp();
        } catch (e) {
          this.log.error({ err: isBeepkitError(e) ? e.toJSON() : String(e) }, 'solver: catch-up failed');
        }
        if (!this.running) break;
        await new Promise<void>((res) => {
          const t = setTimeout(res, this.o.pollMs ?? 1000);
          this.wake = () => (clearTimeout(t), res());
        });
      }
    })();
  }

  /** Wakes the follow loop (e.g. on a new tracing block). */
  poke(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /**
   * Verifies (unless `verifyBatches` is false), decrypts and indexes one
   * signed batch; returns records indexed. Throws BeepkitError for a batch
   * that fails verification or is malformed.
   */
  ingestBatch(data: Uint8Array, timeMs: number): number {
    if (this.o.verifyBatches !== false) verifyBatch(data, { caPub: this.o.caPub, now: Math.floor(timeMs / 1000) });
    return this.indexBatchBytes(data);
  }

  /** Decrypts and indexes the records of batch bytes (structure checked, signature NOT verified). */
  indexBatchBytes(data: Uint8Array): number {
    const l = this.scanner.scan(data);
    this.opener.setEphemeral(data, l.ephOff);
    const prefix = data.subarray(l.recOff + 1, l.recOff + 33);
    const pid = this.index.internPseudonym(prefix, l.day);
    const claimed = this.claims.of(prefix, l.day);
    const cutoff = this.cutoff();
    let n = 0;
    for (let i = 0, off = l.recOff; i < l.count; i++, off += TRACECODE_LEN) n += this.indexRecord(data, off, pid, cutoff, claimed);
    this.stats.records += n;
    return n;
  }

  /** Decrypts and indexes the records of an already verified batch. */
  indexBatch(batch: Batch): number {
    this.opener.setEphemeral(batch.ephemeralPub);
    const pid = this.index.internPseudonym(batch.traceCodes[0].prefix, batch.day);
    const claimed = this.claims.of(batch.traceCodes[0].prefix, batch.day);
    const cutoff = this.cutoff();
    let n = 0;
    for (const rec of batch.records) n += this.indexRecord(rec, 0, pid, cutoff, claimed);
    this.stats.records += n;
    return n;
  }

  /**
   * Verifies (unless `verifyBatches` is false) and opens batches on a
   * DecryptPool's workers and indexes them here in order (the index is the
   * sequential one); returns records indexed. At most `window` batches in flight.
   */
  async ingestParallel(pool: DecryptPool, batches: Uint8Array[], timeMs: number, window = 64): Promise<number> {
    const verifyNow = this.o.verifyBatches !== false ? Math.floor(timeMs / 1000) : undefined;
    const inflight: Promise<OpenedBatch>[] = [];
    let n = 0;
    let next = 0;
    const settle = async (): Promise<void> => {
      try {
        n += this.indexOpened(await inflight.shift()!);
      } catch (e) {
        if (!isBeepkitError(e)) throw e;
        this.stats.rejectedBatches++;
      }
    };
    while (next < batches.length) {
      inflight.push(pool.open(batches[next++], verifyNow));
      inflight[inflight.length - 1].catch(() => undefined);
      if (inflight.length >= window) await settle();
    }
    while (inflight.length) await settle();
    return n;
  }

  /** Indexes a batch opened by a DecryptPool worker. */
  indexOpened(r: OpenedBatch): number {
    const pid = this.index.internPseudonym(r.prefix, r.day);
    const claimed = this.claims.of(r.prefix, r.day);
    const cutoff = this.cutoff();
    const f = r.fields;
    let n = 0;
    for (let i = 0, j = 0; i < r.count; i++, j += 8) {
      if (!r.ok[i]) {
        this.stats.undecryptable++;
        continue;
      }
      if (f[j + F.end] < cutoff) continue;
      if (!claim(claimed, r.intervals[i])) {
        this.stats.conflictingClaims++;
        continue;
      }
      const venue = f[j + F.flags] & 1 ? this.index.internVenueAt(r.venues, i * 8) : -1;
      this.index.addRecord(pid, f[j + F.start], f[j + F.end], f[j + F.latE7], f[j + F.lonE7], f[j + F.level], venue);
      n++;
    }
    this.stats.records += n;
    return n;
  }

  /** Opens one record (the opener is bound to its batch) and indexes it: 1, or 0 when undecryptable, expired or a conflicting claim. */
  private indexRecord(b: Uint8Array, off: number, pid: number, cutoff: number, claimed: number[]): number {
    const f = this.fields;
    try {
      if (!this.opener.openInto(b, off, f)) {
        this.stats.undecryptable++;
        return 0;
      }
    } catch (e) {
      if (!isBeepkitError(e)) throw e;
      this.stats.undecryptable++;
      return 0;
    }
    if (f[F.end] < cutoff) return 0;
    if (!claim(claimed, (b[off + 33] << 8) | b[off + 34])) {
      this.stats.conflictingClaims++;
      return 0;
    }
    const venue = f[F.flags] & 1 ? this.index.internVenueAt(this.opener.plain, GEODATA_VENUE_OFFSET) : -1;
    this.index.addRecord(pid, f[F.start], f[F.end], f[F.latE7], f[F.lonE7], f[F.level], venue);
    return 1;
  }

  /** Retention cutoff, Unix seconds. */
  private cutoff(): number {
    return Math.floor(this.now() / 1000) - (this.o.retentionDays ?? 14) * 86400;
  }

  /** true when entry `i` of `b` was already read from another shard (counted once: the first copy read). */
  private duplicate(b: SourceBlock, i: number): boolean {
    if (!this.seen || this.seen.first(b.hashes?.[i] ?? leafHash(b.entries[i]))) return false;
    this.stats.duplicateBatches++;
    return true;
  }

  /** A block of another shard: its batches are indexed, its endorsements skipped. */
  private indexShardBlock(b: SourceBlock): void {
    for (let i = 0; i < b.entries.length; i++) {
      const data = b.entries[i];
      if (this.duplicate(b, i)) continue;
      if (isEndorsement(data)) {
        this.stats.endorsementsOffMain++;
        this.log.warn({ height: b.height }, 'solver: endorsement on a shard other than the main one skipped');
        continue;
      }
      this.tryIngest(data, b);
    }
    this.stats.blocks++;
  }

  /** Ingests one batch entry; a bad one is counted and logged, never thrown. */
  private tryIngest(data: Uint8Array, b: SourceBlock): void {
    try {
      this.ingestBatch(data, b.timeMs);
    } catch (e) {
      if (!isBeepkitError(e)) throw e;
      this.stats.rejectedBatches++;
      this.log.warn({ height: b.height, code: e.code }, 'solver: batch rejected');
    }
  }

  private async processBlock(b: SourceBlock): Promise<void> {
    const endorsements: Uint8Array[] = [];
    for (let i = 0; i < b.entries.length; i++) {
      const data = b.entries[i];
      if (this.duplicate(b, i)) continue;
      if (isEndorsement(data)) {
        if (b.height >= this.state.next) endorsements.push(data);
        continue;
      }
      this.tryIngest(data, b);
    }
    if (endorsements.length) {
      const notices: Notice[] = [];
      for (const data of endorsements) notices.push(...this.solve(data));
      await this.publish(notices);
      this.state.next = b.height + 1;
      saveState(this.o.stateFile, this.state);
    } else if (b.height >= this.state.next) this.state.next = b.height + 1;
    this.height = b.height + 1;
    this.stats.blocks++;
  }

  /** Verifies an endorsement and computes its notices (deduplicated against what was published). */
  solve(data: Uint8Array): Notice[] {
    let verified;
    try {
      verified = verifyEndorsement(data, { caPub: this.o.caPub, windowDays: this.o.retentionDays });
    } catch (e) {
      if (!isBeepkitError(e)) throw e;
      this.stats.rejectedEndorsements++;
      this.log.warn({ code: e.code }, 'solver: endorsement rejected');
      return [];
    }
    this.stats.endorsements++;
    const { endorsement } = verified;
    const pids: number[] = [];
    for (const d of endorsement.days) {
      const p = this.index.pseudonymId(d.pseudonym);
      if (p !== undefined && this.index.pidDay[p] === d.day) pids.push(p);
    }
    const out: Notice[] = [];
    for (const [pid, risk] of exposures(this.index, pids, this.rules, endorsement.level)) {
      out.push({ fingerprint: fingerprint(this.index.pidPrefix[pid]), risk, day: this.index.pidDay[pid] });
    }
    return out;
  }

  private async publish(notices: Notice[]): Promise<void> {
    const best = new Map<string, Notice>();
    for (const n of notices) {
      const k = `${toHex(n.fingerprint)}:${n.day}`;
      if ((this.state.published[k] ?? 0) >= n.risk) continue;
      const b = best.get(k);
      if (!b || b.risk < n.risk) best.set(k, n);
    }
    if (best.size === 0) return;
    const entries = [...best.values()].map((n) => encodeNotificationEntry({ type: 'exposure', ...n }));
    await this.o.sink.publish(entries);
    for (const [k, n] of best) this.state.published[k] = n.risk;
    this.stats.published += entries.length;
  }

  private maybeCompact(): void {
    const now = this.now();
    if (now - this.lastCompact < 3_600_000) return;
    this.lastCompact = now;
    const cutoff = Math.floor(now / 1000) - (this.o.retentionDays ?? 14) * 86400;
    let stale = 0;
    for (let i = 0; i < this.index.n; i++) if (this.index.end[i] < cutoff) stale++;
    this.claims.dropBefore(Math.floor(cutoff / 86400) - 1);
    if (stale > 0) {
      this.index = this.index.compact(cutoff);
      for (const k of Object.keys(this.state.published)) if (Number(k.split(':')[1]) * 86400 < cutoff - 86400) delete this.state.published[k];
    }
  }
}
