/** The sealed visit log of a data dir (visits.bin; the agent's and the wearable's). */
import { loadSealedJson, saveSealedJson } from '../keys/sealed-json.ts';
import type { Visit } from './detector.ts';

const VISITS_AAD = new TextEncoder().encode('beepkit/v1/agent/visits');

export async function saveVisits(path: string, visits: Visit[], key: Uint8Array): Promise<void> {
  await saveSealedJson(path, visits, key, VISITS_AAD);
}

export async function loadVisits(path: string, key: Uint8Array): Promise<Visit[]> {
  return (await loadSealedJson<Visit[]>(path, key, VISITS_AAD)) ?? [];
}
