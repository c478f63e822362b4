import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withThousands } from '../../src/core/numbers.ts';

test('withThousands groups digits as en-US toLocaleString does', () => {
  for (const x of [0, 7, 999, 1000, 12345, 1234567, -1234567, 1234.5, 200000, 1e15])
    assert.equal(
      withThousands(x),
      x.toLocaleString('en-US', { maximumFractionDigits: 20 }),
      String(x),
    );
});
