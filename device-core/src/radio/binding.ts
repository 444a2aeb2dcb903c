/** The noble/bleno HCI binding options for a controller target (UART with its baud rate, or a native HCI index). */
import { BeepkitError } from '@beepkit/protocol/errors';
import type { HciTarget } from './types.ts';

export function hciBindingOptions(t: HciTarget): Record<string, unknown> {
  if ('uart' in t) return { hciDriver: 'uart', bindParams: { uart: { port: t.uart, ...(t.baudRate ? { baudRate: t.baudRate } : {}) } } };
  return { hciDriver: 'native', deviceId: t.hciIndex };
}

/**
 * The controller target of a config section or command-line options (beacon `hci:`, the wearable's `--uart`,
 * `--baud-rate`, `--hci`): `uart` with its `baudRate` if given, else the HCI `index` (default 0). E_CONFIG for a
 * baud rate or index that is not a non-negative integer.
 */
export function hciTarget(o: { uart?: unknown; baudRate?: unknown; index?: unknown } | undefined, field = 'hci'): HciTarget {
  const int = (v: unknown, what: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new BeepkitError('E_CONFIG', `${field} ${what}: expected a non-negative integer, got ${JSON.stringify(v)}`);
    return n;
  };
  if (o?.uart) return { uart: String(o.uart), ...(o.baudRate !== undefined ? { baudRate: int(o.baudRate, 'baudRate') } : {}) };
  return { hciIndex: o?.index === undefined ? 0 : int(o.index, 'index') };
}
