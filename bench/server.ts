// The HTTP face's costs, against `metallmix serve` started as a user starts it (a child process on
// a free port of 127.0.0.1, a cache of its own). Measures, in one run:
//   recommend  POST /v1/recommend, 100 requests one after another with the meta-learner cached
//              (after one request that fits it), p50/p95; beside it the library's recommend() in
//              this process on the same cache (the reference), so the ratio is what HTTP, JSON and
//              the worker thread add;
//   health     GET /v1/health every 50 ms while a bench job runs (target: p95 under 100 ms), and
//              the same number of requests on the idle server (the reference);
//   page       the web bundle's weight, raw and gzip (built by Vite into a temp folder).
// Run: node --import tsx bench/server.ts [--requests 100] [--bench-seeds 5]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';
import { recommend } from '../src/api/index.ts';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '100' },
    'bench-seeds': { type: 'string', default: '5' },
  },
});
const REQUESTS = Number(args.requests);
const HEALTH_TARGET_MS = 100;
const ROOT = new URL('../', import.meta.url).pathname;
const profile = JSON.parse(readFileSync(path.join(ROOT, 'examples/chest-xray-small.json'), 'utf8'));
const dir = mkdtempSync(path.join(tmpdir(), 'metallmix-bench-server-'));
const env = { ...process.env, METALLMIX_CACHE: path.join(dir, 'cache'), METALLMIX_KB: '' };

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const summary = (xs: number[]) =>
  `p50 ${quantile(xs, 0.5).toFixed(1)} ms, p95 ${quantile(xs, 0.95).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms (n=${xs.length})`;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const child = spawn(process.execPath, ['bin/metallmix.js', 'serve', '--port', '0'], {
  cwd: ROOT,
  env,
  stdio: ['ignore', 'pipe', 'ignore'],
});
try {
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
      const m = /^(http:\/\/[^\s]+)\n/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  const body = JSON.stringify({ profile, strategy: 'metalearner' });
  const post = async () => {
    const res = await fetch(`${url}/v1/recommend`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    if (res.status !== 200) throw new Error(`recommend answered ${res.status}`);
    return res.json();
  };
  const cold = await timed(post);
  const http: number[] = [];
  for (let i = 0; i < REQUESTS; i++) http.push(await timed(post));
  const library: number[] = [];
  for (let i = 0; i < Math.min(REQUESTS, 30); i++)
    library.push(
      await timed(() => recommend({ dataset: { profile }, strategy: 'metalearner', env })),
    );
  console.log(
    `POST /v1/recommend, cached meta-learner: ${summary(http)} (first, fitting: ${cold.toFixed(0)} ms)`,
  );
  console.log(`library recommend() in-process, same cache: ${summary(library)}`);
  console.log(`HTTP / library p50: ${(quantile(http, 0.5) / quantile(library, 0.5)).toFixed(2)}`);

  const health = () => timed(async () => (await fetch(`${url}/v1/health`)).json());
  const start = await fetch(`${url}/v1/bench`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ seeds: Number(args['bench-seeds']) }),
  });
  const job = (await start.json()) as { id: string };
  const during: number[] = [];
  const t0 = performance.now();
  let status = 'running';
  // Bounded: at most 20 minutes of polling, every 50 ms.
  while (status === 'running' && performance.now() - t0 < 20 * 60_000) {
    during.push(await health());
    await new Promise((r) => setTimeout(r, 50));
    if (during.length % 20 === 0)
      status = ((await (await fetch(`${url}/v1/jobs/${job.id}`)).json()) as { status: string })
        .status;
  }
  const benchSec = (performance.now() - t0) / 1000;
  const idle: number[] = [];
  for (let i = 0; i < during.length; i++) {
    idle.push(await health());
    await new Promise((r) => setTimeout(r, 50));
  }
  console.log(
    `GET /v1/health while a bench job ran (${benchSec.toFixed(0)} s, ${status}): ${summary(during)}`,
  );
  console.log(`GET /v1/health idle: ${summary(idle)}`);
  console.log(
    `health p95 during bench / ${HEALTH_TARGET_MS} ms target: ${(quantile(during, 0.95) / HEALTH_TARGET_MS).toFixed(2)}; during / idle p95: ${(quantile(during, 0.95) / quantile(idle, 0.95)).toFixed(2)}`,
  );

  const webRoot = path.join(dir, 'web');
  await build({
    configFile: path.join(ROOT, 'src/web/vite.config.ts'),
    build: { outDir: webRoot, emptyOutDir: true },
    logLevel: 'error',
  });
  const files = [
    path.join(webRoot, 'index.html'),
    ...readdirSync(path.join(webRoot, 'assets')).map((f) => path.join(webRoot, 'assets', f)),
  ];
  let raw = 0;
  let gz = 0;
  for (const f of files) {
    const bytes = readFileSync(f);
    raw += bytes.length;
    gz += gzipSync(bytes, { level: 9 }).length;
    console.log(
      `  ${path.relative(webRoot, f)}: ${(bytes.length / 1024).toFixed(1)} KiB, gzip ${(gzipSync(bytes, { level: 9 }).length / 1024).toFixed(1)} KiB`,
    );
  }
  console.log(
    `web page weight: ${(raw / 1024).toFixed(1)} KiB, gzip ${(gz / 1024).toFixed(1)} KiB (${files.length} files)`,
  );
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
