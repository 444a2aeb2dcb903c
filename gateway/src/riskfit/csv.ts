/**
 * Labelled contacts (CSV with a header): rssi, contact_minutes (ΔtB),
 * checkin_gap_minutes (ΔtC), material, infected (0/1). `material` is a
 * surface name (Song et al.: aerosol, copper, cardboard, other,
 * stainless-steel/stainlessSteel, plastic) coded, as in the paper and the
 * agent's model, by its virus residual time in hours; or a number of hours.
 */
import { BeepkitError } from '@beepkit/protocol';
import { MATERIAL_HOURS } from '@beepkit/protocol/risk';

export const COLUMNS = ['rssi', 'contact_minutes', 'checkin_gap_minutes', 'material', 'infected'] as const;
const ALIASES: Record<string, string> = { dtb: 'contact_minutes', dtc: 'checkin_gap_minutes', ms: 'material', label: 'infected', y: 'infected' };

export function materialHours(v: string): number {
  const s = v.trim();
  if (s !== '' && Number.isFinite(Number(s))) return Number(s);
  const key = s === 'stainless-steel' || s === 'stainless_steel' ? 'stainlessSteel' : s;
  const h = (MATERIAL_HOURS as Record<string, number>)[key];
  if (h === undefined) throw new BeepkitError('E_FORMAT', `riskfit: unknown material "${v}"`);
  return h;
}

export function parseLabelledCsv(text: string): { x: number[][]; y: number[] } {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  if (lines.length < 2) throw new BeepkitError('E_FORMAT', 'riskfit: CSV needs a header and rows');
  const header = lines[0]
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .map((h) => ALIASES[h] ?? h);
  const idx = COLUMNS.map((c) => header.indexOf(c));
  const missing = COLUMNS.filter((_, i) => idx[i] < 0);
  if (missing.length) throw new BeepkitError('E_FORMAT', `riskfit: CSV lacks column(s) ${missing.join(', ')}`);
  const x: number[][] = [];
  const y: number[] = [];
  for (let li = 1; li < lines.length; li++) {
    const f = lines[li].split(',');
    const num = (i: number) => {
      const v = Number(f[idx[i]]);
      if (f[idx[i]] === undefined || f[idx[i]].trim() === '' || !Number.isFinite(v))
        throw new BeepkitError('E_FORMAT', `riskfit: line ${li + 1}: ${COLUMNS[i]} is not a number`);
      return v;
    };
    x.push([num(0), num(1), num(2), materialHours(f[idx[3]] ?? '')]);
    y.push(num(4));
  }
  return { x, y };
}
