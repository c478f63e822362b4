// The streaming CSV reader against the csv-parse based one (readCsvTable + selectFeatures) on
// the same files: same numbers, same errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  groupIds,
  readCsvData,
  readCsvTable,
  requiredNumbers,
  selectFeatures,
} from '../../src/learn/csv-matrix.ts';
import { MetallmixError } from '../../src/core/errors.ts';
import { Rng } from '../../src/core/rng.ts';
import type { FeatureType } from '../../src/learn/tree-model.ts';
import { tempDir } from './xgb-reference.ts';

const features = (names: string[], types: FeatureType[]) => () => ({ names, types });

/** Cells as people write them: plain, signed, exponents, long digit strings, quoted, padded. */
function cell(rng: Rng): string {
  const v = rng.normal() * 10 ** rng.int(6);
  switch (rng.int(12)) {
    case 0:
      return '';
    case 1:
      return String(v); // up to 17 significant digits: the Number() path
    case 2:
      return v.toExponential(rng.int(8));
    case 3:
      return ` ${v.toFixed(3)}\t`;
    case 4:
      return `"${v.toFixed(2)}"`;
    case 5:
      return String(Math.round(v));
    case 6:
      return ['-0', '.5', '5.', '+7', '1e-30', '123456789012345678', '0x1f', '1E+21'][rng.int(8)];
    default:
      return v.toPrecision(1 + rng.int(10));
  }
}

test('readCsvData reads what readCsvTable + selectFeatures read, across chunk boundaries', () => {
  const dir = tempDir();
  const rng = new Rng(7);
  const lines = ['\uFEFFa, b ,"c",label,y,note'];
  // About 10 MB: records straddle the reader's 4 MB chunks; one 5 MB cell forces a larger buffer.
  for (let r = 0; r < 110_000; r++) {
    const cells = [
      cell(rng),
      cell(rng),
      cell(rng),
      `"g ""${rng.int(30)}"""`,
      cell(rng).replace(/^$/, '1'),
    ];
    cells.push(
      r === 50_000
        ? `"${'x,\n'.repeat(1_700_000)}"`
        : r % 7
          ? 'free text'
          : '"multi\nline, ""quoted"""',
    );
    lines.push(cells.join(','));
    if (r % 1000 === 0) lines.push('');
  }
  const file = join(dir, 'big.csv');
  writeFileSync(file, lines.join('\r\n') + '\r\n');
  const names = ['c', 'a', 'b'];
  const types: FeatureType[] = ['q', 'q', 'q'];
  const streamed = readCsvData(file, {
    features: features(names, types),
    target: 'y',
    group: 'label',
  });
  const table = readCsvTable(file);
  const X = selectFeatures(table, names, types);
  assert.deepEqual(streamed.columns, table.columns);
  assert.equal(streamed.X.numRows, X.numRows);
  assert.deepEqual(Array.from(streamed.X.data), Array.from(X.data));
  assert.deepEqual(Array.from(streamed.y!), Array.from(requiredNumbers(table, 'y')));
  assert.deepEqual(Array.from(streamed.groups!), Array.from(groupIds(table, 'label')));
});

test('readCsvData names file, line and column of bad cells as the table reader does', () => {
  const dir = tempDir();
  const cases: [string, string, FeatureType[], RegExp][] = [
    ['a,b,y\n1,2,3\n\n2,x,4\n', 'b', ['q', 'q'], /:4 column "b": not a number: "x"/],
    [
      'a,b,y\n1,2,3\r\n2,1.5,4\r\n',
      'b',
      ['q', 'c'],
      /:3 column "b": categorical feature needs an integer code/,
    ],
    ['a,b,y\n1,2,3\n2,1,\n', 'y', ['q', 'q'], /:3 column "y": the target is missing/],
    ['a,b,y\n1,2,3\n"2\n",1,zz\n', 'y', ['q', 'q'], /:4 column "y": target is not a number: "zz"/],
    [
      'a,b,y\n1,2,3\n2,1\n',
      'y',
      ['q', 'q'],
      /:3: not a readable CSV file: 2 cells, the header has 3/,
    ],
    ['a,b,y\n1,"2,3\n', 'y', ['q', 'q'], /not a readable CSV file: a quoted cell is not closed/],
    ['a,a,y\n1,2,3\n', 'y', ['q', 'q'], /:1 column "a": duplicate column name/],
    ['\n\n', 'y', ['q', 'q'], /the file is empty/],
  ];
  cases.forEach(([text, , types, pattern], i) => {
    const file = join(dir, `bad${i}.csv`);
    writeFileSync(file, text);
    assert.throws(
      () => readCsvData(file, { features: features(['a', 'b'], types), target: 'y' }),
      (e: unknown) => e instanceof MetallmixError && pattern.test(e.message),
      `case ${i}: ${JSON.stringify(text)}`,
    );
  });
  const missing = join(dir, 'cols.csv');
  writeFileSync(missing, 'a,c\n1,2\n');
  assert.throws(
    () => readCsvData(missing, { features: features(['a', 'b'], ['q', 'q']) }),
    /cols\.csv:1: missing column "b" \(needed: a, b\)/,
  );
  assert.throws(
    () => readCsvData(join(dir, 'absent.csv'), { features: features(['a'], ['q']) }),
    /absent\.csv: cannot read data file/,
  );
});
