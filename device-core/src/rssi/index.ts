export * from './filters.ts';
export * from './distance.ts';
export * from './calibration.ts';
export * from './synthetic.ts';
export * from './models.ts';
