// CLI manners: a usage error is the error and one line naming the command's --help (never the
// whole help), exit code 2; every command's --help ends with two or three examples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.ts';
import { runCli } from '../support/cli.ts';

test('a usage error prints the error and one line pointing at --help', async () => {
  const cases: [string[], RegExp, string][] = [
    [['recommend', '--bogus'], /^metallmix: unknown option '--bogus'$/, 'metallmix recommend'],
    [
      ['recommend', '--top-k', 'x'],
      /argument 'x' is invalid\. "x" is not an integer\.$/,
      'metallmix recommend',
    ],
    [['frob'], /^metallmix: unknown command 'frob'$/, 'metallmix'],
    [['kb', 'stats', '--x'], /^metallmix: unknown option '--x'$/, 'metallmix kb stats'],
    [['gbdt', 'train'], /required option '--data <file>' not specified$/, 'metallmix gbdt train'],
    [['models', '--max-params', 'lots'], /"lots" is not a parameter count/, 'metallmix models'],
  ];
  for (const [args, error, command] of cases) {
    const r = await runCli(...args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.out, '');
    const lines = r.err.trimEnd().split('\n');
    assert.equal(lines.length, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(lines[0], error);
    assert.equal(lines[1], `Run \`${command} --help\` for its options and examples.`);
  }
});

function commands(cmd: Command, path: string[] = []): string[][] {
  const here = [...path, cmd.name()];
  return [here, ...cmd.commands.flatMap((c) => commands(c, here))];
}

test("every command's --help ends with two or three examples", async () => {
  const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: {} };
  const all = commands(buildProgram(io)).map((p) => p.slice(1));
  assert.ok(all.length >= 12, `commands found: ${all.map((p) => p.join(' ')).join(', ')}`);
  for (const path of all) {
    const r = await runCli(...path, '--help');
    assert.equal(r.code, 0, path.join(' '));
    const blocks = r.out.trimEnd().split('\nExamples:\n');
    assert.equal(blocks.length, 2, `metallmix ${path.join(' ')} --help has one Examples block`);
    const examples = blocks[1].split('\n');
    assert.ok(
      examples.length >= 2 && examples.length <= 3,
      `${path.join(' ')}: ${examples.length} examples`,
    );
    for (const e of examples) assert.match(e, new RegExp(`^  \\$ metallmix ${path.join(' ')}`));
  }
});
