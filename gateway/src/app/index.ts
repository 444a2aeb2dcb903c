/** The gateway application: config, service, metrics. */
export * from './config.ts';
export * from './gateway.ts';
export * from './clock.ts';
export { Telemetry } from './telemetry.ts';
export { runGateway } from './cli.ts';
export { GATEWAY_ENV, gatewayProcessEnv, withTunables } from './process-env.ts';
export { addDevice, listDevices, revokeDevice, readPasswordFile, type DeviceCredentials } from './devices.ts';
