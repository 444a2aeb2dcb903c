/**
 * The solver's durable state: the next tracing-chain height whose
 * endorsements are still to be processed, and the highest risk published per
 * (fingerprint, day). Written atomically (tmp + fsync + rename + dir fsync)
 * after each block's notifications were published. Holds no geodata.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { BeepkitError } from '@beepkit/protocol';

export interface SolverState {
  next: number;
  /** "<fingerprint hex>:<day>" → risk code. */
  published: Record<string, number>;
}

export function loadState(file: string | undefined): SolverState {
  if (!file || !existsSync(file)) return { next: 0, published: {} };
  let s: SolverState;
  try {
    s = JSON.parse(readFileSync(file, 'utf8')) as SolverState;
  } catch (cause) {
    throw new BeepkitError('E_FORMAT', `solver state ${file} is not valid JSON`, { cause });
  }
  if (!Number.isInteger(s.next) || s.next < 0 || typeof s.published !== 'object' || s.published === null)
    throw new BeepkitError('E_FORMAT', `solver state ${file} is malformed`);
  return s;
}

export function saveState(file: string | undefined, s: SolverState): void {
  if (!file) return;
  const tmp = file + '.tmp';
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(s));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dfd = openSync(dirname(file), 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}
