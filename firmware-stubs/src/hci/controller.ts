/**
 * A virtual BLE controller: HCI over H4 on a PTY, radio on the shared Air.
 * Host bytes → H4Parser → decodeCommand (table) → HANDLERS (state machine) →
 * events encoded back to the PTY. Radio-originated traffic (advertising
 * reports) is dropped, and counted, while no host is attached or the PTY
 * backlog is above `backlogLimit`; replies to the host are never dropped.
 */
import { silentLogger, type Logger } from '@beepkit/protocol/log';
import { EventEmitter } from 'node:events';
import { BeepkitError, isBeepkitError } from '@beepkit/protocol';
import { openPty, PtyWriter, type Pty } from '../pty.ts';
import type { Air, AirLink, AirListener, RxAdv } from '../air/air.ts';
import type { Enu, LatLon } from '../air/geo.ts';
import { H4Parser, type H4Packet } from './h4.ts';
import { commandName, decodeCommand } from './commands.ts';
import * as ev from './events.ts';
import { addrFromString, addrToString } from './le.ts';
import { HANDLERS, vendorSupported, commandSetOf } from './handlers.ts';
import { EnConformance } from './conformance.ts';
import type { HostLink, HostState } from './types.ts';

export type { Logger };

export interface ControllerOptions {
  air: Air;
  /** Public BD_ADDR, 'aa:bb:cc:dd:ee:ff'. */
  address: string;
  /** Device id on the air (default: the address). */
  id?: string;
  position?: Enu | LatLon;
  /** TX power, dBm (default 0). */
  txPower?: number;
  logger?: Logger;
  /**
   * Company identifier reported by Read Local Version (default 0x0059, Nordic Semiconductor: a controller
   * bleno and noble know no vendor commands for). Vendor-specific commands are answered only for the
   * manufacturer that defines them (0xFC06 Write BD_ADDR: 0x05F1, Linux Foundation/Zephyr); any other
   * gets Unknown HCI Command, as from a real chip.
   */
  manufacturer?: number;
  /**
   * Exposure Notification conformance mode (conformance.ts): every EN advert going on air is checked (PDU type,
   * address type and kind, interval, payload length, rotation lockstep); breaches are flagged by the
   * 'conformance' event, `counters.conformanceViolations` and a warning. On in the sim (every HIL run).
   */
  enConformance?: boolean;
  /** Report the LE Extended Advertising feature (noble then switches to extended scanning). */
  extendedFeature?: boolean;
  /** LE ACL data packet length / count reported by LE Read Buffer Size (default 27 / 8). */
  aclMtu?: number;
  aclCredits?: number;
  /** Drop radio-originated events above this PTY backlog (default 64 KiB). */
  backlogLimit?: number;
  /** Drop link traffic (ACL, connection events) above this backlog (default 1 MiB). */
  hardBacklogLimit?: number;
  /** Incomplete H4 packets are dropped after this many ms (default 250). */
  partialTimeoutMs?: number;
}

export interface ControllerCounters {
  commands: number;
  events: number;
  aclFromHost: number;
  aclToHost: number;
  reports: number;
  hciErrors: number;
  unknownCommands: number;
  droppedEvents: number;
  resets: number;
  /** Commands refused with Command Disallowed for mixing legacy and extended advertising. */
  disallowed: number;
  /** EN adverts that broke a rule of the conformance mode. */
  conformanceViolations: number;
}

export interface TraceEntry {
  dir: 'cmd' | 'evt' | 'acl-in' | 'acl-out';
  name: string;
  hex: string;
  opcode?: number;
}

export function freshState(): HostState {
  return {
    eventMask: Buffer.from('ffffffffff9f0020', 'hex'),
    leEventMask: Buffer.from('1f00000000000000', 'hex'),
    scanParams: { active: false, interval: 0x10, window: 0x10, ownAddressType: 0 },
    scanning: false,
    extendedScan: false,
    filterDup: false,
    seen: new Set(),
    advParams: { intervalMin: 0x800, intervalMax: 0x800, type: 0, ownAddressType: 0, channelMap: 7 },
    advData: Buffer.alloc(0),
    scanRspData: Buffer.alloc(0),
    advertising: false,
    links: new Map(),
    nextHandle: 0x40,
  };
}

/** The H4 bytes of a parsed host packet. */
function rebuild(p: H4Packet): Buffer {
  if (p.kind === 'cmd') return Buffer.concat([Buffer.from([0x01, p.opcode & 0xff, p.opcode >> 8, p.params.length]), p.params]);
  const h = Buffer.alloc(5);
  h[0] = 0x02;
  h.writeUInt16LE((p.handle & 0x0fff) | (p.pb << 12) | (p.bc << 14), 1);
  h.writeUInt16LE(p.data.length, 3);
  return Buffer.concat([h, p.data]);
}

export class VirtualController extends EventEmitter implements AirListener {
  readonly id: string;
  readonly air: Air;
  readonly opts: Required<
    Pick<ControllerOptions, 'txPower' | 'manufacturer' | 'extendedFeature' | 'aclMtu' | 'aclCredits' | 'backlogLimit' | 'hardBacklogLimit'>
  >;
  readonly counters: ControllerCounters = {
    commands: 0,
    events: 0,
    aclFromHost: 0,
    aclToHost: 0,
    reports: 0,
    hciErrors: 0,
    unknownCommands: 0,
    droppedEvents: 0,
    resets: 0,
    disallowed: 0,
    conformanceViolations: 0,
  };
  /** @internal state used by the command handlers. */
  st: HostState = freshState();
  /** @internal current BD_ADDR, little-endian. */
  bdAddr: Buffer;
  /** True once a host completed a Reset. */
  attached = false;
  /** Every H4 packet both ways (`beepkit sim --btsnoop`): the host's commands and ACL, and what is sent to it. */
  snoop?: (h4: Buffer, toController: boolean) => void;
  /** The EN conformance checker, when `enConformance` is on. */
  readonly conformance?: EnConformance;
  private readonly log: Logger;
  private readonly position?: Enu | LatLon;
  private readonly partialTimeoutMs: number;
  private pty?: Pty;
  private parser?: H4Parser;
  private writer?: PtyWriter;

  constructor(o: ControllerOptions) {
    super();
    this.air = o.air;
    this.bdAddr = addrFromString(o.address);
    this.id = o.id ?? o.address.toLowerCase();
    this.position = o.position;
    this.log = o.logger ?? silentLogger;
    this.partialTimeoutMs = o.partialTimeoutMs ?? 250;
    if (o.enConformance) {
      this.conformance = new EnConformance((v) => {
        this.counters.conformanceViolations++;
        this.log.warn({ id: this.id, rule: v.rule, err: v.message }, 'EN conformance: advert breaks the specification');
        this.emit('conformance', v);
      });
    }
    this.opts = {
      txPower: o.txPower ?? 0,
      manufacturer: o.manufacturer ?? 0x0059,
      extendedFeature: o.extendedFeature ?? false,
      aclMtu: o.aclMtu ?? 27,
      aclCredits: o.aclCredits ?? 8,
      backlogLimit: o.backlogLimit ?? 64 * 1024,
      hardBacklogLimit: o.hardBacklogLimit ?? 1024 * 1024,
    };
  }

  /** The PTY slave path a host opens (after start()). */
  get path(): string {
    if (!this.pty) throw new BeepkitError('E_IO', 'controller not started');
    return this.pty.path;
  }

  get address(): string {
    return addrToString(this.bdAddr);
  }

  /** Bytes queued for the host and not yet taken by the kernel. */
  get backlog(): number {
    return this.writer?.backlog ?? 0;
  }

  start(): void {
    if (this.pty) return;
    this.air.attach(this.id, this, { position: this.position, txPower: this.opts.txPower });
    this.pty = openPty();
    this.writer = new PtyWriter(this.pty.fd);
    this.parser = new H4Parser({ partialTimeoutMs: this.partialTimeoutMs });
    this.parser.on('hci-error', (e: BeepkitError) => this.hciError(e));
    this.parser.on('data', (p: H4Packet) => this.onPacket(p));
    this.pty.stream.on('data', (b: Buffer) => this.parser?.write(b));
    this.log.debug({ id: this.id, path: this.pty.path }, 'virtual controller started');
  }

  stop(): void {
    if (!this.pty) return;
    this.air.detach(this.id);
    this.parser?.destroy();
    this.writer?.close();
    this.writer = undefined;
    this.pty.close();
    this.pty = undefined;
    this.parser = undefined;
    this.attached = false;
  }

  /** @internal */
  hciError(e: BeepkitError): void {
    this.counters.hciErrors++;
    this.log.warn({ id: this.id, code: e.code, err: e.message }, 'bad HCI input');
    this.emit('hci-error', e);
  }

  private onPacket(p: H4Packet): void {
    if (this.snoop) this.snoop(rebuild(p), true);
    if (p.kind === 'acl') return this.onHostAcl(p.handle, p.pb, p.data);
    this.counters.commands++;
    if (this.listenerCount('trace')) this.trace({ dir: 'cmd', name: commandName(p.opcode), opcode: p.opcode, hex: p.params.toString('hex') });
    if (p.opcode >> 10 === 0x3f && !vendorSupported(this.opts.manufacturer, p.opcode)) {
      this.counters.unknownCommands++;
      return this.reply(p.opcode, ev.STATUS.UNKNOWN_COMMAND);
    }
    const mix = commandSetOf(p.opcode);
    if (mix && this.st.advCommandSet && this.st.advCommandSet !== mix) {
      this.counters.disallowed++;
      this.log.warn(
        { id: this.id, command: commandName(p.opcode), used: this.st.advCommandSet },
        'legacy and extended advertising commands mixed: Command Disallowed',
      );
      return this.reply(p.opcode, ev.STATUS.COMMAND_DISALLOWED);
    }
    if (mix) this.st.advCommandSet = mix;
    let decoded;
    try {
      decoded = decodeCommand(p.opcode, p.params);
    } catch (e) {
      const err = isBeepkitError(e) ? e : new BeepkitError('E_HCI', String(e));
      this.hciError(new BeepkitError('E_HCI', `${commandName(p.opcode)}: ${err.message}`, { cause: err }));
      return this.reply(p.opcode, ev.STATUS.INVALID_PARAMS);
    }
    const handler = decoded && HANDLERS.get(p.opcode);
    if (!handler) {
      this.counters.unknownCommands++;
      return this.reply(p.opcode, ev.STATUS.UNKNOWN_COMMAND);
    }
    handler(this, decoded!.params, p.opcode);
  }

  /** @internal Status-only reply, as CS for commands answered by Command Status, else CC. */
  reply(opcode: number, status: number): void {
    const csCommands = [0x0406, 0x200d, 0x2043, 0x2013, 0x2019];
    this.send(csCommands.includes(opcode) ? ev.commandStatus(opcode, status) : ev.commandComplete(opcode, Buffer.from([status])), 'reply');
  }

  /** @internal */
  send(pkt: Buffer, kind: 'reply' | 'radio' | 'link'): void {
    if (!this.pty) return;
    const backlog = this.backlog;
    if (kind === 'radio' && (!this.attached || backlog > this.opts.backlogLimit)) {
      this.counters.droppedEvents++;
      return;
    }
    if (kind === 'link' && backlog > this.opts.hardBacklogLimit) {
      this.counters.droppedEvents++;
      return;
    }
    if (this.snoop) this.snoop(pkt, false);
    if (pkt[0] === 0x04) this.counters.events++;
    else this.counters.aclToHost++;
    if (this.listenerCount('trace')) this.trace({ dir: pkt[0] === 0x04 ? 'evt' : 'acl-out', name: ev.packetName(pkt), hex: pkt.toString('hex') });
    if (this.writer) void this.writer.write(pkt, kind === 'radio');
  }

  private trace(e: TraceEntry): void {
    this.emit('trace', e);
  }

  /** @internal Full reset of the host-visible state (BD_ADDR survives, as set by the vendor command). */
  resetState(): void {
    this.counters.resets++;
    this.air.setScanning(this.id, null);
    this.air.setAdvertising(this.id, null);
    this.air.cancelConnect(this.id);
    this.counters.droppedEvents += this.writer?.dropQueued() ?? 0;
    for (const l of this.st.links.values()) this.air.disconnect(l.airLink, this.id, 0x08);
    this.st = freshState();
    this.attached = true;
  }

  private onHostAcl(handle: number, pb: number, data: Buffer): void {
    this.counters.aclFromHost++;
    if (this.listenerCount('trace')) this.trace({ dir: 'acl-in', name: 'ACL', hex: data.toString('hex') });
    const link = this.st.links.get(handle);
    if (!link) {
      this.hciError(new BeepkitError('E_HCI', `ACL for unknown handle 0x${handle.toString(16)}`));
      return;
    }
    // first non-flushable (00) becomes first flushable (10): both stacks drop 00
    this.air.sendAcl(link.airLink, this.id, pb === 0 ? 2 : pb, data);
    this.send(ev.numberOfCompletedPackets(handle, 1), 'reply');
  }

  /** @internal True if the host's LE event mask enables LE Enhanced Connection Complete (bit 9). */
  enhanced(): boolean {
    return (this.st.leEventMask[1] & 0x02) !== 0;
  }

  // ---- AirListener -------------------------------------------------------

  onAdv(rx: RxAdv): void {
    const st = this.st;
    if (!st.scanning) return;
    if (rx.type === 0x04 && !st.scanParams.active) return;
    if (st.filterDup) {
      const key = `${rx.address.toString('hex')}/${rx.type}`;
      if (st.seen.has(key)) return;
      st.seen.add(key);
    }
    this.counters.reports++;
    const f = { type: rx.type, addressType: rx.addressType, address: rx.address, data: rx.data, rssi: rx.rssi, scanRspTo: rx.scanRspTo };
    this.send(st.extendedScan ? ev.leExtendedAdvertisingReport(f) : ev.leAdvertisingReport(f), 'radio');
  }

  onLinkUp(link: AirLink, role: 0 | 1, peer: { address: Buffer; addressType: number }): void {
    const st = this.st;
    const init = st.initiating;
    if (role === 0) st.initiating = undefined;
    else st.advertising = false;
    const hl: HostLink = {
      handle: st.nextHandle++,
      airLink: link.id,
      role,
      peerAddress: Buffer.from(peer.address),
      peerAddressType: peer.addressType,
      intervalUnits: init ? init.params.intervalMax : Math.round(link.intervalMs / 1.25),
      timeoutUnits: init ? init.params.timeout : Math.round(link.supervisionTimeoutMs / 10),
    };
    st.links.set(hl.handle, hl);
    const f = {
      status: 0,
      handle: hl.handle,
      role,
      peerAddressType: hl.peerAddressType,
      peerAddress: hl.peerAddress,
      intervalUnits: hl.intervalUnits,
      latency: 0,
      timeoutUnits: hl.timeoutUnits,
    };
    this.send(ev.leConnectionComplete(f, this.enhanced()), 'link');
  }

  onLinkData(link: AirLink, pb: number, data: Buffer): void {
    const hl = this.linkByAir(link.id);
    if (hl) this.send(ev.aclPacket(hl.handle, pb === 0 ? 2 : pb, data), 'link');
  }

  onLinkDown(link: AirLink, reason: number): void {
    const hl = this.linkByAir(link.id);
    if (!hl) return;
    this.st.links.delete(hl.handle);
    this.send(ev.disconnectionComplete(hl.handle, reason), 'link');
  }

  private linkByAir(id: number): HostLink | undefined {
    for (const l of this.st.links.values()) if (l.airLink === id) return l;
    return undefined;
  }
}
