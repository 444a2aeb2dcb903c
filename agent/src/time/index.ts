export { TimeKeeper, BUILD_DATE_MS, type TimeKeeperOptions, type TimeProbes, type TimeSource, type TimeStatus } from './keeper.ts';
export { TimeBacklog } from './backlog.ts';
export { systemTimeProbes } from './probes.ts';
export { ControlApiClock, clockFromSpec } from '@beepkit/device-core/clock';
