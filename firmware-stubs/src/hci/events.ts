/** Pure encoders of controller→host H4 packets (events and ACL). */
import { LeWriter } from './le.ts';

export const EVT_DISCONN_COMPLETE = 0x05;
export const EVT_CMD_COMPLETE = 0x0e;
export const EVT_CMD_STATUS = 0x0f;
export const EVT_NUM_COMPLETED_PACKETS = 0x13;
export const EVT_LE_META = 0x3e;
export const LE_CONN_COMPLETE = 0x01;
export const LE_ADV_REPORT = 0x02;
export const LE_CONN_UPDATE_COMPLETE = 0x03;
export const LE_DATA_LENGTH_CHANGE = 0x07;
export const LE_ENH_CONN_COMPLETE = 0x0a;
export const LE_EXT_ADV_REPORT = 0x0d;

export const STATUS = {
  SUCCESS: 0x00,
  UNKNOWN_COMMAND: 0x01,
  UNKNOWN_CONNECTION: 0x02,
  COMMAND_DISALLOWED: 0x0c,
  UNSUPPORTED_FEATURE: 0x11,
  INVALID_PARAMS: 0x12,
} as const;

/** Num_HCI_Command_Packets in every CC/CS. 1 is one of the three values uart.js accepts for the first Reset. */
export const NUM_CMD_PACKETS = 1;

export function event(code: number, params: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([0x04, code, params.length]), params]);
}

/** Command Complete; `ret` starts with the status byte. */
export function commandComplete(opcode: number, ret: Uint8Array): Buffer {
  return event(EVT_CMD_COMPLETE, new LeWriter().u8(NUM_CMD_PACKETS).u16(opcode).bytes(ret).done());
}

export function commandStatus(opcode: number, status: number): Buffer {
  return event(EVT_CMD_STATUS, new LeWriter().u8(status).u8(NUM_CMD_PACKETS).u16(opcode).done());
}

export function disconnectionComplete(handle: number, reason: number, status = 0): Buffer {
  return event(EVT_DISCONN_COMPLETE, new LeWriter().u8(status).u16(handle).u8(reason).done());
}

export function numberOfCompletedPackets(handle: number, count: number): Buffer {
  return event(EVT_NUM_COMPLETED_PACKETS, new LeWriter().u8(1).u16(handle).u16(count).done());
}

export function leMeta(sub: number, params: Uint8Array): Buffer {
  return event(EVT_LE_META, Buffer.concat([Buffer.from([sub]), params]));
}

export interface ConnCompleteFields {
  status: number;
  handle: number;
  role: number;
  peerAddressType: number;
  peerAddress: Uint8Array;
  intervalUnits: number;
  latency: number;
  timeoutUnits: number;
}

/** LE Connection Complete, or LE Enhanced Connection Complete (zero RPAs) when `enhanced`. */
export function leConnectionComplete(f: ConnCompleteFields, enhanced: boolean): Buffer {
  const w = new LeWriter().u8(f.status).u16(f.handle).u8(f.role).u8(f.peerAddressType).bytes(f.peerAddress);
  if (enhanced) w.zeros(12);
  w.u16(f.intervalUnits).u16(f.latency).u16(f.timeoutUnits).u8(0);
  return leMeta(enhanced ? LE_ENH_CONN_COMPLETE : LE_CONN_COMPLETE, w.done());
}

export interface ReportFields {
  type: number;
  addressType: number;
  address: Uint8Array;
  data: Uint8Array;
  rssi: number;
}

/** One legacy report per event (noble's multi-report parsing is not spec-conformant). */
export function leAdvertisingReport(r: ReportFields): Buffer {
  return leMeta(LE_ADV_REPORT, new LeWriter().u8(1).u8(r.type).u8(r.addressType).bytes(r.address).u8(r.data.length).bytes(r.data).i8(r.rssi).done());
}

/** Extended report event type of a legacy PDU (bit 4 = legacy). */
export function extEventType(type: number, scanRspTo?: number): number {
  switch (type) {
    case 0x00:
      return 0x13; // ADV_IND: connectable, scannable, legacy
    case 0x01:
      return 0x15; // ADV_DIRECT_IND
    case 0x02:
      return 0x12; // ADV_SCAN_IND
    case 0x03:
      return 0x10; // ADV_NONCONN_IND
    default:
      return scanRspTo === 0x02 ? 0x1a : 0x1b; // SCAN_RSP to ADV_SCAN_IND / ADV_IND
  }
}

export function leExtendedAdvertisingReport(r: ReportFields & { scanRspTo?: number; txPower?: number }): Buffer {
  const w = new LeWriter()
    .u8(1)
    .u16(extEventType(r.type, r.scanRspTo))
    .u8(r.addressType)
    .bytes(r.address)
    .u8(0x01) // primary PHY 1M
    .u8(0x00) // no secondary PHY (legacy)
    .u8(0xff) // no ADI / SID
    .u8(0x7f) // TX power n/a
    .i8(r.rssi)
    .u16(0) // no periodic advertising
    .u8(0)
    .zeros(6)
    .u8(r.data.length)
    .bytes(r.data);
  return leMeta(LE_EXT_ADV_REPORT, w.done());
}

export function leDataLengthChange(handle: number, txOctets: number, txTime: number, rxOctets: number, rxTime: number): Buffer {
  return leMeta(LE_DATA_LENGTH_CHANGE, new LeWriter().u16(handle).u16(txOctets).u16(txTime).u16(rxOctets).u16(rxTime).done());
}

export function leConnectionUpdateComplete(handle: number, intervalUnits: number, latency: number, timeoutUnits: number): Buffer {
  return leMeta(LE_CONN_UPDATE_COMPLETE, new LeWriter().u8(0).u16(handle).u16(intervalUnits).u16(latency).u16(timeoutUnits).done());
}

/** An ACL packet to the host; `pb` must be 0b10 (first, flushable) or 0b01. */
export function aclPacket(handle: number, pb: number, data: Uint8Array): Buffer {
  return Buffer.concat([
    new LeWriter()
      .u8(0x02)
      .u16((handle & 0x0fff) | (pb << 12))
      .u16(data.length)
      .done(),
    data,
  ]);
}

const EVENT_NAMES: Record<number, string> = {
  [EVT_DISCONN_COMPLETE]: 'DISCONNECTION_COMPLETE',
  [EVT_CMD_COMPLETE]: 'COMMAND_COMPLETE',
  [EVT_CMD_STATUS]: 'COMMAND_STATUS',
  [EVT_NUM_COMPLETED_PACKETS]: 'NUMBER_OF_COMPLETED_PACKETS',
};
const LE_NAMES: Record<number, string> = {
  [LE_CONN_COMPLETE]: 'LE_CONNECTION_COMPLETE',
  [LE_ADV_REPORT]: 'LE_ADVERTISING_REPORT',
  [LE_CONN_UPDATE_COMPLETE]: 'LE_CONNECTION_UPDATE_COMPLETE',
  [LE_DATA_LENGTH_CHANGE]: 'LE_DATA_LENGTH_CHANGE',
  [LE_ENH_CONN_COMPLETE]: 'LE_ENHANCED_CONNECTION_COMPLETE',
  [LE_EXT_ADV_REPORT]: 'LE_EXTENDED_ADVERTISING_REPORT',
};

/** Human name of an encoded H4 packet, for traces. */
export function packetName(pkt: Uint8Array): string {
  if (pkt[0] === 0x02) return 'ACL';
  if (pkt[1] === EVT_LE_META) return LE_NAMES[pkt[3]] ?? `LE_META_0x${pkt[3].toString(16)}`;
  return EVENT_NAMES[pkt[1]] ?? `EVENT_0x${pkt[1].toString(16)}`;
}
