/**
 * Durable per-day certificate store: one file per UTC day,
 * `<dir>/<day>.cert` = u8 version (1) | lbytes certificate | 32 solverPublicKey | vbytes solverKeyId,
 * written atomically (temp + fsync + rename + directory fsync, mode 0600).
 * Files that do not decode are skipped at load (counted), never fatal.
 */
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { BeepkitError, Reader, Writer } from '@beepkit/protocol';
import { writeFileAtomic } from '@beepkit/device-core/infra/files';

const VERSION = 1;

export interface StoredCertificate {
  day: number;
  certificate: Uint8Array;
  solverPublicKey: Uint8Array;
  solverKeyId: Uint8Array;
}

export function encodeStored(s: StoredCertificate): Uint8Array {
  return new Writer(256).u8(VERSION).lbytes(s.certificate).bytes(s.solverPublicKey, 32).vbytes(s.solverKeyId).finish();
}

export function decodeStored(day: number, b: Uint8Array): StoredCertificate {
  const r = new Reader(b, 'stored certificate');
  const v = r.u8('version');
  if (v !== VERSION) throw new BeepkitError('E_VERSION', `stored certificate version ${v}`);
  const s = { day, certificate: r.lbytes('certificate'), solverPublicKey: r.bytes(32, 'solverPublicKey'), solverKeyId: r.vbytes('solverKeyId') };
  r.end();
  return s;
}

/** Emits 'stored' (StoredCertificate) after a certificate is durable. */
export class CertStore extends EventEmitter {
  readonly #dir: string;
  readonly #byDay = new Map<number, StoredCertificate>();
  skipped = 0;

  constructor(dir: string) {
    super();
    this.#dir = dir;
  }

  /** Creates the directory and loads every stored certificate. */
  async load(): Promise<this> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(this.#dir)) {
      const m = /^(\d{1,9})\.cert$/.exec(name);
      if (!m) continue;
      try {
        this.#byDay.set(Number(m[1]), decodeStored(Number(m[1]), new Uint8Array(await readFile(join(this.#dir, name)))));
      } catch {
        this.skipped++;
      }
    }
    return this;
  }

  /** The certificate bytes for `day`, if any (the uplink's certificate source). */
  get(day: number): Uint8Array | undefined {
    return this.#byDay.get(day)?.certificate;
  }

  entry(day: number): StoredCertificate | undefined {
    return this.#byDay.get(day);
  }

  days(): number[] {
    return [...this.#byDay.keys()].sort((a, b) => a - b);
  }

  async put(s: StoredCertificate): Promise<void> {
    await writeFileAtomic(join(this.#dir, `${s.day}.cert`), encodeStored(s));
    this.#byDay.set(s.day, s);
    this.emit('stored', s);
  }

  /** Forgets days before `firstDay` (retention). */
  async purgeBefore(firstDay: number): Promise<void> {
    for (const day of this.days().filter((d) => d < firstDay)) {
      await unlink(join(this.#dir, `${day}.cert`)).catch(() => {});
      this.#byDay.delete(day);
    }
  }
}
