// Streaming import: rows per second and peak memory for generated CSV sources of about 20 MB and
// 200 MB (4 M rows), and `recommend` on the 4 M-run knowledge base (sampled training).
// The reference, measured in the same run on the same file, is a plain streaming csv-parse of it
// (no conversion, no writes): the ratio says what conversion and SQLite cost on top of parsing.
// Each measurement runs in a fresh process; peak RSS is that process's maxRSS.
// Usage: node --import tsx bench/import.ts [--sizes 20,200] [--no-recommend]
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const args = process.argv.slice(2);
const sizes = (
  args[args.indexOf('--sizes') + 1] && args.includes('--sizes')
    ? args[args.indexOf('--sizes') + 1]
    : '20,200'
)
  .split(',')
  .map(Number);
const withRecommend = !args.includes('--no-recommend');
const dir = path.join(os.tmpdir(), 'metallmix-bench-import');
mkdirSync(dir, { recursive: true });

const DATASETS = 40;
const MODELS = 24;
const MAPPING = {
  dataset: 'ds',
  model: 'model',
  metrics: { accuracy: { column: 'acc', unit: 'percent' } },
  cost: { trainingTimeSec: { column: 'seconds' } },
  seed: 'seed',
  runId: 'run',
  hyperparameters: [
    { name: 'lr', type: 'float', log: true },
    { name: 'batch_size', type: 'int', log: true },
    { name: 'opt', type: 'categorical', choices: ['sgd', 'adam', 'adamw'] },
    { name: 'momentum', type: 'float', condition: { parent: 'opt', values: ['sgd'] } },
  ],
  profiles: 'profiles.json',
};

function profiles() {
  return Array.from({ length: DATASETS }, (_, d) => {
    const classes = 2 + (d % 9);
    const per = 100 + d * 37;
    return {
      name: `ds${d}`,
      task: classes === 2 ? 'binary' : 'multiclass',
      modality: ['xray', 'ct', 'dermoscopy', 'natural'][d % 4],
      numInstances: per * classes,
      numClasses: classes,
      resolution: {
        medianWidth: 28 + 4 * (d % 25),
        medianHeight: 28 + 4 * (d % 25),
        minWidth: 28,
        minHeight: 28,
        maxWidth: 128,
        maxHeight: 128,
      },
      channels: d % 3 === 0 ? 1 : 3,
    };
  });
}

/** A CSV of about `mb` megabytes: deterministic runs (an LCG), one per line. */
async function generate(mb: number): Promise<{ file: string; rows: number }> {
  const file = path.join(dir, `runs-${mb}mb.csv`);
  const meta = `${file}.rows`;
  if (existsSync(file) && existsSync(meta))
    return { file, rows: Number((await import('node:fs')).readFileSync(meta, 'utf8')) };
  const out = createWriteStream(file);
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  out.write('run,ds,model,lr,batch_size,opt,momentum,acc,seconds,seed\n');
  let bytes = 0;
  let rows = 0;
  const target = mb * 1e6;
  const opts = ['sgd', 'adam', 'adamw'];
  while (bytes < target) {
    let chunk = '';
    for (let i = 0; i < 10_000; i++) {
      const d = Math.floor(rand() * DATASETS);
      const m = Math.floor(rand() * MODELS);
      const opt = opts[Math.floor(rand() * 3)];
      const lr = (10 ** (-5 + 4 * rand())).toPrecision(3);
      const acc = (40 + 55 * rand()).toFixed(1);
      chunk += `r${rows},ds${d},m${m},${lr},${2 ** (3 + Math.floor(rand() * 6))},${opt},${opt === 'sgd' ? 0.9 : ''},${acc},${Math.floor(60 + rand() * 3000)},${rows % 5}\n`;
      rows++;
    }
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
  writeFileSync(meta, String(rows));
  return { file, rows };
}

interface Measured {
  seconds: number;
  maxRssMb: number;
  out: string;
}

/** Runs `script` (TypeScript, through tsx) in a fresh process; returns its wall time and peak RSS. */
function measure(script: string): Measured {
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `${script}\nprocess.stdout.write('\\nMAXRSS ' + process.resourceUsage().maxRSS + '\\n');`,
    ],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${r.stderr}\n${r.stdout}`);
  const rss = Number(/MAXRSS (\d+)/.exec(r.stdout)?.[1] ?? NaN);
  return { seconds, maxRssMb: rss / 1024, out: r.stdout };
}

writeFileSync(path.join(dir, 'mapping.json'), JSON.stringify(MAPPING));
writeFileSync(path.join(dir, 'profiles.json'), JSON.stringify(profiles()));
const lines: string[] = [];
for (const mb of sizes) {
  const { file, rows } = await generate(mb);
  const size = statSync(file).size / 1e6;
  const parse = measure(`
    import { createReadStream } from 'node:fs';
    import { parse } from 'csv-parse';
    let n = 0;
    for await (const _ of createReadStream(${JSON.stringify(file)}).pipe(parse())) n++;
    process.stdout.write('rows ' + n);`);
  const kb = path.join(dir, `kb-${mb}mb.sqlite`);
  for (const f of [kb, `${kb}-wal`, `${kb}-shm`]) rmSync(f, { force: true });
  const imported = measure(`
    import { importRuns } from './src/index.ts';
    const r = await importRuns({ files: [${JSON.stringify(file)}], mapping: ${JSON.stringify(path.join(dir, 'mapping.json'))}, kb: ${JSON.stringify(kb)} });
    process.stdout.write('added ' + r.added);`);
  const added = Number(/added (\d+)/.exec(imported.out)?.[1]);
  lines.push(
    `${size.toFixed(0)} MB, ${rows.toLocaleString('en-US')} rows: import ${imported.seconds.toFixed(1)} s = ${Math.round(rows / imported.seconds).toLocaleString('en-US')} rows/s, peak RSS ${imported.maxRssMb.toFixed(0)} MB, ${added.toLocaleString('en-US')} added; reference csv-parse alone ${parse.seconds.toFixed(1)} s = ${Math.round(rows / parse.seconds).toLocaleString('en-US')} rows/s, peak RSS ${parse.maxRssMb.toFixed(0)} MB (import/parse time ${(imported.seconds / parse.seconds).toFixed(1)}x)`,
  );
  console.log(lines.at(-1));
  if (withRecommend && mb === Math.max(...sizes)) {
    const profile = path.join(dir, 'profile.json');
    writeFileSync(profile, JSON.stringify({ ...profiles()[5], name: 'new' }));
    const rec = measure(`
      import { recommend } from './src/index.ts';
      const r = await recommend({ dataset: { profileFile: ${JSON.stringify(profile)} }, kb: ${JSON.stringify(kb)}, cache: false });
      process.stdout.write('pick ' + r.pick.model + ' ' + (r.pick.predictedMetric.mean * 100).toFixed(1) + '\\n' + r.notices.filter((n) => /sample/.test(n)).join('\\n'));`);
    lines.push(
      `recommend on the ${rows.toLocaleString('en-US')}-run knowledge base: ${rec.seconds.toFixed(1)} s, peak RSS ${rec.maxRssMb.toFixed(0)} MB; ${rec.out
        .split('\n')
        .filter((l) => /pick|sample/.test(l))
        .join(' | ')}`,
    );
    console.log(lines.at(-1));
  }
}
