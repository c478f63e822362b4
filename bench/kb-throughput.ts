// Knowledge-base throughput, SQLite and PostgreSQL side by side (SQLite is the reference):
//   import   generated runs written with importBatch, one transaction per batch (an import of a
//            `--batch`-row export), as rows/s; peak resident memory of the importing process
//            (and its resident memory before the import, with the generated runs in memory);
//   recommend `recommend` (meta-learner strategy) on the filled knowledge base: cold (fit the
//            meta-learners, build the retrieval index) and cached (a new request that loads both).
// Each measurement runs in its own child process, so peaks do not mix. The PostgreSQL server is
// a real PostgreSQL 15 started for the run with fsync on (test/support/postgres-server.ts); its
// own memory is not counted. Prints medians over --repeats and the PostgreSQL / SQLite ratios.
// Run: node --import tsx bench/kb-throughput.ts [--sizes 100000,1000000] [--repeats 3]
//        [--batch 100000] [--recommend-up-to 1000000]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { recommend } from '../src/api/index.ts';
import { median } from '../src/bench/metrics.ts';
import { Rng, type ExperimentRecord } from '../src/core/index.ts';
import { readProfileFile } from '../src/profile/index.ts';
import { openKnowledgeBase, type ImportBatch } from '../src/store/index.ts';
import { startPostgres } from '../test/support/postgres-server.ts';

const { values: args, positionals } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100000,1000000' },
    repeats: { type: 'string', default: '3' },
    batch: { type: 'string', default: '100000' },
    'recommend-up-to': { type: 'string', default: '1000000' },
    child: { type: 'string' },
  },
  allowPositionals: true,
});

const PROFILE = fileURLToPath(new URL('../examples/chest-xray-small.json', import.meta.url));

interface Measured {
  rows: number;
  importMs: number;
  baselineRssMb: number;
  peakRssMb: number;
  recommendColdMs?: number;
  recommendCachedMs?: number;
}

/** n runs over the built-in starter's datasets and models, with the cards and profiles it has. */
async function generate(
  n: number,
  cache: string,
): Promise<{ base: ImportBatch; records: ExperimentRecord[] }> {
  const builtin = await openKnowledgeBase('builtin', {
    mode: 'read',
    env: { METALLMIX_CACHE: cache },
  });
  const s = await builtin.snapshot();
  await builtin.close();
  const datasets = s.profiles.map((p) => p.name);
  const models = s.models.map((m) => m.id);
  const rng = new Rng(7);
  const strategies = ['linear-probe', 'partial', 'full'];
  const records: ExperimentRecord[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const strategy = strategies[rng.int(3)];
    const lr = 10 ** rng.uniform(-5, -1);
    const batchSize = [16, 32, 64, 128][rng.int(4)];
    records[i] = {
      dataset: datasets[rng.int(datasets.length)],
      model: models[rng.int(models.length)],
      config: { strategy, lr, batch_size: batchSize },
      metrics: {
        accuracy: Math.min(
          1,
          Math.max(0, 0.6 + 0.1 * rng.normal() + (strategy === 'full' ? 0.1 : 0)),
        ),
      },
      cost: { trainingTimeSec: 60 + 600 * rng.next() },
      seed: i % 10,
      status: 'finished',
      provenance: { source: 'generated', runId: `g${i}`, line: i + 1 },
    };
  }
  return {
    base: {
      records: [],
      profiles: s.profiles,
      models: s.models,
      hyperparameters: [
        { name: 'strategy', type: 'categorical', choices: strategies },
        { name: 'lr', type: 'float', log: true },
        { name: 'batch_size', type: 'int', log: true },
      ],
    },
    records,
  };
}

const rssMb = () => process.memoryUsage().rss / 2 ** 20;

/** In the child: fill a new knowledge base at `locator` with n runs, then recommend from it. */
async function child(
  locator: string,
  n: number,
  batch: number,
  withRecommend: boolean,
): Promise<Measured> {
  const cache = mkdtempSync(join(tmpdir(), 'metallmix-bench-kb-cache-'));
  try {
    const env = { ...process.env, METALLMIX_CACHE: cache };
    const { base, records } = await generate(n, cache);
    const baselineRssMb = rssMb();
    const kb = await openKnowledgeBase(locator, { mode: 'write', env });
    await kb.importBatch(base);
    const t0 = performance.now();
    for (let i = 0; i < records.length; i += batch)
      await kb.importBatch({ records: records.slice(i, i + batch) });
    const importMs = performance.now() - t0;
    const stored = (await kb.records()).length;
    await kb.close();
    if (stored !== n) throw new Error(`stored ${stored} records, generated ${n}`);
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    const out: Measured = { rows: n, importMs, baselineRssMb, peakRssMb };
    if (withRecommend) {
      const profile = readProfileFile(PROFILE);
      const ask = async () => {
        const r0 = performance.now();
        await recommend({ dataset: { profile }, kb: locator, strategy: 'metalearner', env });
        return performance.now() - r0;
      };
      out.recommendColdMs = await ask();
      out.recommendCachedMs = await ask();
    }
    return out;
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

function runChild(
  backend: string,
  locator: string,
  n: number,
  withRecommend: boolean,
): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      [
        '--max-old-space-size=16384',
        '--import',
        'tsx',
        fileURLToPath(import.meta.url),
        '--child',
        locator,
        '--batch',
        args.batch!,
        String(n),
        withRecommend ? 'recommend' : 'import',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${backend} child exited ${code}`)),
    );
  });
}

if (args.child) {
  const [n, mode] = positionals;
  const result = await child(args.child, Number(n), Number(args.batch), mode === 'recommend');
  process.stdout.write(JSON.stringify(result));
} else {
  const sizes = args.sizes!.split(',').map(Number);
  const repeats = Number(args.repeats);
  const server = await startPostgres({ durable: true });
  if (typeof server === 'string') throw new Error(server);
  const dir = mkdtempSync(join(tmpdir(), 'metallmix-bench-kb-'));
  try {
    console.log(
      `generated runs, one transaction per ${Number(args.batch).toLocaleString('en')} rows; medians over ${repeats} repeats; PostgreSQL 15 on 127.0.0.1 (fsync on)`,
    );
    console.log(
      'backend     runs       import rows/s   peak RSS MB (before import)   recommend cold / cached ms',
    );
    for (const n of sizes) {
      const results: Record<string, Measured[]> = { sqlite: [], postgresql: [] };
      for (let r = 0; r < repeats; r++)
        for (const backend of ['sqlite', 'postgresql'] as const) {
          const locator =
            backend === 'sqlite'
              ? join(dir, `kb-${n}-${r}.sqlite`)
              : server.url({ schema: `b_${n}_${r}` });
          // recommend once per size and backend: it does not depend on how the rows were written.
          const withRecommend = r === 0 && n <= Number(args['recommend-up-to']);
          results[backend].push(await runChild(backend, locator, n, withRecommend));
          if (backend === 'sqlite') rmSync(locator, { force: true });
          else await server.sql(`DROP SCHEMA b_${n}_${r} CASCADE`);
        }
      const summary = Object.fromEntries(
        Object.entries(results).map(([backend, ms]) => [
          backend,
          {
            rowsPerSec: median(ms.map((m) => (m.rows / m.importMs) * 1000)),
            peak: median(ms.map((m) => m.peakRssMb)),
            before: median(ms.map((m) => m.baselineRssMb)),
            cold: ms[0].recommendColdMs,
            cached: ms[0].recommendCachedMs,
          },
        ]),
      );
      for (const [backend, s] of Object.entries(summary))
        console.log(
          `${backend.padEnd(11)} ${n.toLocaleString('en').padEnd(10)} ${Math.round(s.rowsPerSec).toLocaleString('en').padStart(13)}   ${s.peak.toFixed(0).padStart(11)} (${s.before.toFixed(0)})${' '.repeat(16)}${s.cold === undefined ? '-' : `${s.cold.toFixed(0)} / ${s.cached!.toFixed(0)}`}`,
        );
      const pg = summary.postgresql;
      const lite = summary.sqlite;
      console.log(
        `  postgresql / sqlite at ${n.toLocaleString('en')}: import rows/s ${(pg.rowsPerSec / lite.rowsPerSec).toFixed(2)}x, peak RSS ${(pg.peak / lite.peak).toFixed(2)}x${pg.cold !== undefined && lite.cold !== undefined ? `, recommend cold ${(pg.cold / lite.cold).toFixed(2)}x, cached ${(pg.cached! / lite.cached!).toFixed(2)}x` : ''}`,
      );
    }
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
