export { FieldTrial, scenarioPath, regionOf, BIN, type DemoOptions, type DemoResult } from './trial.ts';
export {
  parseExpect,
  compareOutcome,
  formatSummary,
  formatDuration,
  type Expectations,
  type TrialOutcome,
  type DeviceOutcome,
  type Comparison,
  type Check,
  type Level,
} from './summary.ts';
export { narrateChange, snapshotOf, clockLabel, nearestVenue, whereText, topLevel, type AgentSnapshot, type Narration, type VenueLike } from './narrate.ts';
export { agentConfig, writeAgentFiles, AgentProcess, type AgentSetup, type AlertLine } from './agents.ts';
export { DiagnosisStep, venueId8, type DiagnosisMark } from './diagnose.ts';
