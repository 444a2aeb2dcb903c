import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { layerConfigs } from './eslint.layers.js';

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'bench/results/**', '**/dist/**', '**/*.js', '!eslint.config.js', '!eslint.layers.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-throw-literal': 'error',
      // one clock through the system: time comes from an injected now(), wired by the apps
      // from the host clock (protocol/src/clock.ts) or a scenario clock (firmware-stubs/src/sim/clock.ts, agent/src/time/scenario-clock.ts)
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'read time through an injected now() (protocol/src/clock.ts hostNow for the host clock)' }],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'new Date() reads the host clock: use new Date(now()) with an injected now() (protocol/src/clock.ts)' }],
    },
  },
  {
    // the clock modules: the only readers of the host clock
    files: ['protocol/src/clock.ts', 'firmware-stubs/src/sim/clock.ts'],
    rules: { 'no-restricted-properties': 'off', 'no-restricted-syntax': 'off' },
  },
  // the package graph (eslint.layers.js)
  ...layerConfigs,
);
