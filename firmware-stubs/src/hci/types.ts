/**
 * The virtual controller's host-visible state and what a command handler may
 * use of its controller (handlers.ts; VirtualController in controller.ts has
 * this shape), so that the handlers need not import the controller.
 */
import type { Air } from '../air/air.ts';
import type { AdvParams, CreateConnParams, ScanParams } from './commands.ts';
import type { EnConformance } from './conformance.ts';

export interface HostLink {
  handle: number;
  airLink: number;
  role: 0 | 1;
  peerAddress: Buffer;
  peerAddressType: number;
  intervalUnits: number;
  timeoutUnits: number;
}

/** Everything a Reset clears. */
export interface HostState {
  eventMask: Buffer;
  leEventMask: Buffer;
  scanParams: ScanParams;
  scanning: boolean;
  extendedScan: boolean;
  filterDup: boolean;
  seen: Set<string>;
  advParams: AdvParams;
  advData: Buffer;
  scanRspData: Buffer;
  advertising: boolean;
  /** LE Set Random Address (little-endian), cleared by Reset. */
  randomAddress?: Buffer;
  /** Which advertising command set the host used since Reset: mixing is Command Disallowed (Core Vol 4 E 3.1.1). */
  advCommandSet?: 'legacy' | 'extended';
  initiating?: { params: CreateConnParams };
  links: Map<number, HostLink>;
  nextHandle: number;
}

/** What a command handler may use of its controller. */
export interface HandlerContext {
  readonly id: string;
  readonly air: Air;
  readonly opts: { txPower: number; manufacturer: number; extendedFeature: boolean; aclMtu: number; aclCredits: number };
  /** The EN conformance checker, when the controller runs that mode. */
  readonly conformance?: EnConformance;
  /** Host-visible state (everything a Reset clears). */
  st: HostState;
  /** Current BD_ADDR, little-endian. */
  bdAddr: Buffer;
  reply(opcode: number, status: number): void;
  send(pkt: Buffer, kind: 'reply' | 'radio' | 'link'): void;
  resetState(): void;
  enhanced(): boolean;
}

/** A command handler: the decoded parameters of one HCI command, answered through the controller. */
export type Handler = (c: HandlerContext, p: any, opcode: number) => void;
