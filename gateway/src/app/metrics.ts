/** A minimal Prometheus text-format registry: labelled counters, callback gauges, one-label-set histograms. */
type Labels = Record<string, string>;

function labelText(l: Labels): string {
  const e = Object.entries(l);
  return e.length ? `{${e.map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`).join(',')}}` : '';
}

export class Counter {
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = labelText(labels);
    const v = this.#values.get(k);
    if (v) v.value += by;
    else this.#values.set(k, { labels, value: by });
  }
  get(labels: Labels = {}): number {
    return this.#values.get(labelText(labels))?.value ?? 0;
  }
  render(): string[] {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} counter`,
      ...[...this.#values.values()].map((v) => `${this.name}${labelText(v.labels)} ${v.value}`),
    ];
  }
}

export class Gauge {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly read: () => { labels?: Labels; value: number }[],
  ) {}
  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, ...this.read().map((v) => `${this.name}${labelText(v.labels ?? {})} ${v.value}`)];
  }
}

/** A gauge whose values are monotonic counts kept elsewhere (rendered as a counter). */
export class CounterFn extends Gauge {
  override render(): string[] {
    return super.render().map((l) => (l.startsWith('# TYPE ') ? `# TYPE ${this.name} counter` : l));
  }
}

export class Histogram {
  readonly #counts: number[];
  #sum = 0;
  #n = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[],
  ) {
    this.#counts = buckets.map(() => 0);
  }
  observe(v: number): void {
    this.#sum += v;
    this.#n++;
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]) this.#counts[i]++;
  }
  get count(): number {
    return this.#n;
  }
  render(): string[] {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} histogram`,
      ...this.buckets.map((b, i) => `${this.name}_bucket{le="${b}"} ${this.#counts[i]}`),
      `${this.name}_bucket{le="+Inf"} ${this.#n}`,
      `${this.name}_sum ${this.#sum}`,
      `${this.name}_count ${this.#n}`,
    ];
  }
}

export class Registry {
  readonly #items: { render(): string[] }[] = [];
  add<T extends { render(): string[] }>(m: T): T {
    this.#items.push(m);
    return m;
  }
  render(): string {
    return this.#items.flatMap((m) => m.render()).join('\n') + '\n';
  }
}
