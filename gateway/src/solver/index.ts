export * from './geoindex.ts';
export * from './match.ts';
export * from './source.ts';
export * from './state.ts';
export { Solver, type SolverOptions, type SolverStats, type Notice } from './solver.ts';
