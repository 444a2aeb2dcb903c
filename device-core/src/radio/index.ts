export * from './types.ts';
export * from './binding.ts';
export * from './en-advert.ts';
export * from './hci-radio.ts';
export * from './bleno-port.ts';
export * from './btsnoop.ts';
export * from './memory-radio.ts';
export { GattCentral, withTimeout, type GattCentralOptions, type SharedNoble } from './gatt-central.ts';
