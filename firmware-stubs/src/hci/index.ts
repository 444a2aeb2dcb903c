export { VirtualController, freshState, type ControllerOptions, type ControllerCounters, type TraceEntry, type Logger } from './controller.ts';
export type { HostLink, HostState, HandlerContext, Handler } from './types.ts';
export { H4Parser, type H4Packet, type H4ParserOptions } from './h4.ts';
export { OP, COMMANDS, commandName, decodeCommand, type CommandSpec } from './commands.ts';
export * as events from './events.ts';
export { HANDLERS, MANUFACTURER, HCI_VERSION, vendorSupported, commandSetOf } from './handlers.ts';
export { LeReader, LeWriter, addrFromString, addrToString } from './le.ts';
export { EnConformance, enServiceData, type EnRule, type EnViolation } from './conformance.ts';
