/**
 * Reader for gpsd regression `.chk` files (gpsd's watcher output for a `.log`): the echoed sentences gpsd
 * accepted and its TPV reports. Used as the oracle in golden-log tests. Pure.
 */
export interface ChkTpv {
  time?: string;
  mode: number;
  /** Absent in the report means 0 or 1; normalised here to `status ?? 0`. */
  status: number;
  lat?: number;
  lon?: number;
  altMSL?: number;
  speed?: number;
  track?: number;
}

export interface Chk {
  /** Sentences gpsd accepted (checksum good, framed), trimmed. */
  sentences: string[];
  tpv: ChkTpv[];
}

export function readChk(text: string): Chk {
  const sentences: string[] = [];
  const tpv: ChkTpv[] = [];
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (l.startsWith('$') || l.startsWith('!')) sentences.push(l);
    else if (l.startsWith('{"class":"TPV"')) {
      const o = JSON.parse(l) as Record<string, unknown>;
      tpv.push({
        time: o.time as string | undefined,
        mode: (o.mode as number | undefined) ?? 0,
        status: (o.status as number | undefined) ?? 0,
        lat: o.lat as number | undefined,
        lon: o.lon as number | undefined,
        altMSL: o.altMSL as number | undefined,
        speed: o.speed as number | undefined,
        track: o.track as number | undefined,
      });
    }
  }
  return { sentences, tpv };
}

/**
 * Per-epoch final TPV (the last report for each time), in first-seen order; reports without time skipped.
 * gpsd stamps the no-fix report of an invalid RMC ('V') with the previous epoch's time; such a stale
 * mode ≤ 1 report does not override a fix already reported for that time.
 */
export function chkEpochs(chk: Chk): Map<string, ChkTpv> {
  const m = new Map<string, ChkTpv>();
  for (const t of chk.tpv) {
    if (t.time === undefined) continue;
    const prev = m.get(t.time);
    if (prev && prev.mode >= 2 && t.mode <= 1) continue;
    m.set(t.time, t);
  }
  return m;
}

/** Reports gpsd printed without a time although it had a fix (before it learnt the date). */
export function chkTimelessFixes(chk: Chk): number {
  return chk.tpv.filter((t) => t.time === undefined && t.mode >= 2).length;
}

export interface ChkComparison {
  /** gpsd epochs (with time) compared. */
  expected: number;
  /** gpsd epochs with no fix of ours at that time. */
  missing: string[];
  /** Epochs where mode, status or lat/lon differ (one line each). */
  mismatches: string[];
  /** Our epochs with a fix (mode ≥ 2) at a time gpsd never reported. */
  extraFixes: string[];
  /** gpsd fixed reports that carried no time (it did not know the date yet). */
  timelessFixes: number;
}

/** Minimal fix shape compared (NmeaFix satisfies it). */
export interface ComparableFix {
  time?: string;
  mode: number;
  status: number;
  lat?: number;
  lon?: number;
}

/**
 * Compares our per-epoch fixes with gpsd's per-epoch final TPVs: time, mode, status (0 and 1 are the same
 * in a TPV), lat/lon within `tolDeg`.
 */
export function compareWithChk(fixes: readonly ComparableFix[], chk: Chk, tolDeg = 1e-7): ChkComparison {
  const exp = chkEpochs(chk);
  const mine = new Map<string, ComparableFix>();
  for (const f of fixes) if (f.time !== undefined) mine.set(f.time, f);
  const res: ChkComparison = { expected: exp.size, missing: [], mismatches: [], extraFixes: [], timelessFixes: chkTimelessFixes(chk) };
  for (const [t, e] of exp) {
    const m = mine.get(t);
    if (!m) {
      res.missing.push(t);
      continue;
    }
    const errs: string[] = [];
    if (m.mode !== e.mode) errs.push(`mode ${m.mode} vs ${e.mode}`);
    if (Math.max(m.status, 1) !== Math.max(e.status, 1)) errs.push(`status ${m.status} vs ${e.status}`);
    if (e.lat !== undefined && e.lon !== undefined) {
      if (m.lat === undefined || m.lon === undefined || Math.abs(m.lat - e.lat) > tolDeg || Math.abs(m.lon - e.lon) > tolDeg) {
        errs.push(`position ${m.lat},${m.lon} vs ${e.lat},${e.lon}`);
      }
    }
    if (errs.length > 0) res.mismatches.push(`${t}: ${errs.join('; ')}`);
  }
  for (const [t, m] of mine) if (!exp.has(t) && m.mode >= 2) res.extraFixes.push(t);
  return res;
}
