// Prints the table of the bad-input suite (test/hardening/cases.ts): for every case the exit
// code, the message's first line and whether the watched files stayed byte for byte the same.
// Usage: node --import tsx bench/bad-input-table.ts > bad-input-table.md
import { CASES, excerpt, runCase } from '../test/hardening/cases.ts';

const rows: string[] = [
  '| case | from | exit | message (excerpt) | data intact | verdict |',
  '|---|---|---|---|---|---|',
];
let failed = 0;
for (const c of CASES) {
  const o = await runCase(c);
  if (o.problem) failed++;
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  rows.push(
    `| ${c.id}: ${cell(c.title)} | ${c.fromIssue ? 'issue' : 'added'} | ${o.skipped ? '-' : o.code} | ${o.skipped ? `skipped: ${o.skipped}` : `\`${cell(excerpt(o))}\``} | ${o.intact ? 'yes' : 'NO'} | ${o.skipped ? 'skipped' : o.problem ? `FAIL: ${cell(o.problem)}` : 'ok'} |`,
  );
}
process.stdout.write(`${rows.join('\n')}\n\n${CASES.length} cases, ${failed} failed\n`);
process.exitCode = failed ? 1 : 0;
