/**
 * Guard: an event type that something listens for must be produced by something.
 * Pure: sources in, the consumed-but-never-produced names out.
 */
export interface EventSources {
  /** Source texts of the consumers and of the producers. */
  consumers: string[];
  producers: string[];
  /** Regexes whose first group is an event name. */
  consumed: RegExp;
  produced: RegExp;
  /** Names produced outside these sources (Node, libraries), with the reason. */
  external?: Readonly<Record<string, string>>;
}

const names = (texts: string[], re: RegExp): Set<string> => {
  const out = new Set<string>();
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  for (const t of texts) for (const m of t.matchAll(g)) out.add(m[1]);
  return out;
};

export function consumedNotProduced(s: EventSources): string[] {
  const produced = names(s.producers, s.produced);
  return [...names(s.consumers, s.consumed)].filter((n) => !produced.has(n) && !(s.external && Object.hasOwn(s.external, n))).sort();
}
