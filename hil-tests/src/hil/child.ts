/** A `beepkit … run` child the suites start, kill -9 or stop, and start again (agents, the gateway). */
import type { ChildProcess } from 'node:child_process';
import { spawnAgentChild } from '../agent-child.ts';

export class ManagedChild {
  child?: ChildProcess;
  /** The child's HTTP port, from its ready line. */
  httpPort?: number;
  /** Its last lines of stdout and stderr. */
  readonly output: string[] = [];
  #exited?: Promise<void>;

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.running ? this.child!.pid : undefined;
  }

  /** Spawns it; resolves when it reports ready. */
  protected async spawn(o: Omit<Parameters<typeof spawnAgentChild>[0], 'output'>): Promise<void> {
    this.httpPort = undefined;
    const c = spawnAgentChild({ ...o, output: this.output });
    this.child = c.child;
    this.#exited = c.exited;
    this.httpPort = await c.ready;
  }

  /** kill -9: no goodbye. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.#exited;
  }

  /** SIGTERM (graceful stop), SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const c = this.child;
    if (!c || !this.running) return;
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(t);
  }
}
