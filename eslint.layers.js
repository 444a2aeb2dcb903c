// The package graph, one way: protocol → device core (device-core: radio, GNSS, scan, RSSI, visits,
// encounters, outbox, publisher, keys, the MQTT client, the scenario clock, infra) → apps (agent, beacon, wearable, gateway) → sim (firmware-stubs) → HIL (hil-tests) → trial (the demo and its dashboard) and
// bench. Each workspace's src may import only the layers below it, and nothing imports another workspace by relative path
// (name it: @beepkit/<workspace>/<export>). Enforced by `no-restricted-imports` (eslint.config.js);
// protocol/test/layers.test.ts plants a violation per rule and checks that lint fails on it.

export const WORKSPACES = ['protocol', 'device-core', 'agent', 'beacon', 'wearable', 'gateway', 'firmware-stubs', 'hil-tests', 'trial'];

const APPS = ['beacon', 'wearable', 'gateway'];

/** What each workspace's src may import, as @beepkit/ specifiers (a name alone allows its subpaths). */
export const MAY_IMPORT = {
  protocol: [],
  'device-core': ['protocol'],
  agent: ['protocol', 'device-core'],
  beacon: ['protocol', 'device-core'],
  wearable: ['protocol', 'device-core'],
  gateway: ['protocol', 'device-core'],
  'firmware-stubs': ['protocol', 'device-core', 'agent', ...APPS],
  'hil-tests': ['protocol', 'device-core', 'agent', ...APPS, 'firmware-stubs'],
  // the top: the field trial drives agent and wearable children through the HIL suites' drivers
  trial: ['protocol', 'device-core', 'agent', ...APPS, 'firmware-stubs', 'hil-tests'],
};

const describe = (allowed) => (allowed.length ? allowed.map((m) => `@beepkit/${m}`).join(', ') : 'no other workspace');

/** A relative path that climbs into another workspace (from any depth). */
export const relativeAcross = (self) => ({
  regex: `^(\\.\\./)+(${WORKSPACES.filter((w) => w !== self).join('|')})/`,
  message: 'import another workspace by its package name (@beepkit/<workspace>/<export>), not by a relative path',
});

/** An @beepkit import outside what `ws` may import (its own package aside; never a test-only `testing` export). */
export const againstLayers = (ws) => ({
  regex: `^@beepkit/(?!(?:${[ws, ...MAY_IMPORT[ws]].join('|')})(?:$|/(?!testing$)))`,
  message: `against the layers: ${ws}/src may import ${describe(MAY_IMPORT[ws])} (eslint.layers.js; the workspace README)`,
});

const rule = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export const layerConfigs = [
  // tests, fixtures, bench, bin and scripts: any package by name, no relative path into a workspace
  ...WORKSPACES.map((ws) => ({ files: [`${ws}/**/*.ts`], rules: rule([relativeAcross(ws)]) })),
  { files: ['bench/**/*.ts', 'bin/**/*.ts', 'scripts/**/*.ts'], rules: rule([relativeAcross('')]) },
  // production code: the layers as well
  ...WORKSPACES.map((ws) => ({ files: [`${ws}/src/**/*.ts`], rules: rule([relativeAcross(ws), againstLayers(ws)]) })),
];
