/** Guard: every option of every `beepkit` command is read by its code (a declared-but-ignored option fails here). */
import t from 'tap';
import { WORKSPACE_CLIS } from '../../bin/cli.ts';
import { declaredOptions, unreadOptions } from './cli-option-guard.ts';
import { registerPlanted } from './fixtures/planted-cli.ts';

/**
 * The check is per declaring file: an option name read by another command of the same file passes
 * (wearable status / revoke-carer --label/--uart/--hci, issue 22 item 5, are in a file another engineer is reworking).
 */
const KNOWN: ReadonlySet<string> = new Set<string>();

t.test('every commander option is read by the code that declares it', async (t) => {
  const decls = await declaredOptions(async (program) => {
    for (const load of Object.values(WORKSPACE_CLIS)) (await load()).register?.(program);
  });
  t.ok(decls.length > 100, `${decls.length} options declared`);
  const unread = unreadOptions(decls).filter((d) => !KNOWN.has(`${d.command} ${d.flags}`));
  t.same(
    unread.map((d) => `${d.command} ${d.flags} (${d.file.split('/').slice(-3).join('/')})`),
    [],
    'no option is declared but ignored',
  );
});

t.test('the guard catches a planted unread option', async (t) => {
  const decls = await declaredOptions(registerPlanted);
  t.same(
    unreadOptions(decls).map((d) => `${d.command} ${d.flags}`),
    ['beepkit planted --ignored <x>'],
  );
});
