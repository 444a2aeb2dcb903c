export * from './detector.ts';
export { loadVisits, saveVisits } from './file.ts';
