// Profiling throughput: header-only profiling of a generated ImageFolder of small real images.
// Run: node --import tsx bench/profile.ts [--images 100000] [--classes 10] [--runs 1] [--concurrency 48]
// The folder is generated once into os.tmpdir() and reused (delete it to regenerate).
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Rng } from '../src/core/rng.ts';
import { profileImageFolder } from '../src/profile/index.ts';
import { mapBounded } from '../src/profile/pool.ts';
import { jpeg, png } from '../test/profile/images.ts';

const TARGET_SECONDS = 20;
const VARIANTS = 64;
const COMPLETE_MARKER = '.complete';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '100000' },
    classes: { type: 'string', default: '10' },
    runs: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '48' },
  },
});
const images = Number(values.images);
const classes = Number(values.classes);
const runs = Number(values.runs);
const concurrency = Number(values.concurrency);

/** Class c holds a share proportional to c + 1, so the class statistics are not trivial. */
function classSizes(): number[] {
  const weight = (classes * (classes + 1)) / 2;
  const sizes = Array.from({ length: classes }, (_, c) => Math.floor((images * (c + 1)) / weight));
  sizes[classes - 1] += images - sizes.reduce((s, n) => s + n, 0);
  return sizes;
}

async function generate(dir: string, sizes: number[]): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  const rng = new Rng(2509);
  // A pool of distinct small images (PNG and baseline JPEG, 16..128 px), written round-robin.
  const variants = Array.from({ length: VARIANTS }, (_, i) => {
    const w = 16 + rng.int(113);
    const h = 16 + rng.int(113);
    return i % 2
      ? { ext: 'jpg', bytes: jpeg(w, h, i % 4 === 1 ? 1 : 3) }
      : { ext: 'png', bytes: png(w, h, i % 4 === 0 ? 0 : 2) };
  });
  const files = sizes.flatMap((n, c) => Array.from({ length: n }, (_, i) => ({ c, i })));
  for (let c = 0; c < classes; c++) await mkdir(path.join(dir, `class_${c}`), { recursive: true });
  const started = performance.now();
  await mapBounded(files, 64, async ({ c, i }, k) => {
    const v = variants[k % VARIANTS];
    await writeFile(path.join(dir, `class_${c}`, `img_${i}.${v.ext}`), v.bytes);
  });
  await writeFile(path.join(dir, COMPLETE_MARKER), '');
  console.log(
    `generated ${images} files in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

const dir = path.join(os.tmpdir(), `metallmix-bench-profile-${images}x${classes}`);
const sizes = classSizes();
if (!existsSync(path.join(dir, COMPLETE_MARKER))) await generate(dir, sizes);
else console.log(`reusing ${dir}`);

const load = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
console.log(`machine: ${os.cpus().length} cores, load average before: ${load()}`);
for (let run = 1; run <= runs; run++) {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const { profile, counts } = await profileImageFolder(dir, { concurrency });
  const seconds = (performance.now() - started) / 1000;
  // CPU seconds of this process (main thread + I/O threads): comparable across machine loads.
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  if (counts.images !== images || profile.numClasses !== classes) {
    throw new Error(
      `expected ${images} images in ${classes} classes, got ${JSON.stringify(counts)}`,
    );
  }
  const verdict = seconds < TARGET_SECONDS ? 'within' : 'OVER';
  console.log(
    `run ${run}: ${images} images in ${seconds.toFixed(2)} s = ${Math.round(images / seconds)} images/s ` +
      `(${verdict} the ${TARGET_SECONDS} s target); CPU ${cpuSeconds.toFixed(2)} s; ` +
      `concurrency ${concurrency}; load average ${load()}`,
  );
}
