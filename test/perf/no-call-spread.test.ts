// A spread into a call (`Math.max(...xs)`, `out.push(...xs)`, `f(...xs)`) passes every element
// as an argument, and V8 refuses more than about 120,000 of them with a RangeError: code that
// works on a small knowledge base then crashes on a large one. This scans every source file with
// the TypeScript parser and fails on any spread into a call or `new`, except of an array literal
// (a fixed list written out in the code). Use a loop or `reduce` instead.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** `file:line: text` of every spread argument that is not an array literal. */
export function callSpreads(file: string, text = readFileSync(file, 'utf8')): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      ts.isSpreadElement(node) &&
      (ts.isCallExpression(node.parent) || ts.isNewExpression(node.parent)) &&
      !ts.isArrayLiteralExpression(node.expression)
    ) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      found.push(`${path.relative(SRC, file)}:${line + 1}: ${node.parent.getText()}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

test('the scanner finds spreads into calls and passes spreads elsewhere', () => {
  const found = callSpreads(
    'x.ts',
    [
      'Math.min(...values);',
      'out.push(...more);',
      'new Set(...pairs);',
      'f(a, ...rest.map((x) => x));',
      'g(...[1, 2]);',
      'const all = [...a, ...b];',
      'const o = { ...c };',
      'function h(...args: number[]) { return args; }',
      'const [first, ...tail] = all;',
    ].join('\n'),
  );
  assert.deepEqual(
    found.map((f) => f.split(': ')[0].split(':')[1]),
    ['1', '2', '3', '4'],
    found.join('\n'),
  );
});

test('no source file spreads an array into a call', () => {
  const found = sourceFiles(SRC).flatMap((f) => callSpreads(f));
  assert.deepEqual(found, [], `spreads into calls (use a loop or reduce):\n${found.join('\n')}`);
});
