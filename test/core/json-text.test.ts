// The JSON syntax reasons metallmix shows: V8's own words kept whole, the file's text never quoted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonSyntaxReason } from '../../src/core/json-text.ts';

const reasonOf = (text: string) => {
  try {
    JSON.parse(text);
  } catch (err) {
    return jsonSyntaxReason(err);
  }
  throw new Error(`${text} parsed`);
};

test('an "Expected" reason keeps its quoted punctuation, and the offset', () => {
  assert.deepEqual(reasonOf('{"a":1 "b":2}'), {
    reason: "Expected ',' or '}' after property value",
    offset: 7,
  });
  assert.equal(reasonOf('[1,2').reason, "Expected ',' or ']' after array element");
});

test('the text of the file is never quoted', () => {
  const { reason } = reasonOf('root:x:0:0:root:/root:/bin/bash');
  assert.equal(reason, 'Unexpected token');
  assert.ok(!reason.includes('root'));
  assert.ok(!reasonOf('{"secret": tru}').reason.includes('secret'));
});
