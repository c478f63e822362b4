// Trained meta-learners cached on disk per knowledge-base content version and settings, so a
// second `recommend` on the same knowledge base does not retrain. Models are stored in XGBoost's
// JSON format; a corrupt or foreign cache file is ignored and replaced, never fatal.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseXGBoostJson, toXGBoostJson } from '../learn/xgboost-json.ts';
import type { EncoderSpec } from '../learn/encode.ts';
import type { MetaLearner, MetaLearnerSettings } from './metalearner.ts';

const FORMAT = 'metallmix-metalearner/3';

function cachePath(dir: string, kbVersion: string, settings: MetaLearnerSettings): string {
  const key = createHash('sha256')
    .update(`${kbVersion}\n${JSON.stringify(settings)}`)
    .digest('hex')
    .slice(0, 24);
  return join(dir, 'metalearners', `${key}.json`);
}

interface CachedFile {
  format: string;
  kbVersion: string;
  settings: MetaLearnerSettings;
  encoder: EncoderSpec;
  effect: object[];
  level: object[];
  time: object[];
  trainingRows: number;
  insights: MetaLearner['insights'];
  datasetRanges: MetaLearner['datasetRanges'];
  metricRange?: MetaLearner['metricRange'];
}

function read(
  path: string,
  kbVersion: string,
  settings: MetaLearnerSettings,
): MetaLearner | undefined {
  let file: CachedFile;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as CachedFile;
  } catch {
    return undefined;
  }
  if (
    file.format !== FORMAT ||
    file.kbVersion !== kbVersion ||
    JSON.stringify(file.settings) !== JSON.stringify(settings)
  )
    return undefined;
  try {
    return {
      settings: file.settings,
      encoder: file.encoder,
      effect: file.effect.map((m) => parseXGBoostJson(m, path)),
      level: file.level.map((m) => parseXGBoostJson(m, path)),
      time: file.time.map((m) => parseXGBoostJson(m, path)),
      trainingRows: file.trainingRows,
      insights: file.insights,
      datasetRanges: file.datasetRanges,
      ...(file.metricRange ? { metricRange: file.metricRange } : {}),
    };
  } catch {
    return undefined;
  }
}

function write(path: string, kbVersion: string, learner: MetaLearner): void {
  const file: CachedFile = {
    format: FORMAT,
    kbVersion,
    settings: learner.settings,
    encoder: learner.encoder,
    effect: learner.effect.map(toXGBoostJson),
    level: learner.level.map(toXGBoostJson),
    time: learner.time.map(toXGBoostJson),
    trainingRows: learner.trainingRows,
    insights: learner.insights,
    datasetRanges: learner.datasetRanges,
    metricRange: learner.metricRange,
  };
  mkdirSync(join(path, '..'), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(file));
  renameSync(tmp, path);
}

export interface CacheOutcome {
  learner: MetaLearner;
  cached: boolean;
}

/** The cached meta-learner for this knowledge-base version and settings, or a freshly fitted (and stored) one. */
export function loadOrFit(
  kbVersion: string,
  settings: MetaLearnerSettings,
  fit: () => MetaLearner,
  dir: string | undefined,
): CacheOutcome {
  if (!dir) return { learner: fit(), cached: false };
  const path = cachePath(dir, kbVersion, settings);
  const hit = read(path, kbVersion, settings);
  if (hit) return { learner: hit, cached: true };
  const learner = fit();
  try {
    write(path, kbVersion, learner);
  } catch {
    // A read-only or full cache directory only costs a retrain next time.
  }
  return { learner, cached: false };
}
