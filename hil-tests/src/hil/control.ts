/** Client of the simulator's control API (virtual rigs): clock, move, faults, pause. */
import { BeepkitError } from '@beepkit/protocol';
import { hostNow } from '@beepkit/protocol/clock';

export class SimControl {
  #clock?: { now: number; at: number; speed: number; paused: boolean };
  #timer?: NodeJS.Timeout;

  constructor(readonly url: string) {}

  async #req(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const r = await fetch(`${this.url}${path}`, {
      method,
      signal: AbortSignal.timeout(10_000),
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    const j = (await r.json()) as { error?: { code?: string; message?: string } };
    if (!r.ok) throw new BeepkitError('E_CONTROL', `${method} ${path}: ${j.error?.code ?? r.status} ${j.error?.message ?? ''}`);
    return j;
  }

  async clock(): Promise<{ now: number; speed: number; paused: boolean }> {
    const j = (await this.#req('GET', '/clock')) as { now?: number; nowMs?: number; speed: number; paused: boolean };
    return { now: Number(j.now ?? j.nowMs), speed: j.speed, paused: j.paused };
  }

  /** Keeps a local copy of the scenario clock (polled), so now() is synchronous. */
  async startClock(): Promise<void> {
    const poll = async (): Promise<void> => {
      const c = await this.clock();
      this.#clock = { ...c, at: hostNow() };
    };
    await poll();
    this.#timer = setInterval(() => void poll().catch(() => {}), 250);
    this.#timer.unref();
  }

  stopClock(): void {
    clearInterval(this.#timer);
  }

  lastClock(): (() => number) | undefined {
    const c = this.#clock;
    if (!c) return undefined;
    return () => {
      const k = this.#clock!;
      return k.paused ? k.now : k.now + (hostNow() - k.at) * k.speed;
    };
  }

  move(device: string, to: { x: number; y: number } | { lat: number; lon: number }): Promise<unknown> {
    return this.#req('POST', `/devices/${encodeURIComponent(device)}/move`, to);
  }

  fault(device: string, kind: string, duration?: number, params?: Record<string, number>): Promise<unknown> {
    return this.#req('POST', '/faults', { device, kind, ...(duration !== undefined ? { duration } : {}), ...(params ? { params } : {}) });
  }

  /** The sim's EN conformance verdict (GET /conformance). */
  async conformance(): Promise<{
    checked: number;
    violations: number;
    byDevice: Record<string, Record<string, number>>;
    recent: { device: string; rule: string; message: string }[];
  }> {
    return (await this.#req('GET', '/conformance')) as {
      checked: number;
      violations: number;
      byDevice: Record<string, Record<string, number>>;
      recent: { device: string; rule: string; message: string }[];
    };
  }

  async devices(): Promise<{ id: string; x: number; y: number; gnss?: { plugged?: boolean } }[]> {
    const j = (await this.#req('GET', '/devices')) as { devices?: unknown[] } | unknown[];
    return (Array.isArray(j) ? j : (j.devices ?? [])) as { id: string; x: number; y: number }[];
  }

  pause(): Promise<unknown> {
    return this.#req('POST', '/pause');
  }

  resume(): Promise<unknown> {
    return this.#req('POST', '/resume');
  }
}
