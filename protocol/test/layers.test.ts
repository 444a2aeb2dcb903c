/**
 * The package graph (eslint.layers.js): protocol → device core (device-core) → apps →
 * sim → trial/HIL and bench. Lint must fail on a planted import against the layers or a relative
 * import across workspaces, and pass the same imports where the layers allow them; and each
 * workspace's package.json must declare the @beepkit packages its code imports, within its layers.
 */
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
// @ts-expect-error: plain JS config module, no types
import { MAY_IMPORT, WORKSPACES } from '../../eslint.layers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const mayImport = MAY_IMPORT as Record<string, string[]>;
const workspaces = WORKSPACES as string[];

/** The no-restricted-imports messages lint gives `code` as if it were the file `file` (repo-relative). */
async function layerErrors(eslint: ESLint, file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: join(root, file) });
  return r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

t.test('lint fails on planted imports against the layers, passes allowed ones', async (t) => {
  const eslint = new ESLint({ cwd: root });
  const planted: [file: string, code: string, why: string][] = [
    ['agent/src/planted.ts', "import { decodeBlock } from '@beepkit/gateway/ledger';\n", 'device code imports the gateway'],
    ['agent/src/planted.ts', "import type { Sim } from '@beepkit/firmware-stubs/sim';\n", 'production code imports the simulator (type-only)'],
    ['agent/src/planted.ts', "export { Host } from '@beepkit/firmware-stubs/testing';\n", 're-export from a test fixture'],
    ['protocol/src/planted.ts', "import { HciRadio } from '@beepkit/device-core/radio';\n", 'protocol imports a device'],
    ['device-core/src/planted.ts', "import { Agent } from '@beepkit/agent/app';\n", 'the device core imports the agent app'],
    ['device-core/src/planted.ts', "import type { TimeKeeper } from '@beepkit/agent/time';\n", 'the device core imports the agent library (type-only)'],
    ['gateway/src/planted.ts', "import { AgentMqtt } from '@beepkit/agent/mqtt';\n", 'an app imports another app (the agent)'],
    ['beacon/src/planted.ts', "import { silentLogger } from '@beepkit/agent/alerts';\n", 'an app imports another app (the agent)'],
    ['device-core/src/planted.ts', "import { Beacon } from '@beepkit/beacon';\n", 'the device core imports an app'],
    ['device-core/src/planted.ts', "import { heard } from '@beepkit/device-core/testing';\n", 'the device core imports its own test fixture'],
    [
      'device-core/src/radio/planted.ts',
      "import { silentLogger } from '../../../agent/src/alerts/logger.ts';\n",
      'the device core imports the agent by relative path',
    ],
    ['wearable/src/planted.ts', "import { RadioRunner } from '@beepkit/agent/radio-runner';\n", 'an app imports a device-core module through the agent (gone)'],
    ['wearable/src/planted.ts', "import { Agent } from '@beepkit/agent/app';\n", 'an app imports the agent app'],
    ['wearable/src/planted.ts', "import { Agent } from '@beepkit/agent';\n", 'an app imports the agent app (bare)'],
    ['beacon/src/planted.ts', "import { GatewayMqtt } from '@beepkit/gateway/mqtt';\n", 'an app imports another app'],
    ['gateway/src/planted.ts', "import { Sim } from '@beepkit/firmware-stubs/sim';\n", 'the gateway imports the simulator'],
    ['firmware-stubs/src/planted.ts', "import { FieldTrial } from '@beepkit/trial/demo';\n", 'the sim imports the trial'],
    ['hil-tests/src/planted.ts', "import { Pseudonym } from '@beepkit/gateway/testing';\n", 'production code imports a test fixture'],
    ['hil-tests/src/planted.ts', "import { FieldTrial } from '@beepkit/trial/demo';\n", 'the HIL suites import the trial'],
    ['gateway/src/app/planted.ts', "import { Outbox } from '../../../device-core/src/outbox/index.ts';\n", 'relative import across workspaces (src)'],
    ['agent/test/planted.test.ts', "import { Host } from '../../firmware-stubs/test/fixtures/child.ts';\n", 'relative import across workspaces (test)'],
    ['bench/planted.ts', "import { ScanPipeline } from '../device-core/src/scan/index.ts';\n", 'bench imports a workspace by relative path'],
  ];
  for (const [file, code, why] of planted) {
    const errors = await layerErrors(eslint, file, code);
    t.equal(errors.length, 1, `${why}: ${file}: ${code.trim()} → ${errors[0] ?? 'no error'}`);
  }
  const allowed: [file: string, code: string][] = [
    ['agent/src/planted.ts', "import { decodeBlock } from '@beepkit/protocol/ledger';\nimport { x } from '../radio/index.ts';\n"],
    ['device-core/src/planted.ts', "import { decodeBlock } from '@beepkit/protocol/ledger';\nimport { x } from '../radio/index.ts';\n"],
    ['agent/src/planted.ts', "import { HciRadio } from '@beepkit/device-core/radio';\nimport { writeFileAtomic } from '@beepkit/device-core/infra/files';\n"],
    ['wearable/src/planted.ts', "import { HciRadio } from '@beepkit/device-core/radio';\nimport { RadioRunner } from '@beepkit/device-core/radio-runner';\n"],
    ['gateway/src/planted.ts', "import { AgentMqtt } from '@beepkit/device-core/mqtt';\nimport { x } from '@beepkit/gateway/ledger';\n"],
    ['hil-tests/src/planted.ts', "import { Gateway } from '@beepkit/gateway/app';\nimport { Sim } from '@beepkit/firmware-stubs/sim';\n"],
    ['trial/src/planted.ts', "import { spawnAgentChild } from '@beepkit/hil-tests/agent-child';\nimport { Sim } from '@beepkit/firmware-stubs/sim';\n"],
    ['agent/test/planted.test.ts', "import { Host } from '@beepkit/firmware-stubs/testing';\nimport { EmbeddedLedger } from '@beepkit/gateway/ledger';\n"],
    ['bench/planted.ts', "import { ScanPipeline } from '@beepkit/device-core/scan';\nimport { requireTool } from '../scripts/tools.ts';\n"],
  ];
  for (const [file, code] of allowed) t.same(await layerErrors(eslint, file, code), [], `allowed: ${file}: ${code.trim().replace(/\n/g, ' ')}`);
});

function tsFiles(dir: string): string[] {
  let out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (e === 'node_modules') continue;
    if (statSync(p).isDirectory()) out = out.concat(tsFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The @beepkit packages (other than `self`) that the .ts files under `dir` name. */
function namedPackages(dir: string, self: string): Set<string> {
  const found = new Set<string>();
  for (const f of tsFiles(dir)) {
    if (f === fileURLToPath(import.meta.url)) continue; // this file's planted imports
    for (const m of readFileSync(f, 'utf8').matchAll(/['"]@beepkit\/([a-z-]+)/g)) if (m[1] !== self) found.add(m[1]);
  }
  return found;
}

t.test('each package.json declares the @beepkit packages its code imports, within its layers', async (t) => {
  for (const ws of workspaces) {
    const pkg = JSON.parse(readFileSync(join(root, ws, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    const deps = Object.keys(pkg.dependencies ?? {})
      .filter((d) => d.startsWith('@beepkit/'))
      .map((d) => d.slice(9));
    const dev = Object.keys(pkg.devDependencies ?? {})
      .filter((d) => d.startsWith('@beepkit/'))
      .map((d) => d.slice(9));
    const layers = new Set(mayImport[ws].map((m) => m.split('/')[0]));
    t.same(
      deps.filter((d) => !layers.has(d)),
      [],
      `${ws}: dependencies within its layers`,
    );
    const src = namedPackages(join(root, ws, 'src'), ws);
    t.same([...src].filter((d) => !deps.includes(d)).sort(), [], `${ws}: src imports only declared dependencies`);
    t.same(deps.filter((d) => !src.has(d)).sort(), [], `${ws}: no unused @beepkit dependency`);
    const test = namedPackages(join(root, ws, 'test'), ws);
    t.same([...test].filter((d) => !deps.includes(d) && !dev.includes(d)).sort(), [], `${ws}: tests import only declared (dev)dependencies`);
  }
});
