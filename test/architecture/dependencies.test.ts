// The module rules of DESIGN.md as a test: every import in src/ goes down the dependency order
// (core at the bottom), no module imports a module of its own rank (the faces server and web
// never import each other), and there is no cycle between modules or between files. The CLI is
// the program's entry and sits above the server, since `metallmix serve` starts it; the web page
// is a client of the server's API, bundled for the browser, and takes only types from src/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const SRC = new URL('../../src/', import.meta.url).pathname;

/** Lower ranks are below: a module may import only modules of a lower rank (and itself). */
const RANK: Record<string, number> = {
  core: 0,
  profile: 1,
  store: 2,
  learn: 3,
  explain: 4,
  retrieve: 5,
  llm: 6,
  judge: 7,
  hpo: 8,
  recommend: 9,
  // Research and product parts of the recommendation quality work (issue 9): built on the
  // recommender's view and scorers, used by the benchmark, the run loop and the API.
  quality: 9.5,
  bench: 10,
  run: 11,
  api: 12,
  index: 13,
  server: 14,
  web: 14,
  cli: 15,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(name) ? [full] : [];
  });
}

/** `src/store/sqlite/x.ts` -> `store`; `src/index.ts` -> `index`. */
function moduleOf(file: string): string {
  const rel = path.relative(SRC, file);
  return rel.includes(path.sep) ? rel.split(path.sep)[0] : path.basename(rel, path.extname(rel));
}

/**
 * Relative imports of code by a file (static, re-exports and dynamic), resolved to absolute paths;
 * the web page's stylesheet and JSON imports are assets for its bundler, not modules.
 */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
  const specs = [
    ...text.matchAll(/(?:^|[;\s])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]/g),
    ...text.matchAll(/(?:^|[;\s])import\s*['"]([^'"]+)['"]/g),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]);
  return specs
    .filter((s) => s.startsWith('.') && !/\.(css|json)$/.test(s))
    .map((s) => path.resolve(path.dirname(file), s));
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

/** Strongly connected components with more than one node (or a self-loop): the cycles. */
function cycles(nodes: string[], edges: (n: string) => string[]): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || edges(v).includes(v)) out.push(scc.sort());
    }
  };
  for (const n of nodes) if (!index.has(n)) visit(n);
  return out;
}

test('every src/ file belongs to a module of DESIGN.md and imports files that exist', () => {
  for (const [file, imports] of graph) {
    assert.ok(moduleOf(file) in RANK, `${path.relative(SRC, file)}: unknown module`);
    for (const target of imports)
      assert.ok(graph.has(target), `${path.relative(SRC, file)} imports a missing file ${target}`);
  }
});

test('no import goes up the dependency order, and faces never import each other', () => {
  const upward: string[] = [];
  for (const [file, imports] of graph) {
    const from = moduleOf(file);
    for (const target of imports) {
      const to = moduleOf(target);
      if (to !== from && RANK[to] >= RANK[from])
        upward.push(
          `${path.relative(SRC, file)} (${from}) -> ${path.relative(SRC, target)} (${to})`,
        );
    }
  }
  assert.deepEqual(upward, []);
});

test('the web page imports nothing but types from the rest of src/', () => {
  const valueImports: string[] = [];
  for (const file of files.filter((f) => moduleOf(f) === 'web')) {
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    for (const m of text.matchAll(
      /(?:^|[;\s])(import|export)(\s+type)?\s[^'";]*?from\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    )) {
      const spec = m[3] ?? m[4];
      if (!spec.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), spec);
      if (target.startsWith(SRC) && moduleOf(target) !== 'web' && !m[2])
        valueImports.push(`${path.relative(SRC, file)} -> ${spec}`);
    }
  }
  assert.deepEqual(valueImports, []);
});

test('no cycle between modules', () => {
  const modules = [...new Set(files.map(moduleOf))];
  const edges = (m: string) => [
    ...new Set(
      files
        .filter((f) => moduleOf(f) === m)
        .flatMap((f) => graph.get(f)!.map(moduleOf))
        .filter((t) => t !== m),
    ),
  ];
  assert.deepEqual(cycles(modules, edges), []);
});

test('no cycle between files', () => {
  const found = cycles(files, (f) => graph.get(f)!.filter((t) => graph.has(t)));
  assert.deepEqual(
    found.map((c) => c.map((f) => path.relative(SRC, f))),
    [],
  );
});

test('the checker sees a cycle and an upward import when there is one', () => {
  const toy: Record<string, string[]> = { a: ['b'], b: ['c'], c: ['a'], d: ['a'] };
  assert.deepEqual(
    cycles(Object.keys(toy), (n) => toy[n]),
    [['a', 'b', 'c']],
  );
  assert.ok(RANK.store < RANK.cli, 'store sits below cli');
});
