// Issue 11's bad-input suite: each case of test/hardening/cases.ts runs the CLI on hostile input
// built in a temp dir and must end with its exit code and a message naming file, line, field and
// reason, without a stack trace, with every watched file byte for byte as before. The table of
// outcomes is printed as diagnostics (and by bench/bad-input-table.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CASES, excerpt, runCase, type CaseOutcome } from './cases.ts';

const outcomes: CaseOutcome[] = [];

for (const c of CASES)
  test(`${c.id}: ${c.title}`, { timeout: 120_000 }, async (t) => {
    const o = await runCase(c);
    outcomes.push(o);
    if (o.skipped) return t.skip(o.skipped);
    assert.equal(
      o.problem,
      undefined,
      `${o.problem}\n--- stderr\n${o.err}\n--- stdout\n${o.out.slice(0, 2000)}`,
    );
  });

test('the table of cases', (t) => {
  for (const o of outcomes)
    t.diagnostic(
      `${o.case.id} | exit ${o.skipped ? '-' : o.code} | ${o.skipped ? `skipped: ${o.skipped}` : excerpt(o)} | ${o.intact ? 'intact' : 'CHANGED'}`,
    );
});
