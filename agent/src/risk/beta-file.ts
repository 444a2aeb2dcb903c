/**
 * The β file of `beepkit risk fit --out beta.json` (model "song-logistic",
 * beta = [β0 intercept, β1 RSSI, β2 contact minutes, β3 check-in gap minutes,
 * β4 material hours]), as the agent's config `risk.betaFile` names it.
 */
import { readFileSync } from 'node:fs';
import { BeepkitError } from '@beepkit/protocol';
import type { Beta } from '@beepkit/protocol/risk';

export function parseBeta(text: string, source = 'risk.betaFile'): Beta {
  let doc: { model?: unknown; beta?: unknown };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch (cause) {
    throw new BeepkitError('E_CONFIG', `${source}: not JSON (the file of \`beepkit risk fit --out\`)`, { cause });
  }
  if (!doc || doc.model !== 'song-logistic') throw new BeepkitError('E_CONFIG', `${source}: not a song-logistic fit (the file of \`beepkit risk fit --out\`)`);
  const b = doc.beta;
  if (!Array.isArray(b) || b.length !== 5 || !b.every((x) => typeof x === 'number' && Number.isFinite(x)))
    throw new BeepkitError('E_CONFIG', `${source}: beta must be 5 finite numbers`);
  return b as unknown as Beta;
}

export function readBetaFile(path: string): Beta {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new BeepkitError('E_CONFIG', `risk.betaFile ${path} cannot be read: ${(cause as Error).message}`, { cause });
  }
  return parseBeta(text, `risk.betaFile ${path}`);
}
