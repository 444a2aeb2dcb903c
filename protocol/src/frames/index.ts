/** Beacon frame codecs: AD walker, iBeacon, Eddystone, Exposure Notification, beepkit venue frames. */
export * from './ad.ts';
export * from './eddystone.ts';
export * from './venue.ts';
export * from './advert.ts';
export * from './venue-id.ts';
