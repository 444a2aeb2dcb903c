/** The device side's MQTT client (agents, the beacon's registration, the gateway's ops client): the one module of the device core that imports mqtt. */
export * from './client.ts';
