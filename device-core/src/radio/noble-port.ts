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
