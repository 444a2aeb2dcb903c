/**
 * The repository's file-level import graph and its cycles (test helper for import-cycles.test.ts).
 *
 * Edges are the static `import … from` / `export … from` / side-effect `import '…'` lines, type-only ones
 * included (a type cycle is still a cycle between files); dynamic `import()` is not an edge (it is how a
 * lazy load is written on purpose). Relative specifiers resolve against the file; `@beepkit/<ws>[/sub]`
 * through the workspace's package.json `exports`; anything else (node:, npm packages) is outside the graph.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { sourceFiles } from './source-files.ts';

export type Graph = Map<string, string[]>;

const IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]/gm;

/** `@beepkit/<name>` → (subpath → file, absolute) for each workspace under `root`. */
function packageExports(root: string, workspaces: string[]): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const ws of workspaces) {
    const pj = join(root, ws, 'package.json');
    if (!existsSync(pj)) continue;
    const { name, exports } = JSON.parse(readFileSync(pj, 'utf8')) as { name?: string; exports?: Record<string, unknown> };
    if (!name || !exports) continue;
    const subs = new Map<string, string>();
    for (const [k, v] of Object.entries(exports)) {
      const target = typeof v === 'string' ? v : ((v as Record<string, unknown>)?.import ?? (v as Record<string, unknown>)?.default);
      if (typeof target === 'string') subs.set(k === '.' ? name : `${name}/${k.slice(2)}`, resolve(root, ws, target));
    }
    out.set(name, subs);
  }
  return out;
}

/** The import graph of every .ts file under `root` (repo-relative paths). */
export function importGraph(root: string, workspaces: string[]): Graph {
  const exportsOf = packageExports(root, workspaces);
  const bySpecifier = new Map<string, string>();
  for (const subs of exportsOf.values()) for (const [s, f] of subs) bySpecifier.set(s, f);
  const graph: Graph = new Map();
  for (const file of sourceFiles(root)) {
    if (!file.endsWith('.ts')) continue;
    const deps = new Set<string>();
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[1];
      const target = spec.startsWith('.') ? resolve(dirname(file), spec) : bySpecifier.get(spec);
      if (target && target.endsWith('.ts')) deps.add(relative(root, target));
    }
    graph.set(relative(root, file), [...deps]);
  }
  return graph;
}

/** The strongly connected components of more than one file (or a file importing itself): Tarjan's algorithm. */
export function cycles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}
