// `run`: the loop from a recommendation back to the knowledge base. The configurations come from
// `recommend` (never chosen here), the trials run on this machine or through Slurm (src/run),
// and every trial is a record as soon as it ends.
//
// Trials 2..N are few-shot continuations: each proposal (`proposerFor` below) is a fresh
// `recommend` over the knowledge base the trials are written to, for the dataset's profile under
// the name its records carry, so the recommendation receives this dataset's recorded trials and
// continues them (src/api/continuation.ts); the runner only skips configurations it has tried
// (a failed trial is tried, not observed).
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  MetallmixError,
  type Candidate,
  type Config,
  type DatasetProfile,
  type Env,
  type Objective,
  type Recommendation,
} from '../core/index.ts';
import { candidateKey, viewOf } from '../recommend/kb-view.ts';
import { checkRequest } from '../recommend/request.ts';
import {
  LocalExecutor,
  SlurmExecutor,
  checkTemplate,
  loadRunConfig,
  lockRun,
  parseEnvPairs,
  parseTemplate,
  parseTimeLimit,
  readState,
  runStudy,
  stateFile,
  trialCommand,
  type Best,
  type Executor,
  type ExecutorSettings,
  type Proposal,
  type Proposer,
  type RunEvent,
  type StudyState,
  type TrialState,
} from '../run/index.ts';
import { canonicalJson, sha256 } from '../store/fingerprint.ts';
import {
  openKnowledgeBase,
  readLocator,
  recordId,
  searchSpaceOf,
  writeLocator,
  type KbSnapshot,
} from '../store/index.ts';
import { resolveDataset, type DatasetInput } from './dataset.ts';
import { withKnowledgeBase } from './knowledge-base.ts';
import type { LlmSetup } from './language-models.ts';
import { recommend } from './recommend.ts';
import { pushAll } from '../core/arrays.ts';

export type { Proposal, RunEvent, TrialState } from '../run/index.ts';

export interface RunInput {
  /** The dataset of a new run (a folder, a manifest or a profile). */
  dataset?: DatasetInput;
  /** The name the dataset's records carry; default the profile's name (the folder's name). */
  datasetName?: string;
  /** The training command template (src/run/template.ts). */
  command?: string;
  trials?: number;
  parallel?: number;
  executor?: 'local' | 'slurm';
  partition?: string;
  gres?: string;
  sbatchArgs?: string[];
  /** Per-trial time limit: auto, none, or a duration (src/run/settings.ts). */
  time?: string | number;
  /** Job variables, NAME=value. */
  jobEnv?: string[];
  /** A run config file (YAML/JSON) with any of command, env, trials, parallel, executor, ... */
  configFile?: string;
  /** Name of the run (default: dataset name and time) and its folder (default metallmix-runs/NAME). */
  name?: string;
  runDir?: string;
  /** Resume the run in this folder. */
  resume?: string;
  /** Check everything and show the first trial's command, without running anything. */
  dryRun?: boolean;
  kb?: string;
  /** false: without --kb, read the user's own knowledge base alone. */
  builtin?: boolean;
  metric?: string;
  objective?: Objective;
  strategy?: string;
  seed?: number;
  models?: string[];
  llm?: LlmSetup;
  /** Where trials start and relative paths are read from; default the process's directory. */
  cwd?: string;
  env?: Env;
  /** Progress of the trials; `run` names the run's metric (a resumed run keeps its own). */
  onEvent?: (event: RunEvent, run: { metric: string; name: string }) => void;
  signal?: AbortSignal;
  /** Executor timing (tests use short ones). */
  pollMs?: number;
  killGraceMs?: number;
  slurmUnreachableTries?: number;
}

export interface TrialSummary {
  trial: number;
  model: string;
  config: Config;
  status: string;
  phase: TrialState['phase'];
  metrics: Record<string, number>;
  trainingTimeSec?: number;
  reason?: string;
  recommendationId: string;
  rank: number;
  /** Its recommendation continued this many recorded trials (absent: zero-shot). */
  continues?: number;
  jobId?: string;
  recordId?: string;
  command: string;
  logs: string;
}

export interface RunReport {
  name: string;
  runDir: string;
  dataset: string;
  metric: string;
  executor: string;
  /** Where the records went, and what the recommendations read. */
  knowledgeBase: string;
  readFrom: string;
  defaultedKnowledgeBase: boolean;
  trials: TrialSummary[];
  best?: Best & { model: string; config: TrialSummary['config'] };
  /** The suggestion after the budget: what `--resume RUN_DIR --trials N+1` would run. */
  next?: Proposal;
  exhausted: boolean;
  interrupted: boolean;
  resumed: boolean;
  notices: string[];
  /** --dry-run: the first trial as it would run. */
  dryRun?: { model: string; config: TrialSummary['config']; command: string };
}

/** A recommendation's id: the knowledge-base version and the answer, hashed. */
function recommendationId(rec: Recommendation): string {
  return `rec-${sha256(
    canonicalJson({
      kb: rec.knowledgeBase.version,
      dataset: rec.dataset,
      metric: rec.metric,
      objective: rec.objective,
      answeredBy: rec.answeredBy,
      seed: rec.seed,
      topK: rec.topK.map((c) => [c.model, c.config]),
    }),
  ).slice(0, 12)}`;
}

function proposerFor(
  state: StudyState,
  input: RunInput,
  readFrom: string,
  coverage: (p: Proposal) => void,
): Proposer {
  const s = state.settings;
  return {
    async propose(tried: readonly Candidate[]): Promise<Proposal | undefined> {
      const seen = new Set(tried.map((c) => candidateKey(c.model, c.config)));
      for (let topK = tried.length + 5; ; topK *= 2) {
        const rec = await recommend({
          dataset: { profile: s.dataset.profile },
          kb: readFrom,
          metric: s.recommend.metric,
          objective: s.recommend.objective,
          strategy: s.recommend.strategy,
          seed: s.recommend.seed,
          ...(s.recommend.models ? { models: s.recommend.models } : {}),
          topK,
          llm: input.llm,
          // Cached: every trial changes the knowledge base, but a continuation fits on the view
          // without this dataset, whose version is its content's (kb-view.ts), so its
          // meta-learner, validation and index are fitted once for the study and then loaded.
          env: input.env,
        });
        const entry = rec.topK.find((c) => !seen.has(candidateKey(c.model, c.config)));
        if (entry) {
          const proposal: Proposal = {
            model: entry.model,
            config: entry.config,
            recommendationId: recommendationId(rec),
            rank: entry.rank,
            ...(rec.continuation ? { continues: rec.continuation.observedTrials } : {}),
            predictedMetric: entry.predictedMetric,
            ...(entry.predictedTrainingTimeSec
              ? { predictedTrainingTimeSec: entry.predictedTrainingTimeSec }
              : {}),
          };
          coverage(proposal);
          return proposal;
        }
        if (rec.topK.length < topK) return undefined;
      }
    },
  };
}

function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'run';
}

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** The profile without where it came from: two profiles of the same images compare equal. */
function profileContent(p: DatasetProfile): string {
  const { source: _source, name: _name, ...rest } = p;
  return canonicalJson(rest);
}

function executorFor(settings: ExecutorSettings, input: RunInput): Executor {
  const env = input.env ?? process.env;
  if (settings.kind === 'slurm')
    return new SlurmExecutor({
      env,
      partition: settings.partition,
      gres: settings.gres,
      sbatchArgs: settings.sbatchArgs,
      ...(input.pollMs !== undefined ? { pollMs: input.pollMs } : {}),
      ...(input.slurmUnreachableTries !== undefined
        ? { unreachableTries: input.slurmUnreachableTries }
        : {}),
    });
  return new LocalExecutor({
    env,
    ...(input.pollMs !== undefined ? { pollMs: input.pollMs } : {}),
    ...(input.killGraceMs !== undefined ? { killGraceMs: input.killGraceMs } : {}),
  });
}

/** Flags that describe a run and so cannot change when it is resumed. */
const FIXED_ON_RESUME = [
  'dataset',
  'datasetName',
  'command',
  'executor',
  'partition',
  'gres',
  'sbatchArgs',
  'jobEnv',
  'configFile',
  'name',
  'runDir',
  'kb',
  'metric',
  'objective',
  'strategy',
  'seed',
  'models',
] as const;

async function newState(input: RunInput, cwd: string): Promise<StudyState> {
  const file = input.configFile ? loadRunConfig(path.resolve(cwd, input.configFile)) : {};
  const command = input.command ?? file.command;
  if (!command)
    throw new MetallmixError(
      'give the training command: --command TEMPLATE (or "command" in --config)',
      {
        location: { field: 'command' },
      },
    );
  if (!input.dataset)
    throw new MetallmixError('give the dataset: --dataset DIR, --manifest FILE or --profile FILE', {
      location: { field: 'dataset' },
    });
  const trials = input.trials ?? file.trials ?? 5;
  const parallel = input.parallel ?? file.parallel ?? 1;
  for (const [field, n] of [
    ['trials', trials],
    ['parallel', parallel],
  ] as const)
    if (!Number.isInteger(n) || n < 1)
      throw new MetallmixError(`${field} must be a positive integer, got ${n}`, {
        location: { field },
      });
  const kind = input.executor ?? file.executor ?? 'local';
  const executor: ExecutorSettings =
    kind === 'slurm'
      ? {
          kind,
          ...((input.partition ?? file.partition)
            ? { partition: input.partition ?? file.partition }
            : {}),
          ...((input.gres ?? file.gres) ? { gres: input.gres ?? file.gres } : {}),
          sbatchArgs: input.sbatchArgs ?? file.sbatchArgs ?? [],
        }
      : { kind: 'local' };
  if (kind === 'local' && (input.partition || input.gres || input.sbatchArgs?.length))
    throw new MetallmixError('--partition, --gres and --sbatch-arg need --executor slurm', {
      location: { field: 'executor' },
    });
  const datasetInput: DatasetInput = {
    ...input.dataset,
    ...(input.dataset.imageFolder
      ? { imageFolder: path.resolve(cwd, input.dataset.imageFolder) }
      : {}),
    ...(input.dataset.manifest ? { manifest: path.resolve(cwd, input.dataset.manifest) } : {}),
    ...(input.dataset.profileFile
      ? { profileFile: path.resolve(cwd, input.dataset.profileFile) }
      : {}),
  };
  const resolved = await resolveDataset(datasetInput);
  const name = input.datasetName ?? resolved.profile.name;
  const profile = { ...resolved.profile, name };
  const createdAt = new Date();
  const runName = input.name ?? `${slug(name)}-${stamp(createdAt)}`;
  const runDir = path.resolve(cwd, input.runDir ?? path.join('metallmix-runs', slug(runName)));
  if (existsSync(stateFile(runDir)))
    throw new MetallmixError(
      `a run already lives in ${runDir}: resume it with --resume ${runDir}, or give another --name or --run-dir`,
      { location: { field: 'name' } },
    );
  const env = {
    ...Object.fromEntries(Object.entries(file.env ?? {}).map(([k, v]) => [k, String(v)])),
    ...parseEnvPairs(input.jobEnv ?? []),
  };
  return {
    format: 1,
    settings: {
      name: runName,
      id: `${slug(runName)}-${sha256(`${runDir}\n${createdAt.toISOString()}`).slice(0, 8)}`,
      createdAt: createdAt.toISOString(),
      runDir,
      cwd,
      dataset: {
        name,
        profile,
        ...(datasetInput.imageFolder ? { imageFolder: datasetInput.imageFolder } : {}),
        ...(datasetInput.manifest ? { manifest: datasetInput.manifest } : {}),
      },
      command,
      env,
      executor,
      time: parseTimeLimit(input.time ?? file.time ?? 'auto'),
      trials,
      parallel,
      recommend: {
        metric: input.metric ?? file.metric ?? 'accuracy',
        objective: input.objective ?? 'best',
        strategy: input.strategy ?? 'auto',
        seed: input.seed ?? 0,
        ...((input.models ?? file.models) ? { models: input.models ?? file.models } : {}),
        ...(input.kb ? { kb: input.kb } : {}),
        builtin: input.builtin !== false,
      },
    },
    trials: [],
  };
}

function resumedState(input: RunInput, cwd: string): StudyState {
  const state = readState(path.resolve(cwd, input.resume!));
  const s = state.settings;
  // Repeating a setting as it was is fine; changing one is not.
  const stored: Partial<Record<(typeof FIXED_ON_RESUME)[number], unknown>> = {
    command: s.command,
    datasetName: s.dataset.name,
    executor: s.executor.kind,
    name: s.name,
    kb: s.recommend.kb,
    metric: s.recommend.metric,
    objective: s.recommend.objective,
    strategy: s.recommend.strategy,
    seed: s.recommend.seed,
  };
  const changed: string[] = FIXED_ON_RESUME.filter(
    (k) => input[k] !== undefined && !(k in stored && stored[k] === input[k]),
  );
  if (input.builtin === false && s.recommend.builtin) changed.push('builtin');
  if (changed.length)
    throw new MetallmixError(
      `--resume continues a run as it was started; ${changed.join(', ')} cannot change (only --trials, --parallel and --time can)`,
      { location: { field: changed[0] } },
    );
  if (input.trials !== undefined) {
    if (!Number.isInteger(input.trials) || input.trials < state.trials.length)
      throw new MetallmixError(
        `--trials ${input.trials} is fewer than the ${state.trials.length} trial(s) the run already has`,
        { location: { field: 'trials' } },
      );
    s.trials = input.trials;
  }
  if (input.parallel !== undefined) s.parallel = input.parallel;
  if (input.time !== undefined) s.time = parseTimeLimit(input.time);
  return state;
}

function summary(state: StudyState, t: TrialState): TrialSummary {
  return {
    trial: t.trial,
    model: t.model,
    config: t.config,
    status: t.outcome?.status ?? t.phase,
    phase: t.phase,
    metrics: t.outcome?.metrics ?? {},
    ...(t.outcome?.trainingTimeSec !== undefined
      ? { trainingTimeSec: t.outcome.trainingTimeSec }
      : {}),
    ...(t.outcome?.reason ? { reason: t.outcome.reason } : {}),
    recommendationId: t.recommendationId,
    rank: t.rank,
    ...(t.continues ? { continues: t.continues } : {}),
    ...(t.handle ? { jobId: t.handle.id } : {}),
    ...(t.recordId ? { recordId: t.recordId } : {}),
    command: t.command,
    logs: path.join(state.settings.runDir, `trial-${String(t.trial).padStart(3, '0')}`),
  };
}

/** The declarations and model cards the trial records need in the knowledge base they go to. */
function batchExtras(snapshot: KbSnapshot, profile: DatasetProfile, model: string, keys: string[]) {
  return {
    profiles: [profile],
    models: snapshot.models.filter((m) => m.id === model),
    hyperparameters: snapshot.hyperparameters.filter((h) => keys.includes(h.name)),
  };
}

export async function run(input: RunInput): Promise<RunReport> {
  const cwd = path.resolve(input.cwd ?? process.cwd());
  const env = input.env ?? process.env;
  const resumed = input.resume !== undefined;
  const state = resumed ? resumedState(input, cwd) : await newState(input, cwd);
  const s = state.settings;
  const readFrom = readLocator(s.recommend.kb, env, { builtin: s.recommend.builtin });
  const { locator: writeTo, defaulted } = writeLocator(s.recommend.kb, env);
  const notices: string[] = [];

  // Everything is checked against the knowledge base before anything starts.
  const { snapshot, readLabel } = await withKnowledgeBase(readFrom, 'read', env, async (kb) => ({
    snapshot: await kb.snapshot(),
    readLabel: kb.label,
  }));
  const view = viewOf(snapshot, readLabel);
  checkRequest(view, { metric: s.recommend.metric, models: s.recommend.models });
  const allowed = s.recommend.models ? new Set(s.recommend.models) : undefined;
  const finished = snapshot.records.filter(
    (r) => r.status === 'finished' && (!allowed || allowed.has(r.model)),
  );
  const space = searchSpaceOf(snapshot.hyperparameters, finished);
  const models = [...new Set(finished.map((r) => r.model))].sort();
  const template = parseTemplate(s.command);
  pushAll(
    notices,
    checkTemplate(template, {
      space,
      models,
      unavailable: {
        ...(s.dataset.imageFolder
          ? {}
          : { dataset_dir: 'the run was given a manifest or a profile, not --dataset DIR' }),
        ...(s.dataset.manifest ? {} : { manifest: 'the run was not given --manifest FILE' }),
      },
    }),
  );
  const known = snapshot.profiles.find((p) => p.name === s.dataset.name);
  if (!resumed && known && profileContent(known) !== profileContent(s.dataset.profile))
    throw new MetallmixError(
      `${readLabel} already has a dataset named "${s.dataset.name}" with another profile (${known.numInstances} images, ${known.numClasses} classes; this one: ${s.dataset.profile.numInstances}, ${s.dataset.profile.numClasses}); give this one its own name with --dataset-name`,
      { location: { field: 'dataset-name' } },
    );
  const passes = new Set(template.placeholders);
  const coverage = (p: Proposal) => {
    if (passes.has('args') || passes.has('config_json')) return;
    const missing = Object.keys(p.config).filter((k) => !passes.has(k));
    if (missing.length)
      throw new MetallmixError(
        `the recommendation sets ${missing.map((k) => `${k}=${p.config[k]}`).join(', ')}, which the command template does not pass; add ${missing.map((k) => `{${k}}`).join(', ')} or {args}`,
        { location: { field: 'command' } },
      );
  };
  const proposer = proposerFor(state, input, readFrom, coverage);
  const parameterOrder = snapshot.hyperparameters.map((h) => h.name);
  const report = (result?: Awaited<ReturnType<typeof runStudy>>): RunReport => {
    const trials = state.trials.map((t) => summary(state, t));
    const best = result?.best;
    const bestTrial = best && state.trials.find((t) => t.trial === best.trial);
    return {
      name: s.name,
      runDir: s.runDir,
      dataset: s.dataset.name,
      metric: s.recommend.metric,
      executor: s.executor.kind,
      knowledgeBase: writeTo,
      readFrom: readLabel,
      defaultedKnowledgeBase: defaulted,
      trials,
      ...(best && bestTrial
        ? { best: { ...best, model: bestTrial.model, config: bestTrial.config } }
        : {}),
      ...(result?.next ? { next: result.next } : {}),
      exhausted: result?.exhausted ?? false,
      interrupted: result?.interrupted ?? false,
      resumed,
      notices,
    };
  };

  if (input.dryRun) {
    const first = await proposer.propose(state.trials);
    if (!first)
      throw new MetallmixError('the recommendation has no configuration to run', {
        exitCode: 3,
      });
    return {
      ...report(),
      dryRun: {
        model: first.model,
        config: first.config,
        command: trialCommand(
          state,
          { trial: state.trials.length + 1, model: first.model, config: first.config },
          template,
          parameterOrder,
        ),
      },
    };
  }

  const unlock = lockRun(s.runDir);
  let kb: Awaited<ReturnType<typeof openKnowledgeBase>> | undefined;
  try {
    kb = await openKnowledgeBase(writeTo, { mode: 'write', env });
    const writable = kb;
    const result = await runStudy(state, {
      executor: executorFor(s.executor, input),
      proposer,
      template,
      parameterOrder,
      recorder: {
        async write(record) {
          await writable.importBatch({
            records: [record],
            ...batchExtras(snapshot, s.dataset.profile, record.model, Object.keys(record.config)),
          });
          return recordId(record);
        },
      },
      ...(input.onEvent
        ? {
            onEvent: (e: RunEvent) =>
              input.onEvent!(e, { metric: s.recommend.metric, name: s.name }),
          }
        : {}),
      signal: input.signal,
    });
    return report(result);
  } finally {
    await kb?.close();
    unlock();
  }
}
