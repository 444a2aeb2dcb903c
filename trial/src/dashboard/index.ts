export { DashboardServer, type DashboardOptions, type Logger } from './server.ts';
export {
  validateEvent,
  scenarioEvent,
  EVENT_TYPES,
  type DashboardEvent,
  type EventType,
  type Stamped,
  type ScenarioLike,
  type VenueView,
  type Role,
  type VenueState,
  type TrustState,
  type AlertLevel,
} from './events.ts';
export { DashboardState, DEFAULT_LIMITS, Ring, LruMap, type DashboardLimits, type Snapshot, type RssiSample } from './state.ts';
