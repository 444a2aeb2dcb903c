/**
 * Guard: every commander option is read by the code of the file that declares
 * it. Each `.option()`/`.requiredOption()` call is traced to its declaring file
 * (the call stack at declaration); the option's attribute name (camelCase, e.g.
 * `ledgerKey`) must occur in that file outside the declaration itself. An option
 * that no code reads is declared but ignored: wire it or delete it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, type Option } from 'commander';

export interface Declared {
  command: string;
  flags: string;
  attribute: string;
  file: string;
}

const HERE = fileURLToPath(import.meta.url);

function callerFile(): string | undefined {
  for (const line of (new Error().stack ?? '').split('\n').slice(1)) {
    const m = /\((.*?):\d+:\d+\)$/.exec(line) ?? /at (.*?):\d+:\d+$/.exec(line);
    if (!m) continue;
    const f = m[1].startsWith('file://') ? fileURLToPath(m[1]) : m[1];
    if (f.includes('node_modules') || f === HERE || f.startsWith('node:')) continue;
    return f;
  }
  return undefined;
}

const path = (c: Command): string => {
  const names: string[] = [];
  for (let x: Command | null = c; x; x = x.parent) names.unshift(x.name());
  return names.join(' ');
};

/** Registers through `register` with declarations traced; returns every option and where it was declared. */
export function declaredOptions(register: (program: Command) => void | Promise<void>): Promise<Declared[]> {
  const proto = Command.prototype as unknown as Record<string, (...a: unknown[]) => Command>;
  const orig = { addOption: proto.addOption };
  const out: Declared[] = [];
  proto.addOption = function (this: Command, option: Option) {
    const file = callerFile();
    if (file) out.push({ command: '', flags: option.flags, attribute: option.attributeName(), file, cmd: this } as Declared & { cmd: Command });
    return orig.addOption.call(this, option);
  } as never;
  const program = new Command('beepkit');
  return Promise.resolve(register(program)).then(
    () => {
      proto.addOption = orig.addOption;
      return out.map((d) => ({ command: path((d as Declared & { cmd: Command }).cmd), flags: d.flags, attribute: d.attribute, file: d.file }));
    },
    (e: unknown) => {
      proto.addOption = orig.addOption;
      throw e;
    },
  );
}

/** The options whose attribute name occurs nowhere in the declaring file but in option declarations. */
export function unreadOptions(decls: Declared[]): Declared[] {
  const cache = new Map<string, string>();
  return decls.filter((d) => {
    let src = cache.get(d.file);
    if (src === undefined) {
      // drop every option declaration line and comments: what is left is the code that could read an option
      src = readFileSync(d.file, 'utf8')
        .split('\n')
        .filter((l) => !/\.(required)?[oO]ption\(\s*['"`]/.test(l) && !/^\s*(\/\/|\*|\/\*)/.test(l))
        .join('\n');
      cache.set(d.file, src);
    }
    return !new RegExp(`\\b${d.attribute}\\b`).test(src);
  });
}
