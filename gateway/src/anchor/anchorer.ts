/**
 * Anchors the gateway ledger's newest signed tree heads on an EVM chain (AnchorRegistry),
 * off the ingest path: appends only update in-memory counters (`noteAppend`); a timer
 * (`intervalMs`) or N new tree heads (`everyTreeHeads`) start a round that sends ONE
 * transaction anchoring the newest STH of every chain that grew. RPC failures back off
 * (1 s doubling to 60 s) while the backlog shows in /status and the metrics.
 *
 * Crash safety (kill -9 anywhere), by construction:
 *  - nothing anchored twice: the contract refuses a tree size at or below the latest one of
 *    that gateway and chain, and a signed transaction is journalled before it is broadcast, so
 *    a restart re-broadcasts that same transaction (same nonce and hash: mined at most once);
 *  - nothing left unanchored: a restart resolves the journalled transaction, reads the chain's
 *    latest anchored size per chain (the chain, not the journal, is the truth) and anchors the
 *    local newest STH when it is larger. Every smaller STH of the same log is covered by it:
 *    `beepkit ledger verify --anchor` checks the RFC 9162 consistency of each anchored head.
 */
import { join } from 'node:path';
import { BeepkitError } from '@beepkit/protocol';
import type { SignedTreeHead } from '@beepkit/protocol/merkle';
import type { ChainName } from '@beepkit/protocol/ledger';
import type { Logger } from '../ledger/types.ts';
import { Counter, Gauge, type Registry } from '../app/metrics.ts';
import { AnchorJournal } from './journal.ts';
import type { AnchorHead, EvmClient } from './evm.ts';

type Hex = `0x${string}`;

export interface AnchorerOptions {
  /** Reads the newest STH of a chain (the ledger's, in memory). */
  sth: (chain: ChainName) => Promise<SignedTreeHead | undefined>;
  ledgerKey: Uint8Array;
  connect: () => Promise<EvmClient>;
  contract: Hex;
  dataDir: string;
  chains: ChainName[];
  intervalMs: number;
  /** Start a round as soon as this many new tree heads wait (0: the interval only). */
  everyTreeHeads: number;
  receiptTimeoutMs?: number;
  backoff?: { minMs: number; maxMs: number };
  logger: Logger;
  registry?: Registry;
}

interface Point {
  treeSize: number;
  blockHeight: number;
}

export class Anchorer {
  readonly #o: AnchorerOptions;
  readonly #journal: AnchorJournal;
  readonly anchored: Record<string, Point> = {};
  readonly local: Record<string, Point> = {};
  #evm?: EvmClient;
  #synced = false;
  #timer?: NodeJS.Timeout;
  #running?: Promise<void>;
  #again = false;
  #stopped = false;
  failures = 0;
  lastError?: { code: string; message: string };
  retryInMs = 0;
  lastGasUsed = 0;
  readonly #txs: Counter;
  readonly #heads: Counter;
  readonly #gas: Counter;
  readonly #errors: Counter;

  constructor(o: AnchorerOptions) {
    this.#o = o;
    this.#journal = new AnchorJournal(join(o.dataDir, 'anchor', 'journal'));
    for (const c of o.chains) {
      this.anchored[c] = { treeSize: 0, blockHeight: -1 };
      this.local[c] = { treeSize: 0, blockHeight: -1 };
    }
    const r = o.registry;
    const add = <T extends { render(): string[] }>(m: T): T => (r ? r.add(m) : m);
    this.#txs = add(new Counter('beepkit_anchor_transactions_total', 'Anchor transactions mined, by status (success, reverted)'));
    this.#heads = add(new Counter('beepkit_anchor_tree_heads_total', 'Signed tree heads anchored on the EVM chain'));
    this.#gas = add(new Counter('beepkit_anchor_gas_used_total', 'Gas used by anchor transactions'));
    this.#errors = add(new Counter('beepkit_anchor_errors_total', 'Failed anchor rounds, by error code (E_RPC: node unreachable; E_REVERT: refused)'));
    add(new Gauge('beepkit_anchor_last_gas_used', 'Gas used by the last anchor transaction', () => [{ value: this.lastGasUsed }]));
    add(
      new Gauge('beepkit_anchor_backlog_tree_heads', 'Tree heads (blocks) of the local ledger newer than the newest anchored one, per chain', () =>
        this.#o.chains.map((chain) => ({ labels: { chain }, value: this.backlog(chain).treeHeads })),
      ),
    );
    add(
      new Gauge('beepkit_anchor_backlog_entries', 'Ledger entries not yet covered by an anchored tree head, per chain', () =>
        this.#o.chains.map((chain) => ({ labels: { chain }, value: this.backlog(chain).entries })),
      ),
    );
    add(
      new Gauge('beepkit_anchor_tree_size', 'Newest anchored tree size per chain', () =>
        this.#o.chains.map((chain) => ({ labels: { chain }, value: this.anchored[chain].treeSize })),
      ),
    );
    add(new Gauge('beepkit_anchor_consecutive_failures', 'Anchor rounds failed in a row (backing off while > 0)', () => [{ value: this.failures }]));
  }

  backlog(chain: string): { treeHeads: number; entries: number } {
    const l = this.local[chain];
    const a = this.anchored[chain];
    return { treeHeads: Math.max(0, l.blockHeight - a.blockHeight), entries: Math.max(0, l.treeSize - a.treeSize) };
  }

  async start(): Promise<void> {
    this.#journal.open();
    for (const c of this.#o.chains) {
      const s = await this.#o.sth(c);
      if (s) this.local[c] = { treeSize: s.treeSize, blockHeight: s.blockHeight };
    }
    this.#schedule(0); // recover and anchor the backlog at once; never awaited by the gateway's start
  }

  /** Called after each durable append (cheap: counters only). */
  noteAppend(chain: string, sth: SignedTreeHead): void {
    const l = this.local[chain];
    if (!l || sth.treeSize <= l.treeSize) return;
    this.local[chain] = { treeSize: sth.treeSize, blockHeight: sth.blockHeight };
    const n = this.#o.everyTreeHeads;
    if (n > 0 && this.failures === 0 && this.backlog(chain).treeHeads >= n) this.#kick();
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#kick(), ms);
    this.#timer.unref();
  }

  #kick(): void {
    if (this.#stopped && !this.#running) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#running = this.#round().finally(() => {
      this.#running = undefined;
      if (this.#again && this.failures === 0) {
        this.#again = false;
        this.#kick();
      }
    });
  }

  async #round(): Promise<void> {
    try {
      const heads = await this.#anchorOnce();
      this.failures = 0;
      this.retryInMs = 0;
      this.lastError = undefined;
      if (heads.length) this.#o.logger.info({ heads: heads.map((h) => `${h.chain}:${h.treeSize}`), gasUsed: this.lastGasUsed }, 'tree heads anchored');
      this.#schedule(this.#o.intervalMs);
    } catch (e) {
      const code = (e as BeepkitError).code ?? 'E_INTERNAL';
      this.#errors.inc({ code });
      this.failures++;
      this.#synced = false; // re-read the chain before the next attempt
      if (code === 'E_RPC') this.#evm = undefined;
      const b = this.#o.backoff ?? { minMs: 1000, maxMs: 60_000 };
      this.retryInMs = Math.min(b.maxMs, b.minMs * 2 ** Math.min(this.failures - 1, 16));
      this.lastError = { code, message: (e as Error).message };
      this.#o.logger.warn({ code, failures: this.failures, retryInMs: this.retryInMs, backlog: this.status().backlog }, 'anchoring failed; retrying later');
      this.#schedule(this.retryInMs);
    }
  }

  /** Resolves a journalled transaction, then reads the anchored sizes from the chain. */
  async #sync(evm: EvmClient): Promise<void> {
    const p = this.#journal.pending;
    if (p) {
      await evm.broadcast(p).catch((e: unknown) => {
        if ((e as BeepkitError).code !== 'E_NONCE') throw e;
      });
      const r = await evm.receipt(p.hash, this.#o.receiptTimeoutMs ?? 60_000);
      if (r) this.#mined(p.heads.length, r);
      else this.#journal.append({ t: 'dropped', hash: p.hash });
      if (r) this.#journal.append({ t: 'done', hash: p.hash, status: r.status, gasUsed: String(r.gasUsed), block: String(r.blockNumber) });
    }
    for (const c of this.#o.chains) {
      const l = await evm.latestAnchor(this.#o.contract, this.#o.ledgerKey, c);
      this.anchored[c] = { treeSize: l.treeSize, blockHeight: l.treeSize === 0 ? -1 : l.blockHeight };
    }
    this.#synced = true;
  }

  #mined(heads: number, r: { status: string; gasUsed: bigint }): void {
    this.#txs.inc({ status: r.status });
    this.#gas.inc({}, Number(r.gasUsed));
    this.lastGasUsed = Number(r.gasUsed);
    if (r.status === 'success') this.#heads.inc({}, heads);
  }

  async #anchorOnce(): Promise<AnchorHead[]> {
    this.#evm ??= await this.#o.connect();
    const evm = this.#evm;
    if (!this.#synced) await this.#sync(evm);
    const heads: AnchorHead[] = [];
    for (const chain of this.#o.chains) {
      const s = await this.#o.sth(chain);
      if (!s) continue;
      this.local[chain] = { treeSize: s.treeSize, blockHeight: s.blockHeight };
      if (s.treeSize > this.anchored[chain].treeSize)
        heads.push({ chain, treeSize: s.treeSize, rootHash: s.rootHash, timestampMs: s.timestampMs, blockHeight: s.blockHeight, signature: s.signature });
    }
    if (heads.length === 0) return heads;
    const tx = await evm.signAnchor(this.#o.contract, heads);
    this.#journal.append({ t: 'sent', ...tx, heads: heads.map((h) => ({ chain: h.chain, treeSize: h.treeSize, blockHeight: h.blockHeight })) });
    this.#o.logger.info({ tx: tx.hash, heads: heads.map((h) => `${h.chain}:${h.treeSize}`) }, 'anchor transaction sent');
    await evm.broadcast(tx);
    const r = await evm.receipt(tx.hash, this.#o.receiptTimeoutMs ?? 60_000);
    if (!r) throw new BeepkitError('E_RPC', `anchor transaction ${tx.hash} not mined in time (it stays journalled and is re-sent)`);
    this.#journal.append({ t: 'done', hash: tx.hash, status: r.status, gasUsed: String(r.gasUsed), block: String(r.blockNumber) });
    this.#mined(heads.length, r);
    if (r.status !== 'success') throw new BeepkitError('E_REVERT', `anchor transaction ${tx.hash} reverted`);
    for (const h of heads) this.anchored[h.chain] = { treeSize: h.treeSize, blockHeight: h.blockHeight };
    return heads;
  }

  /** Anchors what waits now (after the round in flight), waiting up to `timeoutMs`; true when nothing is left. */
  async flush(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const work = (async () => {
      await this.#running;
      this.#kick();
      await this.#running;
    })();
    await Promise.race([work, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    return this.failures === 0 && this.#o.chains.every((c) => this.backlog(c).entries === 0);
  }

  /** Waits for the round in flight, then (with `flushMs`) anchors what is left if the chain answers in time. */
  async stop(flushMs = 0): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
    if (flushMs > 0 && this.failures === 0 && this.#o.chains.some((c) => this.backlog(c).entries > 0)) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#round(), new Promise<void>((r) => (timer = setTimeout(r, flushMs)))]);
      clearTimeout(timer);
    }
    clearTimeout(this.#timer);
    this.#journal.close();
  }

  status(): Record<string, unknown> {
    return {
      contract: this.#o.contract,
      account: this.#evm?.address,
      anchored: this.anchored,
      local: this.local,
      backlog: Object.fromEntries(this.#o.chains.map((c) => [c, this.backlog(c)])),
      pending: this.#journal.pending?.hash ?? null,
      transactions: this.#journal.completed,
      lastGasUsed: this.lastGasUsed,
      failures: this.failures,
      retryInMs: this.retryInMs,
      lastError: this.lastError ?? null,
    };
  }
}
