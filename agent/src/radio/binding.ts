/** The noble/bleno HCI binding options for a controller target (UART with its baud rate, or a native HCI index). */
import type { HciTarget } from './types.ts';

export function hciBindingOptions(t: HciTarget): Record<string, unknown> {
  if ('uart' in t) return { hciDriver: 'uart', bindParams: { uart: { port: t.uart, ...(t.baudRate ? { baudRate: t.baudRate } : {}) } } };
  return { hciDriver: 'native', deviceId: t.hciIndex };
}
