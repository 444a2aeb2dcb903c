/**
 * Ed25519 verification off the main thread: a small pool of worker threads
 * (node:crypto in each), so the main thread's MQTT and ledger work runs in
 * parallel with the signature checks.
 *
 * - Jobs queued in one event-loop turn go to a worker as ONE transferred
 *   ArrayBuffer (u32 message length | 32 public key | 64 signature | message,
 *   per job); the worker answers one byte per job. The cost on the main thread
 *   is a copy of the signed bytes, not a structured clone per job.
 * - Workers start on first use and are terminated after `idleMs` without work
 *   (and by `stop()`), so an owner that never calls stop() leaks no thread; a
 *   worker holds the process open only while it has jobs.
 * - A worker that fails or exits with jobs outstanding: those jobs are
 *   verified inline (same result, never a false reject), the worker replaced
 *   on the next use.
 * - The worker is plain JavaScript (eval, no TypeScript loader: starts in
 *   ~30 ms, no tsx per thread); its key import is protocol/crypto
 *   `ed25519KeyObject`'s (JWK), with its own bounded cache.
 */
import { Worker } from 'node:worker_threads';
import { ed25519Verify } from '@beepkit/protocol/crypto';

export interface VerifyPoolOptions {
  /** Worker threads (≥ 1). */
  workers: number;
  /** Terminate idle workers after this many ms (default 5000). */
  idleMs?: number;
  /** Most jobs in one message to a worker (default 256). */
  maxJobs?: number;
}

interface Job {
  pub: Uint8Array;
  domain: Uint8Array;
  body: Uint8Array;
  sig: Uint8Array;
  resolve: (ok: boolean) => void;
}

interface Slot {
  w: Worker;
  /** Jobs sent, by message id. */
  pending: Map<number, Job[]>;
  jobs: number;
  dead: boolean;
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const keys = new Map();
function key(pub) {
  const id = pub.toString('latin1');
  let k = keys.get(id);
  if (k) return k;
  k = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pub.toString('base64url') }, format: 'jwk' });
  if (keys.size >= 4096) keys.delete(keys.keys().next().value);
  keys.set(id, k);
  return k;
}
parentPort.on('message', ({ id, n, buf }) => {
  const b = Buffer.from(buf);
  const out = new Uint8Array(n);
  for (let i = 0, o = 0; i < n; i++) {
    const len = b.readUInt32BE(o);
    const pub = b.subarray(o + 4, o + 36);
    const sig = b.subarray(o + 36, o + 100);
    const msg = b.subarray(o + 100, o + 100 + len);
    o += 100 + len;
    try {
      out[i] = verify(null, msg, key(pub), sig) ? 1 : 0;
    } catch {
      out[i] = 0;
    }
  }
  parentPort.postMessage({ id, out }, [out.buffer]);
});
`;

/** Inline verify of one job: the same answer the worker gives. */
function inline(j: Job): boolean {
  const msg = new Uint8Array(j.domain.length + j.body.length);
  msg.set(j.domain);
  msg.set(j.body, j.domain.length);
  return ed25519Verify(j.pub, msg, j.sig);
}

export class VerifyPool {
  readonly #o: Required<VerifyPoolOptions>;
  #slots: Slot[] = [];
  #queue: Job[] = [];
  #scheduled = false;
  #nextId = 0;
  #idle: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Jobs answered inline because their worker failed (for tests and metrics). */
  fallbacks = 0;

  constructor(o: VerifyPoolOptions) {
    this.#o = { idleMs: 5000, maxJobs: 256, ...o, workers: Math.max(1, Math.floor(o.workers)) };
  }

  /** Workers currently running. */
  get size(): number {
    return this.#slots.length;
  }

  /** Ed25519 verify of `domain || body` under the 32-byte `pub`; never rejects (a malformed key or signature is false). */
  verify(pub: Uint8Array, domain: Uint8Array, body: Uint8Array, sig: Uint8Array): Promise<boolean> {
    if (pub.length !== 32 || sig.length !== 64) return Promise.resolve(false);
    return new Promise((resolve) => {
      const job = { pub, domain, body, sig, resolve };
      if (this.#stopped) return resolve(inline(job));
      this.#queue.push(job);
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Terminates the workers; later calls verify inline. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#idle);
    this.#flush();
    await this.#terminate(true);
  }

  #flush(): void {
    this.#scheduled = false;
    clearTimeout(this.#idle);
    while (this.#queue.length) {
      const jobs = this.#queue.splice(0, this.#o.maxJobs);
      if (this.#stopped) {
        for (const j of jobs) j.resolve(inline(j));
        continue;
      }
      this.#send(this.#slot(), jobs);
    }
  }

  /** The live worker with the fewest jobs outstanding, starting one while fewer than `workers` run. */
  #slot(): Slot {
    this.#slots = this.#slots.filter((s) => !s.dead);
    let best = this.#slots[0];
    for (const s of this.#slots) if (s.jobs < best.jobs) best = s;
    if (best && (best.jobs === 0 || this.#slots.length >= this.#o.workers)) return best;
    const w = new Worker(WORKER_SOURCE, { eval: true });
    const slot: Slot = { w, pending: new Map(), jobs: 0, dead: false };
    w.on('message', ({ id, out }: { id: number; out: Uint8Array }) => {
      const jobs = slot.pending.get(id);
      if (!jobs) return;
      slot.pending.delete(id);
      slot.jobs -= jobs.length;
      for (let i = 0; i < jobs.length; i++) jobs[i].resolve(out[i] === 1);
      this.#settled(slot);
    });
    const fail = (): void => {
      if (slot.dead) return;
      slot.dead = true;
      for (const jobs of slot.pending.values()) {
        this.fallbacks += jobs.length;
        for (const j of jobs) j.resolve(inline(j));
      }
      slot.pending.clear();
      slot.jobs = 0;
    };
    w.on('error', fail);
    w.on('exit', fail);
    this.#slots.push(slot);
    return slot;
  }

  #send(slot: Slot, jobs: Job[]): void {
    let n = 0;
    for (const j of jobs) n += 100 + j.domain.length + j.body.length;
    const buf = new ArrayBuffer(n);
    const b = new Uint8Array(buf);
    const dv = new DataView(buf);
    let o = 0;
    for (const j of jobs) {
      dv.setUint32(o, j.domain.length + j.body.length);
      b.set(j.pub, o + 4);
      b.set(j.sig, o + 36);
      b.set(j.domain, o + 100);
      b.set(j.body, o + 100 + j.domain.length);
      o += 100 + j.domain.length + j.body.length;
    }
    const id = this.#nextId++;
    slot.pending.set(id, jobs);
    if (slot.jobs === 0) slot.w.ref();
    slot.jobs += jobs.length;
    slot.w.postMessage({ id, n: jobs.length, buf }, [buf]);
  }

  #settled(slot: Slot): void {
    if (slot.jobs > 0) return;
    slot.w.unref();
    if (this.#slots.every((s) => s.jobs === 0) && !this.#queue.length) {
      clearTimeout(this.#idle);
      this.#idle = setTimeout(() => void this.#terminate(), this.#o.idleMs);
      this.#idle.unref();
    }
  }

  /** Terminates the idle workers (all with `all`: their outstanding jobs are then verified inline by the exit handler). */
  async #terminate(all = false): Promise<void> {
    const slots = this.#slots.filter((s) => all || s.jobs === 0);
    this.#slots = this.#slots.filter((s) => !slots.includes(s));
    await Promise.all(slots.map((s) => s.w.terminate()));
  }
}
