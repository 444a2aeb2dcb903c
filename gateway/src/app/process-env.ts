/**
 * The process environment a gateway starts with. Set by
 * gateway/systemd/beepkit-gateway.service and by the HIL suites' and benches'
 * gateway children; glibc reads its tunables once, when the process starts, so
 * they cannot be set from inside `beepkit gateway run`.
 *
 * - `GLIBC_TUNABLES=glibc.malloc.hugetlb=1` (glibc ≥ 2.35; an older glibc ignores
 *   it): malloc advises transparent huge pages (`madvise`, the usual kernel
 *   default) for the chunks it maps, which is where Node puts large
 *   ArrayBuffers: the ledger's index arrays, read whole at open. On this VM the
 *   first touch of fresh memory costs ~3.5 µs per 4 KiB page, and an open from
 *   the persisted index is mostly that: a 1.2 M-entry ledger (390 MiB index)
 *   opened in 2.5–2.7 s wall / 1.7–1.9 s CPU with glibc's defaults and
 *   0.56–0.85 s / 0.41–0.49 s with it, three alternating runs each
 *   (bench/profile/ledger-open.ts, 2026-12-04; gateway/README "Open time").
 *   The agent does not get it: a device's RSS counts every huge page it touches.
 */
export const GATEWAY_ENV = { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' } as const;

/** `tunables` (a GLIBC_TUNABLES value, may be empty) with `add`'s tunables appended where it does not set them. */
export function withTunables(tunables: string | undefined, add: string): string {
  const have = (tunables ?? '').split(':').filter(Boolean);
  const names = new Set(have.map((t) => t.split('=')[0]));
  return [...have, ...add.split(':').filter((t) => t && !names.has(t.split('=')[0]))].join(':');
}

/** `env` with the gateway's tunables merged in (an operator's own value for a tunable is kept). */
export function gatewayProcessEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, GLIBC_TUNABLES: withTunables(env.GLIBC_TUNABLES, GATEWAY_ENV.GLIBC_TUNABLES) };
}
