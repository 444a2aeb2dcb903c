/**
 * An EventEmitter with a lifecycle state (the MQTT clients of the agent and the gateway): `state` is read by
 * everyone, changed only by the owner, and every change is emitted once as 'state'; 'stopped' is final.
 */
import { EventEmitter } from 'node:events';
import { BeepkitError } from '@beepkit/protocol';

export class StateEmitter<S extends string> extends EventEmitter {
  #state: S;
  readonly #name: string;

  constructor(initial: S, name: string) {
    super();
    this.#state = initial;
    this.#name = name;
  }

  get state(): S {
    return this.#state;
  }

  /** Sets the state and emits 'state' when it changed. */
  protected setState(s: S): void {
    if (this.#state === s) return;
    this.#state = s;
    this.emit('state', s);
  }

  /** `value` while started and not stopped; E_STATE "<name> not started" otherwise. */
  protected requireStarted<T>(value: T | undefined): T {
    if (value === undefined || this.#state === 'stopped') throw new BeepkitError('E_STATE', `${this.#name} not started`);
    return value;
  }
}

/** A client that ends like MQTT.js's: `end(force, opts, done)`. */
export interface Endable {
  end(force: boolean, opts: object, done: () => void): unknown;
}

/** Ends `client` gracefully (in-flight work flushed), forcing it after `forceAfterMs`. */
export function endGracefully(client: Endable, forceAfterMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => client.end(true, {}, () => resolve()), forceAfterMs);
    client.end(false, {}, () => {
      clearTimeout(force);
      resolve();
    });
  });
}
