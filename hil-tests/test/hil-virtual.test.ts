import t from 'tap';
import { CI_SUITES, runHil } from './hil-helpers.ts';

// the whole file runs longer than the default per-file timeout
t.setTimeout(900_000);

t.test('npm run hil on the virtual rig passes the CI-facing suites', { timeout: 900_000 }, async (t) => {
  const { code, out } = await runHil(
    CI_SUITES.flatMap((s) => ['--suite', s]),
    840_000,
  );
  t.comment(
    out
      .split('\n')
      .filter((l) => /^suite |FAIL|skip|summary|passed,/.test(l))
      .join('\n'),
  );
  const summary = out.trim().split('\n').at(-1) ?? '';
  t.match(summary, /^\d+ passed, 0 failed, \d+ skipped$/, 'summary line, nothing failed');
  t.equal(code, 0, 'exit 0');
  for (const s of ['sensing', 'trust', 'uplink', 'notification', 'carer', 'en-conformance']) t.match(out, new RegExp(`suite ${s}: PASSED`), `${s} passed`);
});
