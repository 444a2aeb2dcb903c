/**
 * The system tools the suites and benches drive for real (mosquitto, gpsd,
 * chromium, openssl, tshark): one lookup, one skip rule, one install hint.
 *
 * - `findTool(name)`: the executable on $PATH (each `…/bin` entry also tries its
 *   sibling `…/sbin`, where Debian puts mosquitto and gpsd), else undefined.
 *   Absence is simulated by narrowing PATH.
 * - `missing(name)`: for a tap `{ skip }` option: false when the tool is there,
 *   else the reason, recorded as one JSON line in $BEEPKIT_SKIPS_FILE (set by
 *   `npm test`, scripts/test.mjs, which ends the run with one line naming what
 *   was skipped and the command that installs it; under CI=true it fails the run).
 * - `requireTool(name)`: for benches: the path, or E_TOOL naming the package.
 */
import { accessSync, appendFileSync, constants, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { BeepkitError } from '@beepkit/protocol';

export const TOOLS = {
  mosquitto: { bins: ['mosquitto'], pkg: 'mosquitto' },
  mosquitto_passwd: { bins: ['mosquitto_passwd'], pkg: 'mosquitto' },
  gpsd: { bins: ['gpsd'], pkg: 'gpsd' },
  chromium: { bins: ['chromium', 'chromium-browser'], pkg: 'chromium' },
  openssl: { bins: ['openssl'], pkg: 'openssl' },
  gcc: { bins: ['gcc'], pkg: 'gcc' },
  'pkg-config': { bins: ['pkg-config'], pkg: 'pkg-config' },
  tshark: { bins: ['tshark'], pkg: 'tshark' },
  faketime: { bins: ['faketime'], pkg: 'faketime' },
} as const satisfies Record<string, { bins: readonly string[]; pkg: string }>;
export type Tool = keyof typeof TOOLS;

/** One skipped test (a line of the skips file). */
export interface SkipRecord {
  tool: Tool;
  pkg: string;
  /** The test file or bench that skipped. */
  where: string;
}

function searchDirs(path: string): string[] {
  const out: string[] = [];
  for (const d of path.split(delimiter)) {
    if (!d) continue;
    out.push(d);
    if (d.endsWith('/bin')) out.push(join(dirname(d), 'sbin'));
  }
  return [...new Set(out)];
}

/** Absolute path of `tool` on `env.PATH` (and the sbin next to each bin), or undefined. */
export function findTool(tool: Tool, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of searchDirs(env.PATH ?? '')) {
    for (const bin of TOOLS[tool].bins) {
      const p = join(dir, bin);
      try {
        accessSync(p, constants.X_OK);
        return p;
      } catch {
        /* not here */
      }
    }
  }
  return undefined;
}

/** `apt-get install -y <packages>` for these tools (deduplicated, in order). */
export function installCommand(tools: readonly Tool[]): string {
  return `apt-get install -y ${[...new Set(tools.map((t) => TOOLS[t].pkg))].join(' ')}`;
}

/** Where this process runs from (the test file or bench), for the skip record. */
function where(): string {
  return process.argv.find((a) => /\.(test\.)?[cm]?[jt]s$/.test(a) && !a.includes('node_modules')) ?? process.argv[1] ?? '?';
}

/**
 * false when `tool` is installed; else the skip reason (with its install command),
 * recorded in $BEEPKIT_SKIPS_FILE when set. For `t.test(name, { skip: missing('mosquitto') }, …)`.
 */
export function missing(tool: Tool, env: NodeJS.ProcessEnv = process.env): false | string {
  if (findTool(tool, env)) return false;
  const record: SkipRecord = { tool, pkg: TOOLS[tool].pkg, where: where() };
  if (env.BEEPKIT_SKIPS_FILE) appendFileSync(env.BEEPKIT_SKIPS_FILE, JSON.stringify(record) + '\n');
  return `${tool} not installed (${installCommand([tool])})${env.CI === 'true' ? '; CI=true: this skip fails the run' : ''}`;
}

/** The path of `tool`, or E_TOOL naming the package that provides it (benches: never a silent skip). */
export function requireTool(tool: Tool, what: string, env: NodeJS.ProcessEnv = process.env): string {
  const p = findTool(tool, env);
  if (!p) throw new BeepkitError('E_TOOL', `${what} needs ${tool}, which is not installed: ${installCommand([tool])}`);
  return p;
}

/** The skip records in `file` (missing file: none; bad lines ignored). */
export function readSkips(file: string): SkipRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: SkipRecord[] = [];
  for (const line of text.split('\n')) {
    try {
      const r = JSON.parse(line) as SkipRecord;
      if (r && typeof r.tool === 'string' && r.tool in TOOLS) out.push(r);
    } catch {
      /* partial or blank line */
    }
  }
  return out;
}

/** The one line `npm test` ends with, or undefined when nothing was skipped. */
export function skipSummary(records: readonly SkipRecord[]): string | undefined {
  if (!records.length) return undefined;
  const tools = [...new Set(records.map((r) => r.tool))];
  const files = new Set(records.map((r) => r.where)).size;
  return `skipped for missing tools: ${tools.join(', ')} (${records.length} test(s) in ${files} file(s)) — install: ${installCommand(tools)}`;
}
