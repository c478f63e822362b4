// Command templates: which templates run without a shell, which under /bin/sh, what is refused,
// the check against the search space, and hostile values that must reach the command as the
// very same strings, run for real both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { MetallmixError, type SearchSpace } from '../../src/core/index.ts';
import {
  checkTemplate,
  commandText,
  parseTemplate,
  renderTemplate,
  shQuote,
  type TemplateValues,
} from '../../src/run/index.ts';
import { HOSTILE, PYTHON, echoScript, tempDir } from './helpers.ts';

const SPACE: SearchSpace = {
  parameters: [
    { name: 'lr', type: 'float', low: 1e-4, high: 0.1, log: true },
    { name: 'optimizer', type: 'categorical', choices: ['adam', 'sgd'] },
    {
      name: 'momentum',
      type: 'float',
      low: 0.5,
      high: 0.99,
      log: false,
      condition: { parent: 'optimizer', values: ['sgd'] },
    },
  ],
};

const values = (over: Partial<TemplateValues> = {}): TemplateValues => ({
  model: 'resnet18',
  config: { lr: 0.001, optimizer: 'adam' },
  fixed: { dataset: 'derma', dataset_dir: '/data/derma', trial: '3', seed: '0' },
  order: ['lr', 'optimizer', 'momentum'],
  ...over,
});

const argvOf = (template: string, v = values()) => {
  const r = renderTemplate(parseTemplate(template), v);
  assert.equal(r.kind, 'argv', `${template} runs without a shell`);
  return r.kind === 'argv' ? r.argv : [];
};

const fails = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof MetallmixError && pattern.test(e.message));

test('plain words, quotes and escapes make an argv template: no shell', () => {
  assert.deepEqual(
    argvOf('python train.py --data {dataset_dir} --model {model} --lr {lr} --opt={optimizer}'),
    [
      'python',
      'train.py',
      '--data',
      '/data/derma',
      '--model',
      'resnet18',
      '--lr',
      '0.001',
      '--opt=adam',
    ],
  );
  assert.deepEqual(argvOf(`echo 'a b' "c {model} d" e\\ f '' {{literal}} \\{model}`), [
    'echo',
    'a b',
    'c resnet18 d',
    'e f',
    '',
    '{literal}',
    '{model}',
  ]);
  // {args}: --name value for every active hyperparameter, in declared order.
  assert.deepEqual(argvOf('train {args}'), ['train', '--lr', '0.001', '--optimizer', 'adam']);
  assert.deepEqual(
    argvOf('train {args}', values({ config: { lr: 0.01, optimizer: 'sgd', momentum: 0.9 } })),
    ['train', '--lr', '0.01', '--optimizer', 'sgd', '--momentum', '0.9'],
  );
});

test('an inactive conditional parameter renders empty, or as its {name:-default}', () => {
  assert.deepEqual(argvOf('t --m {momentum} --m2 {momentum:-0.9} x{momentum}y'), [
    't',
    '--m',
    '',
    '--m2',
    '0.9',
    'xy',
  ]);
  assert.deepEqual(
    argvOf(
      't --m2 {momentum:-0.9}',
      values({ config: { lr: 1, optimizer: 'sgd', momentum: 0.5 } }),
    ),
    ['t', '--m2', '0.5'],
  );
});

test('shell syntax makes a shell template; unsafe constructs are refused', () => {
  for (const t of [
    'cd {dataset_dir} && python train.py',
    'python train.py --lr {lr} > log.txt',
    'python train.py --home $HOME',
    'FOO=1 python train.py',
    'python train.py\npython eval.py',
    'python train.py --glob *.png',
    'python train.py | tee out',
  ])
    assert.equal(parseTemplate(t).kind, 'shell', t);
  fails(() => parseTemplate('python t.py --out $(date) {lr}'), /command substitution/);
  fails(() => parseTemplate('python t.py `date` {lr}'), /backticks/);
  fails(() => parseTemplate('cat <<EOF\n{lr}\nEOF'), /here-document/);
  fails(() => parseTemplate('echo ${lr} && true'), /parameter expansion/);
  fails(() => parseTemplate("echo $'x' && {lr}"), /quoting/);
  fails(() => parseTemplate("python t.py 'unterminated"), /unterminated single-quoted/);
  fails(() => parseTemplate('python t.py {lr'), /unclosed "\{"/);
  fails(() => parseTemplate('python t.py {a b}'), /is not a placeholder/);
  fails(() => parseTemplate('python t.py --x={args}'), /\{args\} must stand alone/);
  fails(() => parseTemplate('   '), /empty/);
});

test('the template is checked against the search space before anything runs', () => {
  const context = { space: SPACE, models: ['resnet18', 'vit'] };
  fails(
    () =>
      checkTemplate(
        parseTemplate('t {model} {lr} {optimizer} {momentum} {learning_rate}'),
        context,
      ),
    /unknown placeholder \{learning_rate\}.*known: .*\{dataset_dir\}.*\{lr\}/,
  );
  fails(
    () => checkTemplate(parseTemplate('t {model} {lr} {HOME} {optimizer} {momentum}'), context),
    /unknown placeholder \{HOME\}.*for a shell variable write \$HOME/,
  );
  fails(
    () => checkTemplate(parseTemplate('t {model} --lr {lr}'), context),
    /does not pass \{optimizer\}, \{momentum\}.*--optimizer \{optimizer\} --momentum \{momentum\}/,
  );
  fails(
    () => checkTemplate(parseTemplate('t {args}'), context),
    /no \{model\}, but the run may propose 2 models/,
  );
  fails(
    () =>
      checkTemplate(parseTemplate('t {model} {args} {dataset_dir}'), {
        ...context,
        unavailable: { dataset_dir: 'the run was given a profile' },
      }),
    /\{dataset_dir\} has no value in this run: the run was given a profile/,
  );
  assert.deepEqual(checkTemplate(parseTemplate('t {model} {args}'), context), []);
  assert.deepEqual(
    checkTemplate(parseTemplate('t {config_json}'), { space: SPACE, models: ['resnet18'] }),
    [],
  );
});

test('hostile values reach the command as the same strings, without a shell and under sh', (t) => {
  const dir = tempDir(t);
  const script = echoScript(dir);
  const folder = path.join(dir, `my digits; $(touch PWNED_folder) 'x'`);
  mkdirSync(folder);
  for (const value of HOSTILE) {
    const v = values({
      model: value,
      config: { lr: 0.5, optimizer: value },
      fixed: { dataset: value, dataset_dir: folder, trial: '1', seed: '0' },
    });
    // argv: spawned without a shell.
    const argv = renderTemplate(
      parseTemplate(
        `${PYTHON} ${script} {model} --opt {optimizer} x{dataset}y {dataset_dir} {args}`,
      ),
      v,
    );
    assert.equal(argv.kind, 'argv');
    const expected = [
      value,
      '--opt',
      value,
      `x${value}y`,
      folder,
      '--lr',
      '0.5',
      '--optimizer',
      value,
    ];
    if (argv.kind === 'argv') {
      const out = JSON.parse(
        execFileSync(argv.argv[0]!, argv.argv.slice(1), { cwd: dir, encoding: 'utf8' }),
      );
      assert.deepEqual(out.argv, expected, JSON.stringify(value));
    }
    // The same argv as one sh line (what Slurm's --wrap and the records hold).
    const line = commandText(argv);
    assert.deepEqual(
      JSON.parse(execFileSync('/bin/sh', ['-c', line], { cwd: dir, encoding: 'utf8' })).argv,
      expected,
    );
    // shell: the value quoted for the context it stands in (unquoted, '...', "...").
    const shell = renderTemplate(
      parseTemplate(
        `cd {dataset_dir} && ${PYTHON} ${shQuote(script)} {model} '{optimizer}' "{optimizer}" x{dataset}y "a{dataset}b" {args} | cat`,
      ),
      v,
    );
    assert.equal(shell.kind, 'shell');
    if (shell.kind === 'shell') {
      const out = JSON.parse(
        execFileSync('/bin/sh', ['-c', shell.script], { cwd: dir, encoding: 'utf8' }),
      );
      assert.deepEqual(
        out.argv,
        [value, value, value, `x${value}y`, `a${value}b`, '--lr', '0.5', '--optimizer', value],
        JSON.stringify(value),
      );
    }
  }
  // The folder exists only as a name; nothing a value held was ever run.
  assert.deepEqual(
    readdirSync(dir, { recursive: true })
      .map(String)
      .filter((f) => path.basename(f).startsWith('PWNED')),
    [],
  );
});
