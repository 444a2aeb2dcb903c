/**
 * The controller state machine, one handler per opcode. Handlers receive the
 * decoded parameters (commands.ts) and answer with exactly one Command
 * Complete or Command Status, then any follow-up events.
 */
import type { Handler, HandlerContext as VirtualController } from './types.ts';
import { OP, type AdvParams, type CreateConnParams, type ScanParams } from './commands.ts';
import * as ev from './events.ts';
import { LeWriter } from './le.ts';

const { SUCCESS, UNKNOWN_CONNECTION, COMMAND_DISALLOWED, UNSUPPORTED_FEATURE, INVALID_PARAMS } = ev.STATUS;
/** Manufacturer 0x05F1 (Linux Foundation, Zephyr's HCI): the one whose vendor command set (VS 0xFC06 Write BD_ADDR) is modelled. */
export const MANUFACTURER = 0x05f1;
/** Vendor-specific commands (OGF 0x3F) by the manufacturer that defines them. */
const VENDOR_COMMANDS = new Map<number, Set<number>>([[MANUFACTURER, new Set([OP.VS_WRITE_BD_ADDR])]]);

export function vendorSupported(manufacturer: number, opcode: number): boolean {
  return VENDOR_COMMANDS.get(manufacturer)?.has(opcode) ?? false;
}

const LEGACY_ADV_COMMANDS = new Set<number>([
  OP.LE_SET_ADV_PARAMS,
  OP.LE_READ_ADV_TX_POWER,
  OP.LE_SET_ADV_DATA,
  OP.LE_SET_SCAN_RSP_DATA,
  OP.LE_SET_ADV_ENABLE,
  OP.LE_SET_SCAN_PARAMS,
  OP.LE_SET_SCAN_ENABLE,
  OP.LE_CREATE_CONN,
]);
const EXTENDED_ADV_COMMANDS = new Set<number>([
  0x2035,
  0x2036,
  0x2037,
  0x2038,
  0x2039,
  0x203a,
  0x203b,
  0x203c,
  0x203d,
  OP.LE_SET_EXT_SCAN_PARAMS,
  OP.LE_SET_EXT_SCAN_ENABLE,
  OP.LE_EXT_CREATE_CONN,
]);

/** Core Vol 4 Part E 3.1.1: legacy and extended advertising/scanning/initiating commands may not be mixed until Reset. */
export function commandSetOf(opcode: number): 'legacy' | 'extended' | undefined {
  if (LEGACY_ADV_COMMANDS.has(opcode)) return 'legacy';
  if (EXTENDED_ADV_COMMANDS.has(opcode)) return 'extended';
  return undefined;
}
export const HCI_VERSION = 0x09; // 5.0 (noble/bleno need >= 6)
const MAX_OCTETS = 251;
const MAX_TIME = 2120;

const cc = (c: VirtualController, op: number, ret: Uint8Array = Buffer.from([SUCCESS])) => c.send(ev.commandComplete(op, ret), 'reply');
const ok: Handler = (c, _p, op) => cc(c, op);
const ret = (c: VirtualController, op: number, build: (w: LeWriter) => LeWriter) => cc(c, op, build(new LeWriter().u8(SUCCESS)).done());

function startScan(c: VirtualController, enable: boolean, filterDup: boolean, extended: boolean): void {
  const st = c.st;
  st.scanning = enable;
  st.filterDup = filterDup;
  st.extendedScan = extended;
  st.seen.clear();
  const sp = st.scanParams;
  c.air.setScanning(c.id, enable ? { active: sp.active, intervalMs: sp.interval * 0.625, windowMs: sp.window * 0.625 } : null);
}

function setScanParams(c: VirtualController, p: ScanParams, op: number): void {
  if (c.st.scanning) return c.reply(op, COMMAND_DISALLOWED);
  c.st.scanParams = p;
  cc(c, op);
}

/** Pushes the current advertising set to the air (or stops it). */
export function syncAdvertising(c: VirtualController): void {
  const st = c.st;
  if (!st.advertising) return c.air.setAdvertising(c.id, null);
  const random = (st.advParams.ownAddressType & 1) === 1;
  const address = random && st.randomAddress ? st.randomAddress : c.bdAddr;
  c.conformance?.check({ params: st.advParams, address, advData: st.advData });
  c.air.setAdvertising(c.id, {
    intervalMs: st.advParams.intervalMin * 0.625,
    type: st.advParams.type,
    address,
    addressType: random ? 1 : 0,
    advData: st.advData,
    scanRspData: st.scanRspData,
  });
}

function createConn(c: VirtualController, p: CreateConnParams, op: number): void {
  const st = c.st;
  if (st.initiating) return c.reply(op, COMMAND_DISALLOWED);
  st.initiating = { params: p };
  c.reply(op, SUCCESS);
  c.air.connect(c.id, {
    peerAddress: p.peerAddress,
    ownAddress: c.bdAddr,
    ownAddressType: 0,
    intervalMs: p.intervalMax * 1.25,
    supervisionTimeoutMs: p.timeout * 10,
    scanIntervalMs: p.scanInterval * 0.625,
    scanWindowMs: p.scanWindow * 0.625,
  });
}

function dataOf(c: VirtualController, p: { data: Buffer; bad: boolean }, op: number, field: 'advData' | 'scanRspData'): void {
  if (p.bad) return c.reply(op, INVALID_PARAMS);
  c.st[field] = Buffer.from(p.data);
  if (c.st.advertising) syncAdvertising(c);
  cc(c, op);
}

export const HANDLERS = new Map<number, Handler>([
  [
    OP.RESET,
    (c, _p, op) => {
      c.resetState();
      cc(c, op);
    },
  ],
  [
    OP.SET_EVENT_MASK,
    (c, p, op) => {
      c.st.eventMask = p.mask;
      cc(c, op);
    },
  ],
  [
    OP.LE_SET_EVENT_MASK,
    (c, p, op) => {
      c.st.leEventMask = p.mask;
      cc(c, op);
    },
  ],
  [OP.SET_EVENT_FILTER, ok],
  [OP.WRITE_LE_HOST_SUPPORTED, ok],
  [OP.LE_SET_DEFAULT_PHY, ok],
  [
    OP.LE_SET_RANDOM_ADDRESS,
    (c, p, op) => {
      // Core Vol 4 E 7.8.4: not while legacy advertising, scanning or initiating is enabled
      if (c.st.advertising || c.st.scanning || c.st.initiating) return c.reply(op, COMMAND_DISALLOWED);
      c.st.randomAddress = Buffer.from(p.address);
      cc(c, op);
    },
  ],
  [OP.READ_LE_HOST_SUPPORTED, (c, _p, op) => ret(c, op, (w) => w.u8(1).u8(0))],
  [OP.READ_LOCAL_VERSION, (c, _p, op) => ret(c, op, (w) => w.u8(HCI_VERSION).u16(0).u8(HCI_VERSION).u16(c.opts.manufacturer).u16(0))],
  [
    OP.READ_LOCAL_COMMANDS,
    (c, _p, op) =>
      ret(c, op, (w) => {
        const cmds = Buffer.alloc(64);
        if (c.opts.extendedFeature) cmds[37] = 0x60;
        return w.bytes(cmds);
      }),
  ],
  [OP.READ_LOCAL_FEATURES, (c, _p, op) => ret(c, op, (w) => w.bytes(Buffer.from([0, 0, 0, 0, 0x60, 0, 0, 0])))],
  [OP.READ_BUFFER_SIZE, (c, _p, op) => ret(c, op, (w) => w.u16(c.opts.aclMtu).u8(0).u16(c.opts.aclCredits).u16(0))],
  [OP.READ_BD_ADDR, (c, _p, op) => ret(c, op, (w) => w.bytes(c.bdAddr))],
  [OP.LE_READ_BUFFER_SIZE, (c, _p, op) => ret(c, op, (w) => w.u16(c.opts.aclMtu).u8(c.opts.aclCredits))],
  [OP.LE_READ_LOCAL_FEATURES, (c, _p, op) => ret(c, op, (w) => w.bytes(Buffer.from([0x20, c.opts.extendedFeature ? 0x10 : 0, 0, 0, 0, 0, 0, 0])))],
  [OP.LE_READ_SUPPORTED_STATES, (c, _p, op) => ret(c, op, (w) => w.bytes(Buffer.from('ffff3fffff030000', 'hex')))],
  [OP.LE_READ_ADV_TX_POWER, (c, _p, op) => ret(c, op, (w) => w.i8(c.opts.txPower))],
  [OP.LE_READ_MAX_DATA_LENGTH, (c, _p, op) => ret(c, op, (w) => w.u16(MAX_OCTETS).u16(MAX_TIME).u16(MAX_OCTETS).u16(MAX_TIME))],
  [
    OP.LE_SET_ADV_PARAMS,
    (c, p: AdvParams, op) => {
      if (c.st.advertising) return c.reply(op, COMMAND_DISALLOWED);
      // Core Vol 4 E 7.8.5: intervals 0x0020–0x4000 (not for high duty cycle directed), min ≤ max, a known type, a channel
      const directedHigh = p.type === 0x01;
      if (p.type > 0x04 || p.ownAddressType > 0x03 || (p.channelMap & 0x07) === 0 || p.channelMap > 0x07) return c.reply(op, INVALID_PARAMS);
      if (!directedHigh && (p.intervalMin < 0x20 || p.intervalMax > 0x4000 || p.intervalMin > p.intervalMax)) return c.reply(op, INVALID_PARAMS);
      c.st.advParams = p;
      cc(c, op);
    },
  ],
  [OP.LE_SET_ADV_DATA, (c, p, op) => dataOf(c, p, op, 'advData')],
  [OP.LE_SET_SCAN_RSP_DATA, (c, p, op) => dataOf(c, p, op, 'scanRspData')],
  [
    OP.LE_SET_ADV_ENABLE,
    (c, p, op) => {
      // own address type random without LE Set Random Address: Invalid HCI Command Parameters (Core Vol 4 E 7.8.9)
      if (p.enable && (c.st.advParams.ownAddressType & 1) === 1 && !c.st.randomAddress) return c.reply(op, INVALID_PARAMS);
      c.st.advertising = p.enable;
      syncAdvertising(c);
      cc(c, op);
    },
  ],
  [OP.LE_SET_SCAN_PARAMS, (c, p: ScanParams, op) => setScanParams(c, p, op)],
  [OP.LE_SET_EXT_SCAN_PARAMS, (c, p: ScanParams, op) => setScanParams(c, p, op)],
  [
    OP.LE_SET_SCAN_ENABLE,
    (c, p, op) => {
      startScan(c, p.enable, p.filterDup, false);
      cc(c, op);
    },
  ],
  [
    OP.LE_SET_EXT_SCAN_ENABLE,
    (c, p, op) => {
      startScan(c, p.enable, p.filterDup, true);
      cc(c, op);
    },
  ],
  [OP.LE_CREATE_CONN, createConn],
  [OP.LE_EXT_CREATE_CONN, createConn],
  [
    OP.LE_CREATE_CONN_CANCEL,
    (c, _p, op) => {
      const init = c.st.initiating;
      if (!init || !c.air.cancelConnect(c.id)) return c.reply(op, COMMAND_DISALLOWED);
      c.st.initiating = undefined;
      cc(c, op);
      const f = {
        status: UNKNOWN_CONNECTION,
        handle: 0,
        role: 0,
        peerAddressType: init.params.peerAddressType,
        peerAddress: init.params.peerAddress,
        intervalUnits: 0,
        latency: 0,
        timeoutUnits: 0,
      };
      c.send(ev.leConnectionComplete(f, c.enhanced()), 'reply');
    },
  ],
  [
    OP.DISCONNECT,
    (c, p, op) => {
      const link = c.st.links.get(p.handle);
      if (!link) return c.reply(op, UNKNOWN_CONNECTION);
      c.reply(op, SUCCESS);
      c.air.disconnect(link.airLink, c.id, p.reason);
    },
  ],
  [
    OP.READ_RSSI,
    (c, p, op) => {
      const link = c.st.links.get(p.handle);
      const rssi = link ? c.air.linkRssi(link.airLink, c.id) : undefined;
      if (rssi === undefined) return cc(c, op, new LeWriter().u8(UNKNOWN_CONNECTION).u16(p.handle).u8(0).done());
      ret(c, op, (w) => w.u16(p.handle).i8(rssi));
    },
  ],
  [
    OP.LE_SET_DATA_LENGTH,
    (c, p, op) => {
      if (!c.st.links.has(p.handle)) return cc(c, op, new LeWriter().u8(UNKNOWN_CONNECTION).u16(p.handle).done());
      ret(c, op, (w) => w.u16(p.handle));
      if (c.st.leEventMask[0] & 0x40)
        c.send(ev.leDataLengthChange(p.handle, Math.min(p.txOctets, MAX_OCTETS), Math.min(p.txTime, MAX_TIME), MAX_OCTETS, MAX_TIME), 'link');
    },
  ],
  [
    OP.LE_CONN_UPDATE,
    (c, p, op) => {
      const link = c.st.links.get(p.handle);
      if (!link) return c.reply(op, UNKNOWN_CONNECTION);
      c.reply(op, SUCCESS);
      link.intervalUnits = p.intervalMax;
      link.timeoutUnits = p.timeout;
      c.send(ev.leConnectionUpdateComplete(p.handle, p.intervalMax, p.latency, p.timeout), 'link');
    },
  ],
  // LL encryption is not modelled (bleno over UART has no LTK path): refuse cleanly.
  [OP.LE_START_ENCRYPTION, (c, _p, op) => c.reply(op, UNSUPPORTED_FEATURE)],
  [OP.LE_LTK_REPLY, (c, p, op) => ret(c, op, (w) => w.u16(p.handle))],
  [OP.LE_LTK_NEG_REPLY, (c, p, op) => ret(c, op, (w) => w.u16(p.handle))],
  [
    OP.VS_WRITE_BD_ADDR,
    (c, p, op) => {
      c.bdAddr = Buffer.from(p.address);
      if (c.st.advertising) syncAdvertising(c);
      cc(c, op);
    },
  ],
]);
