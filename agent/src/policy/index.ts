export * from './decide.ts';
export * from './sysfs.ts';
