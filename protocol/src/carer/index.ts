/**
 * The carer channel between a carer's agent and an elder wearable (issue 8): the
 * pairing wire format, the handshake and secure channel, the encounters it carries,
 * and the message link both sides drive. Pure: no radio, no files.
 */
export * from './messages.ts';
export * from './handshake.ts';
export * from './encounter-wire.ts';
export * from './link.ts';
