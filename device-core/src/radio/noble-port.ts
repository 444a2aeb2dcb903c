/**
 * The radio port to @stoprocent/noble: the ONLY shipped module that loads noble (the scanner of
 * HciRadio and the carer's GATT central), on the HCI binding for a target's options (UART or kernel
 * socket, radio/binding.ts). Loaded on first use, so processes without a scanner never load it.
 */
import { createRequire } from 'node:module';
import { hciBindingOptions } from './binding.ts';
import type { HciTarget } from './types.ts';

const require = createRequire(import.meta.url);

/** The options noble's HCI binding takes for `target` (radio/binding.ts). */
export type NobleBindingOptions = ReturnType<typeof hciBindingOptions>;

/** A noble instance on its own HCI binding (noble's API is untyped). */
export function openNoble(opts: NobleBindingOptions): any {
  return require('@stoprocent/noble').withBindings('hci', opts);
}

/** `openNoble` for an HCI target. */
export const openNobleOn = (target: HciTarget): any => openNoble(hciBindingOptions(target));

/**
 * Forgets the peers noble has not heard since `before`: noble 2.8 keeps every address it ever heard in
 * its own maps (`_peripherals`, `_discoveredPeripherals`, `_services`, `_characteristics`,
 * `_descriptors`), its HCI bindings' (`_addresses`, `_addresseTypes`, `_connectable`, `scannable`) and
 * its GAP layer's (`_discoveries`), and empties them only when the controller resets. EN addresses
 * rotate every 10–20 minutes, so at a crowd's density that is some 12 000 peripherals (~12 MB of heap)
 * after 10 hours, and growing (agent/README "Memory"). A peripheral connected or connecting (the
 * carer's GATT link) is kept. `heard` maps a lowercase address to when it was last heard (the caller's
 * clock); its stale entries go too. Returns how many addresses were forgotten.
 */
export function forgetStalePeers(noble: any, heard: Map<string, number>, before: number): number {
  const stale = (address: string | undefined): boolean => !address || (heard.get(address.toLowerCase()) ?? -Infinity) < before;
  const bindings = noble?._bindings;
  const gap = bindings?._gap;
  let n = 0;
  const peripherals: Map<string, any> | undefined = noble?._peripherals;
  for (const [uuid, p] of peripherals ?? []) {
    if (p?.state === 'connected' || p?.state === 'connecting' || p?.state === 'disconnecting') continue;
    if (!stale(p?.address ?? bindings?._addresses?.[uuid])) continue;
    noble._cleanupPeriperals(uuid);
    n++;
  }
  if (bindings?._addresses) {
    for (const [uuid, address] of Object.entries(bindings._addresses as Record<string, string>)) {
      if (peripherals?.has(uuid) || !stale(address)) continue;
      delete bindings._addresses[uuid];
      delete bindings._addresseTypes?.[uuid];
      delete bindings._connectable?.[uuid];
      delete bindings.scannable?.[uuid];
    }
  }
  if (gap?._discoveries) for (const address of Object.keys(gap._discoveries)) if (stale(address)) delete gap._discoveries[address];
  for (const [address, at] of heard) if (at < before) heard.delete(address);
  return n;
}
