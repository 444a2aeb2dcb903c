export * from './geoindex.ts';
export * from './match.ts';
export * from './source.ts';
export * from './state.ts';
export { Solver, type SolverOptions, type SolverStats, type Notice } from './solver.ts';
export { DecryptPool, type DecryptPoolOptions, type OpenedBatch } from './pool.ts';
export { BatchScanner, type BatchLayout } from './scan.ts';
