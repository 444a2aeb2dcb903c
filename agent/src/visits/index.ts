export * from './detector.ts';
