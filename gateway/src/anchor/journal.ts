/**
 * The durable anchor journal (`<dataDir>/anchor/journal`): JSON lines, each written with one
 * write + fdatasync before the step it records goes on.
 *
 *   {"t":"sent","hash","raw","nonce","heads":[{chain,treeSize,blockHeight}]}  before broadcast
 *   {"t":"done","hash","status","gasUsed","block"}                            receipt seen
 *   {"t":"dropped","hash"}                                                    never mined (nonce reused)
 *
 * A torn last line (kill -9 inside a write) is cut at open. The journal holds at most one
 * unresolved "sent": the anchorer re-broadcasts that very signed transaction after a restart
 * (same hash, same nonce: mined at most once) before it signs anything new.
 */
import { closeSync, fdatasyncSync, openSync, readFileSync, renameSync, existsSync, writeSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SignedTx } from './evm.ts';

export interface JournalHead {
  chain: string;
  treeSize: number;
  blockHeight: number;
}
export type JournalRecord =
  | ({ t: 'sent'; heads: JournalHead[] } & SignedTx)
  | { t: 'done'; hash: string; status: string; gasUsed: string; block: string }
  | { t: 'dropped'; hash: string };

const COMPACT_BYTES = 256 * 1024;

export class AnchorJournal {
  #fd = -1;
  #size = 0;
  /** The last "sent" without "done"/"dropped", if any. */
  pending?: Extract<JournalRecord, { t: 'sent' }>;
  /** Transactions completed in this journal (all time, survives compaction). */
  completed = 0;

  constructor(readonly path: string) {}

  open(): this {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    let text = existsSync(this.path) ? readFileSync(this.path, 'utf8') : '';
    const whole = text.split('\n').slice(0, -1); // the last piece is '' (after the final newline) or a torn line
    for (const l of whole) {
      let r: JournalRecord | { t: 'count'; n: number };
      try {
        r = JSON.parse(l) as JournalRecord | { t: 'count'; n: number };
      } catch {
        break; // a torn line can only be the last one
      }
      if (r.t === 'count') this.completed = r.n;
      else if (r.t === 'sent') this.pending = r;
      else if (this.pending && r.hash === this.pending.hash) {
        this.pending = undefined;
        if (r.t === 'done') this.completed++;
      }
    }
    text = [JSON.stringify({ t: 'count', n: this.completed }), ...(this.pending ? [JSON.stringify(this.pending)] : [])].join('\n') + '\n';
    // rewritten compactly at every open (atomic rename), so the file never grows past one run's records
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    writeSync(fd, text);
    fdatasyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
    this.#fd = openSync(this.path, 'a', 0o600);
    this.#size = Buffer.byteLength(text);
    return this;
  }

  append(r: JournalRecord): void {
    const line = JSON.stringify(r) + '\n';
    writeSync(this.#fd, line);
    fdatasyncSync(this.#fd);
    this.#size += Buffer.byteLength(line);
    if (r.t === 'sent') this.pending = r;
    else if (this.pending?.hash === r.hash) {
      this.pending = undefined;
      if (r.t === 'done') this.completed++;
    }
    if (this.#size > COMPACT_BYTES && !this.pending) {
      closeSync(this.#fd);
      this.open();
    }
  }

  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }
}
