export * from './types.ts';
export * from './binding.ts';
export * from './en-advert.ts';
export * from './hci-radio.ts';
