/**
 * No import cycle between files, type-only imports included (issue #16: each of the four it found came from a
 * type living in an implementation file; such a type goes into the folder's types.ts). A planted cycle, through
 * a relative import and a package subpath, must be found.
 */
import t from 'tap';
// @ts-expect-error: plain JS config module, no types
import { WORKSPACES } from '../../eslint.layers.js';
import { cycles, importGraph } from './import-graph.ts';
import { ROOT } from './source-files.ts';

t.test('the repository has no file-level import cycle', async (t) => {
  const graph = importGraph(ROOT, WORKSPACES as string[]);
  t.ok(graph.size > 300, `${graph.size} files scanned`);
  t.ok(graph.get('device-core/src/radio/hci-radio.ts')?.includes('device-core/src/radio/types.ts'), 'relative imports are edges');
  t.ok(graph.get('device-core/src/radio/hci-radio.ts')?.includes('protocol/src/index.ts'), '@beepkit/<ws> imports are edges');
  t.same(cycles(graph), [], 'cycles (move the shared type into a types.ts)');
});

t.test('a planted cycle is found (type-only, through a package subpath), a lazy import() is not an edge', async (t) => {
  const root = t.testdir({
    ws: {
      'package.json': JSON.stringify({ name: '@planted/ws', exports: { '.': './src/index.ts', './a': './src/a.ts' } }),
      src: {
        'index.ts': "export * from './b.ts';\n",
        'a.ts': "import {\n  type B,\n  make,\n} from './b.ts';\nexport type A = B;\n",
        'b.ts': "import type { A } from '@planted/ws/a';\nexport type B = { a?: A };\nexport const make = 1;\n",
        'c.ts': "export const lazy = () => import('./d.ts');\n",
        'd.ts': "import { lazy } from './c.ts';\nexport const x = lazy;\n",
      },
    },
  });
  t.same(cycles(importGraph(root, ['ws'])), [['ws/src/a.ts', 'ws/src/b.ts']]);
});
