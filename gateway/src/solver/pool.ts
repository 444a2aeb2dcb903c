/**
 * DecryptPool: worker threads that verify (optionally), scan and open whole
 * batches in parallel (ECDH + AEAD + geodata decode are per batch and
 * independent), so the main thread only interns and indexes
 * (Solver.indexOpened). Results come back in submission order through
 * Solver.ingestParallel, so the index is identical to the sequential one.
 */
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BeepkitError } from '@beepkit/protocol';

export interface PoolRequest {
  id: number;
  bytes: Uint8Array;
  /** Unix seconds: verify signature + certificate at this time; absent: do not verify. */
  verifyNow?: number;
}

/** A batch opened by a worker: per record 8 GEODATA_FIELD slots, the venue id, and whether it opened. */
export interface OpenedBatch {
  id: number;
  day: number;
  prefix: Uint8Array;
  count: number;
  fields: Float64Array;
  venues: Uint8Array;
  ok: Uint8Array;
  /** Each record's interval (claims: solver/claims.ts). */
  intervals: Uint16Array;
}

export type PoolReply = OpenedBatch | { id: number; error: { code: string; message: string } };

export interface DecryptPoolOptions {
  solverKey: Uint8Array;
  /** Needed when batches are verified in the pool. */
  caPub?: Uint8Array;
  /** Worker count (default 2). */
  workers?: number;
}

const WORKER_URL = new URL('./pool-worker.ts', import.meta.url).href;

/**
 * The worker's boot code. In the bundle (scripts/build.mjs: this module is a .js chunk in dist/, where
 * pool-worker.js is an entry of its own) it imports the compiled worker; from the sources it registers
 * tsx, then imports the TypeScript (no build step). import.meta.filename is the chunk's own path (the
 * build rewrites import.meta.url only).
 */
export function workerBoot(here: string = import.meta.filename): string {
  if (here.endsWith('.js')) return `import(${JSON.stringify(pathToFileURL(join(dirname(here), 'pool-worker.js')).href)})`;
  return `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL)}); })`;
}

interface Slot {
  w: Worker;
  /** Set when the worker failed or exited: the reason later opens are refused with. */
  dead?: string;
  pending: Map<number, { res: (r: OpenedBatch) => void; rej: (e: Error) => void }>;
}

export class DecryptPool {
  private readonly o: DecryptPoolOptions;
  private slots: Slot[] = [];
  private nextId = 0;

  constructor(o: DecryptPoolOptions) {
    this.o = o;
  }

  start(): void {
    if (this.slots.length) return;
    for (let i = 0; i < (this.o.workers ?? 2); i++) {
      const boot = workerBoot();
      const w = new Worker(boot, { eval: true, workerData: { solverKey: this.o.solverKey, caPub: this.o.caPub } });
      const slot: Slot = { w, pending: new Map() };
      w.on('message', (r: PoolReply) => {
        const p = slot.pending.get(r.id);
        slot.pending.delete(r.id);
        if (!p) return;
        if ('error' in r) p.rej(new BeepkitError(r.error.code as never, r.error.message));
        else p.res(r);
      });
      const fail = (why: string) => {
        slot.dead ??= why;
        for (const p of slot.pending.values()) p.rej(new BeepkitError('E_IO', `decrypt pool worker failed: ${slot.dead}`));
        slot.pending.clear();
      };
      w.on('error', (e) => fail(String(e)));
      w.on('exit', (code) => fail(`exited (${code})`));
      this.slots.push(slot);
    }
  }

  async stop(): Promise<void> {
    const s = this.slots;
    this.slots = [];
    await Promise.all(s.map((x) => x.w.terminate()));
  }

  /** Opens one batch on the least busy worker; rejects with the batch's BeepkitError. */
  open(bytes: Uint8Array, verifyNow?: number): Promise<OpenedBatch> {
    if (!this.slots.length) throw new BeepkitError('E_CONFIG', 'DecryptPool: start() first');
    let slot = this.slots[0];
    for (const s of this.slots) if (s.pending.size < slot.pending.size) slot = s;
    if (slot.dead) return Promise.reject(new BeepkitError('E_IO', `decrypt pool worker failed: ${slot.dead}`));
    const id = this.nextId++;
    return new Promise((res, rej) => {
      slot.pending.set(id, { res, rej });
      slot.w.postMessage({ id, bytes, verifyNow } satisfies PoolRequest);
    });
  }
}
