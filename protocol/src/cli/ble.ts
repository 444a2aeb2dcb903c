import type { Command } from 'commander';

export function registerBle(_program: Command): void {}
