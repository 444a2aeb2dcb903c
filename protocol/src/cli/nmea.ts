import type { Command } from 'commander';

export function registerNmea(_program: Command): void {}
