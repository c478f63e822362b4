import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Rng,
  deriveClassStatistics,
  configViolations,
  SearchSpace,
  parseWith,
  DatasetProfile,
  MetallmixError,
} from '../../src/core/index.ts';
import { jsonSchemaOf, SCHEMA_NAMES } from '../../src/core/json-schema.ts';

test('Rng: same seed gives the same stream, different seeds differ, forks are independent', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const sa = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(
    sa,
    Array.from({ length: 5 }, () => b.next()),
  );
  assert.notDeepEqual(
    sa,
    Array.from({ length: 5 }, () => c.next()),
  );
  assert.notEqual(new Rng(1).fork('x').next(), new Rng(1).fork('y').next());
  const r = new Rng(7);
  let sum = 0;
  for (let i = 0; i < 20000; i++) sum += r.next();
  assert.ok(Math.abs(sum / 20000 - 0.5) < 0.01);
});

test('class statistics match a hand-computed case', () => {
  // counts 10, 30, 60: p = .1, .3, .6; H = -(.1 log2 .1 + .3 log2 .3 + .6 log2 .6) = 1.29546
  const s = deriveClassStatistics([10, 30, 60]);
  assert.equal(s.imbalanceRatio, 6);
  assert.ok(Math.abs(s.classEntropy - 1.295462) < 1e-6);
  assert.ok(Math.abs(s.normalizedEntropy - 1.295462 / Math.log2(3)) < 1e-6);
  assert.ok(Math.abs(s.classSizeMean - 100 / 3) < 1e-9);
  assert.ok(
    Math.abs(
      s.classSizeStd -
        Math.sqrt(((10 - 100 / 3) ** 2 + (30 - 100 / 3) ** 2 + (60 - 100 / 3) ** 2) / 3),
    ) < 1e-9,
  );
  assert.equal(s.classSizeMin, 10);
  assert.equal(s.classSizeMax, 60);
});

test('configViolations names each problem, including conditional parameters', () => {
  const space = parseWith(SearchSpace, {
    parameters: [
      { name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true },
      { name: 'opt', type: 'categorical', choices: ['sgd', 'adam'] },
      {
        name: 'momentum',
        type: 'float',
        low: 0,
        high: 1,
        condition: { parent: 'opt', values: ['sgd'] },
      },
    ],
  });
  assert.deepEqual(configViolations(space, { lr: 1e-3, opt: 'adam' }), []);
  assert.deepEqual(configViolations(space, { lr: 1e-3, opt: 'sgd', momentum: 0.9 }), []);
  const bad = configViolations(space, { lr: 2, opt: 'adam', momentum: 0.9, extra: 1 });
  assert.equal(bad.length, 3);
  assert.match(bad.join('\n'), /extra: not a parameter/);
  assert.match(bad.join('\n'), /lr: 2 is outside/);
  assert.match(bad.join('\n'), /momentum: set although/);
  assert.match(configViolations(space, { lr: 1e-3, opt: 'sgd' }).join(), /momentum: missing/);
});

test('parseWith reports the file and the failing field', () => {
  assert.throws(
    () =>
      parseWith(
        DatasetProfile,
        { name: 'x', task: 'multiclass', modality: 'ct', numInstances: 10 },
        { file: 'p.json', what: 'dataset profile' },
      ),
    (err: unknown) => err instanceof MetallmixError && /p\.json.*numClasses/.test(err.message),
  );
  assert.throws(
    () =>
      parseWith(SearchSpace, {
        parameters: [{ name: 'lr', type: 'float', low: 0, high: 1, log: true }],
      }),
    /log scale needs low > 0/,
  );
});

test('every domain type has a JSON Schema', () => {
  for (const name of SCHEMA_NAMES) {
    const schema = jsonSchemaOf(name);
    assert.equal(schema.type, 'object', name);
  }
});

test('metallmix schema prints a domain type and rejects an unknown one', async () => {
  const { runCli } = await import('../support/cli.ts');
  const ok = await runCli('schema', 'DatasetProfile');
  assert.equal(ok.code, 0);
  assert.ok(JSON.parse(ok.out).required.includes('numClasses'));
  const bad = await runCli('schema', 'Nope');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /Allowed choices are DatasetProfile/);
});
