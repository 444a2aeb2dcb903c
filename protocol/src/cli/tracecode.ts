import type { Command } from 'commander';

export function registerTracecode(_program: Command): void {}
