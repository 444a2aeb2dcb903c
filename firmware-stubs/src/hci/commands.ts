/**
 * Pure decoders of the HCI commands noble 2.8 and bleno 0.12 send, keyed by
 * opcode (OGF<<10 | OCF). Each decoder consumes exactly the parameters of its
 * command and throws only BeepkitError (E_TRUNCATED / E_TRAILING).
 */
import { LeReader } from './le.ts';

export { OP } from '@beepkit/protocol/hci';
import { OP } from '@beepkit/protocol/hci';

export interface AdvParams {
  intervalMin: number;
  intervalMax: number;
  type: number;
  ownAddressType: number;
  channelMap: number;
}
export interface ScanParams {
  active: boolean;
  interval: number;
  window: number;
  ownAddressType: number;
}
export interface CreateConnParams {
  scanInterval: number;
  scanWindow: number;
  peerAddressType: number;
  peerAddress: Buffer;
  ownAddressType: number;
  intervalMax: number;
  latency: number;
  timeout: number;
}

export interface CommandSpec {
  name: string;
  decode(r: LeReader): any;
}

const none = (): Record<string, never> => ({});
const handleOnly = (r: LeReader) => ({ handle: r.u16('handle') & 0x0fff });
const data31 = (r: LeReader) => {
  const len = r.u8('length');
  const all = r.bytes(31, 'data');
  return { data: all.subarray(0, Math.min(len, 31)), bad: len > 31 };
};
/** Conn_Interval_Min/Max, Max_Latency, Supervision_Timeout, Min/Max_CE_Length (shared by 0x200D and 0x2043). */
const connTiming = (r: LeReader) => {
  r.u16('intervalMin');
  const t = { intervalMax: r.u16('intervalMax'), latency: r.u16('latency'), timeout: r.u16('timeout') };
  r.u16('minCe');
  r.u16('maxCe');
  return t;
};
const phyCount = (phys: number) => (phys & 1 ? 1 : 0) + (phys & 2 ? 1 : 0) + (phys & 4 ? 1 : 0);

export const COMMANDS = new Map<number, CommandSpec>([
  [OP.DISCONNECT, { name: 'DISCONNECT', decode: (r) => ({ handle: r.u16('handle') & 0x0fff, reason: r.u8('reason') }) }],
  [OP.SET_EVENT_MASK, { name: 'SET_EVENT_MASK', decode: (r) => ({ mask: r.bytes(8, 'mask') }) }],
  [OP.RESET, { name: 'RESET', decode: none }],
  [OP.SET_EVENT_FILTER, { name: 'SET_EVENT_FILTER', decode: (r) => ({ filter: r.bytes(r.buf.length, 'filter') }) }],
  [OP.READ_LE_HOST_SUPPORTED, { name: 'READ_LE_HOST_SUPPORTED', decode: none }],
  [OP.WRITE_LE_HOST_SUPPORTED, { name: 'WRITE_LE_HOST_SUPPORTED', decode: (r) => ({ le: r.u8('le'), simul: r.u8('simul') }) }],
  [OP.READ_LOCAL_VERSION, { name: 'READ_LOCAL_VERSION', decode: none }],
  [OP.READ_LOCAL_COMMANDS, { name: 'READ_LOCAL_COMMANDS', decode: none }],
  [OP.READ_LOCAL_FEATURES, { name: 'READ_LOCAL_FEATURES', decode: none }],
  [OP.READ_BUFFER_SIZE, { name: 'READ_BUFFER_SIZE', decode: none }],
  [OP.READ_BD_ADDR, { name: 'READ_BD_ADDR', decode: none }],
  [OP.READ_RSSI, { name: 'READ_RSSI', decode: handleOnly }],
  [OP.LE_SET_EVENT_MASK, { name: 'LE_SET_EVENT_MASK', decode: (r) => ({ mask: r.bytes(8, 'mask') }) }],
  [OP.LE_READ_BUFFER_SIZE, { name: 'LE_READ_BUFFER_SIZE', decode: none }],
  [OP.LE_READ_LOCAL_FEATURES, { name: 'LE_READ_LOCAL_FEATURES', decode: none }],
  [OP.LE_SET_RANDOM_ADDRESS, { name: 'LE_SET_RANDOM_ADDRESS', decode: (r) => ({ address: r.bytes(6, 'address') }) }],
  [
    OP.LE_SET_ADV_PARAMS,
    {
      name: 'LE_SET_ADV_PARAMS',
      decode: (r): AdvParams => {
        const p = { intervalMin: r.u16('intervalMin'), intervalMax: r.u16('intervalMax'), type: r.u8('type'), ownAddressType: r.u8('ownAddressType') };
        r.u8('peerAddressType');
        r.bytes(6, 'peerAddress');
        const channelMap = r.u8('channelMap');
        r.u8('filterPolicy');
        return { ...p, channelMap };
      },
    },
  ],
  [OP.LE_READ_ADV_TX_POWER, { name: 'LE_READ_ADV_TX_POWER', decode: none }],
  [OP.LE_SET_ADV_DATA, { name: 'LE_SET_ADV_DATA', decode: data31 }],
  [OP.LE_SET_SCAN_RSP_DATA, { name: 'LE_SET_SCAN_RSP_DATA', decode: data31 }],
  [OP.LE_SET_ADV_ENABLE, { name: 'LE_SET_ADV_ENABLE', decode: (r) => ({ enable: r.u8('enable') === 1 }) }],
  [
    OP.LE_SET_SCAN_PARAMS,
    {
      name: 'LE_SET_SCAN_PARAMS',
      decode: (r): ScanParams => {
        const p = { active: r.u8('type') === 1, interval: r.u16('interval'), window: r.u16('window'), ownAddressType: r.u8('ownAddressType') };
        r.u8('filterPolicy');
        return p;
      },
    },
  ],
  [OP.LE_SET_SCAN_ENABLE, { name: 'LE_SET_SCAN_ENABLE', decode: (r) => ({ enable: r.u8('enable') === 1, filterDup: r.u8('filterDup') === 1 }) }],
  [
    OP.LE_CREATE_CONN,
    {
      name: 'LE_CREATE_CONN',
      decode: (r): CreateConnParams => {
        const scanInterval = r.u16('scanInterval');
        const scanWindow = r.u16('scanWindow');
        r.u8('filterPolicy');
        const peerAddressType = r.u8('peerAddressType');
        const peerAddress = r.bytes(6, 'peerAddress');
        const ownAddressType = r.u8('ownAddressType');
        return { scanInterval, scanWindow, peerAddressType, peerAddress, ownAddressType, ...connTiming(r) };
      },
    },
  ],
  [OP.LE_CREATE_CONN_CANCEL, { name: 'LE_CREATE_CONN_CANCEL', decode: none }],
  [
    OP.LE_CONN_UPDATE,
    {
      name: 'LE_CONN_UPDATE',
      decode: (r) => {
        const handle = r.u16('handle') & 0x0fff;
        r.u16('intervalMin');
        const p = { handle, intervalMax: r.u16('intervalMax'), latency: r.u16('latency'), timeout: r.u16('timeout') };
        r.u16('minCe');
        r.u16('maxCe');
        return p;
      },
    },
  ],
  [OP.LE_START_ENCRYPTION, { name: 'LE_START_ENCRYPTION', decode: (r) => ({ handle: r.u16('handle') & 0x0fff, rest: r.bytes(26, 'rand/ediv/ltk') }) }],
  [OP.LE_LTK_REPLY, { name: 'LE_LTK_REPLY', decode: (r) => ({ handle: r.u16('handle') & 0x0fff, ltk: r.bytes(16, 'ltk') }) }],
  [OP.LE_LTK_NEG_REPLY, { name: 'LE_LTK_NEG_REPLY', decode: handleOnly }],
  [OP.LE_READ_SUPPORTED_STATES, { name: 'LE_READ_SUPPORTED_STATES', decode: none }],
  [
    OP.LE_SET_DATA_LENGTH,
    { name: 'LE_SET_DATA_LENGTH', decode: (r) => ({ handle: r.u16('handle') & 0x0fff, txOctets: r.u16('txOctets'), txTime: r.u16('txTime') }) },
  ],
  [OP.LE_READ_MAX_DATA_LENGTH, { name: 'LE_READ_MAX_DATA_LENGTH', decode: none }],
  [OP.LE_SET_DEFAULT_PHY, { name: 'LE_SET_DEFAULT_PHY', decode: (r) => ({ allPhys: r.u8('allPhys'), tx: r.u8('txPhys'), rx: r.u8('rxPhys') }) }],
  [
    OP.LE_SET_EXT_SCAN_PARAMS,
    {
      name: 'LE_SET_EXT_SCAN_PARAMS',
      decode: (r): ScanParams => {
        const ownAddressType = r.u8('ownAddressType');
        r.u8('filterPolicy');
        const phys = r.u8('phys');
        const n = phyCount(phys);
        let first: ScanParams | undefined;
        for (let i = 0; i < n; i++) {
          const p = { active: r.u8('type') === 1, interval: r.u16('interval'), window: r.u16('window'), ownAddressType };
          first ??= p;
        }
        return first ?? { active: false, interval: 0x10, window: 0x10, ownAddressType };
      },
    },
  ],
  [
    OP.LE_SET_EXT_SCAN_ENABLE,
    {
      name: 'LE_SET_EXT_SCAN_ENABLE',
      decode: (r) => {
        const p = { enable: r.u8('enable') === 1, filterDup: r.u8('filterDup') !== 0 };
        r.u16('duration');
        r.u16('period');
        return p;
      },
    },
  ],
  [
    OP.LE_EXT_CREATE_CONN,
    {
      name: 'LE_EXT_CREATE_CONN',
      decode: (r): CreateConnParams => {
        r.u8('filterPolicy');
        const ownAddressType = r.u8('ownAddressType');
        const peerAddressType = r.u8('peerAddressType');
        const peerAddress = r.bytes(6, 'peerAddress');
        const n = phyCount(r.u8('phys'));
        let first: CreateConnParams | undefined;
        for (let i = 0; i < n; i++) {
          const scanInterval = r.u16('scanInterval');
          const scanWindow = r.u16('scanWindow');
          const timing = connTiming(r);
          first ??= { scanInterval, scanWindow, peerAddressType, peerAddress, ownAddressType, ...timing };
        }
        return first ?? { scanInterval: 0x60, scanWindow: 0x60, peerAddressType, peerAddress, ownAddressType, intervalMax: 0x18, latency: 0, timeout: 0x2a };
      },
    },
  ],
  [OP.VS_WRITE_BD_ADDR, { name: 'VS_WRITE_BD_ADDR', decode: (r) => ({ address: r.bytes(6, 'address') }) }],
]);

export function commandName(opcode: number): string {
  return COMMANDS.get(opcode)?.name ?? `UNKNOWN_0x${opcode.toString(16).padStart(4, '0')}`;
}

/** Decodes the parameters of a known command; throws BeepkitError on a length mismatch. */
export function decodeCommand(opcode: number, params: Buffer): { name: string; params: any } | undefined {
  const spec = COMMANDS.get(opcode);
  if (!spec) return undefined;
  const r = new LeReader(params, spec.name);
  const p = spec.decode(r);
  r.end();
  return { name: spec.name, params: p };
}
