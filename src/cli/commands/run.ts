import { Option, type Command } from 'commander';
import {
  AUTO,
  ExitCode,
  MetallmixError,
  MODALITIES,
  Objective,
  STRATEGIES,
  run,
  type Modality,
  type RunEvent,
  type RunReport,
  type TrialState,
} from '../../index.ts';
import type { CliIo } from '../io.ts';
import { NO_BUILTIN_HELP, READ_KB_HELP } from '../kb-flags.ts';
import { emit, jsonOption, listFlag, say, table, withExamples } from '../output.ts';
import { integer, positiveInt } from '../parse-flags.ts';

interface RunFlags {
  dataset?: string;
  manifest?: string;
  profile?: string;
  modality?: Modality;
  datasetName?: string;
  command?: string;
  trials?: number;
  parallel?: number;
  executor?: 'local' | 'slurm';
  partition?: string;
  gres?: string;
  sbatchArg: string[];
  time?: string;
  env: string[];
  config?: string;
  name?: string;
  runDir?: string;
  resume?: string;
  dryRun?: boolean;
  kb?: string;
  builtin: boolean;
  metric?: string;
  objective?: Objective;
  strategy?: string;
  seed?: number;
  models?: string;
  quiet?: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

const configText = (c: Record<string, unknown>) =>
  Object.entries(c)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(4)) : v}`)
    .join(' ');

const metricText = (v: number | undefined) => (v === undefined ? '' : v.toFixed(4));

function describeEvent(e: RunEvent, metric: string): string | undefined {
  const of = (t: TrialState, c: { done: number; running: number; left: number }) =>
    `trial ${t.trial}/${c.done + c.running + c.left}`;
  switch (e.type) {
    case 'recommending':
      return `trial ${e.trial}: asking the knowledge base for a recommendation`;
    case 'notice':
      return e.message;
    case 'started':
    case 'reattached': {
      const t = e.trial;
      const predicted = t.predictedMetric
        ? `, predicted ${metric} ${t.predictedMetric.mean.toFixed(3)} [${t.predictedMetric.low.toFixed(3)}, ${t.predictedMetric.high.toFixed(3)}]`
        : '';
      const limit =
        t.timeLimitSec !== undefined ? `, time limit ${Math.round(t.timeLimitSec)} s` : '';
      const job = t.handle
        ? ` (${t.handle.executor} ${t.handle.executor === 'slurm' ? 'job' : 'pid'} ${t.handle.id})`
        : '';
      return e.type === 'reattached'
        ? `${of(t, e.counts)} re-attached${job}: ${t.model} ${configText(t.config)}`
        : `${of(t, e.counts)} started${job}: ${t.model} ${configText(t.config)} — ${t.continues ? `continuing ${t.continues} recorded trial${t.continues === 1 ? '' : 's'}, ` : ''}rank ${t.rank} of ${t.recommendationId}${predicted}${limit}`;
    }
    case 'ended': {
      const t = e.trial;
      const o = t.outcome!;
      const what =
        o.status === 'finished'
          ? `finished: ${metric} ${metricText(o.metrics[metric])}${o.trainingTimeSec !== undefined ? `, ${o.trainingTimeSec.toFixed(1)} s` : ''}`
          : `${o.status}: ${o.reason ?? ''}${o.stderrTail ? ` (stderr: ${o.stderrTail.split('\n').pop()})` : ''}`;
      const best = e.best
        ? `best ${metricText(e.best.value)} (trial ${e.best.trial})`
        : 'no finished trial yet';
      return `${of(t, e.counts)} ${what} | done ${e.counts.done}, running ${e.counts.running}, left ${e.counts.left} | ${best}`;
    }
  }
}

function render(r: RunReport): string {
  if (r.dryRun)
    return [
      `dry run of ${r.name} (nothing started): trial ${r.trials.length + 1} would run`,
      `  ${r.dryRun.model} ${configText(r.dryRun.config)}`,
      `  $ ${r.dryRun.command}`,
    ].join('\n');
  const lines = [
    `run ${r.name} (${r.executor}) on ${r.dataset}: ${r.trials.length} trial(s), records in ${r.knowledgeBase}`,
    table(
      ['#', 'status', 'model', 'config', r.metric, 'time s', 'note'],
      r.trials.map((t) => [
        t.trial,
        t.status,
        t.model,
        configText(t.config),
        metricText(t.metrics[r.metric]),
        t.trainingTimeSec === undefined ? '' : t.trainingTimeSec.toFixed(1),
        (t.reason ?? '').slice(0, 80),
      ]),
    ),
  ];
  if (r.best)
    lines.push(
      `best: trial ${r.best.trial}, ${r.metric} ${metricText(r.best.value)}: ${r.best.model} ${configText(r.best.config)}`,
    );
  if (r.next)
    lines.push(
      `next suggestion (${r.next.continues ? `continuing ${r.next.continues} recorded trial${r.next.continues === 1 ? '' : 's'}, ` : ''}rank ${r.next.rank} of ${r.next.recommendationId}${r.next.predictedMetric ? `, predicted ${r.metric} ${r.next.predictedMetric.mean.toFixed(4)}` : ''}): ${r.next.model} ${configText(r.next.config)}`,
      `  run it with: metallmix run --resume ${r.runDir} --trials ${r.trials.length + 1}`,
    );
  lines.push(`logs: ${r.runDir}/trial-NNN/{stdout,stderr}.log`);
  return lines.join('\n');
}

export function registerRun(program: Command, io: CliIo): void {
  const cmd = program
    .command('run')
    .description(
      'Run the recommended configurations with your training command, on this machine or through Slurm, and record every trial in the knowledge base (the first trial is the zero-shot pick, each next one the best untried configuration of a fresh recommendation)',
    )
    .option('--dataset <dir>', 'image folder, one sub-folder per class ({dataset_dir})')
    .option('--manifest <file>', 'CSV manifest path,label[,split] ({manifest})')
    .option('--profile <file>', 'dataset profile JSON (the command then gets no {dataset_dir})')
    .addOption(new Option('--modality <modality>', 'imaging modality').choices(MODALITIES))
    .option(
      '--dataset-name <name>',
      "the name the dataset's records carry (default: the folder's name)",
    )
    .option(
      '--command <template>',
      'training command; placeholders {model} {dataset_dir} {dataset} {trial} {result_file} {seed} {args} {<hyperparameter>} ({name:-default} for an inactive one); it prints METALLMIX_RESULT {"accuracy": ...} or writes $METALLMIX_RESULT_FILE',
    )
    .option('--trials <n>', 'trial budget (default 5)', positiveInt)
    .option('--parallel <n>', 'trials at once (default 1)', positiveInt)
    .addOption(
      new Option('--executor <name>', 'where trials run (default local)').choices([
        'local',
        'slurm',
      ]),
    )
    .option('--partition <name>', 'Slurm partition')
    .option('--gres <spec>', 'Slurm generic resources, e.g. gpu:1')
    .option('--sbatch-arg <arg>', 'extra sbatch argument, one word (repeatable)', collect, [])
    .option(
      '--time <limit>',
      'per-trial time limit: auto (3x the predicted training time, at least 5 min), none, minutes, 90s, 20m, 2h, H:MM:SS (default auto)',
    )
    .option(
      '--env <NAME=VALUE>',
      'variable for every trial (repeatable; the value may use placeholders)',
      collect,
      [],
    )
    .option(
      '--config <file>',
      'run config (YAML/JSON): command, env, trials, parallel, executor, time, partition, gres, sbatchArgs, metric, models',
    )
    .option('--name <name>', 'name of the run (default: dataset and time)')
    .option('--run-dir <dir>', 'folder for the state and the logs (default metallmix-runs/NAME)')
    .option(
      '--resume <dir>',
      'continue the run in this folder: finished trials stay, running ones are re-attached (with --trials to extend it)',
    )
    .option(
      '--dry-run',
      'check the command against the search space and show the first trial, running nothing',
    )
    .option(
      '--kb <path>',
      READ_KB_HELP.replace('knowledge base:', 'knowledge base to read and write:'),
    )
    .option('--no-builtin', NO_BUILTIN_HELP)
    .option('--metric <name>', 'metric the trials are ranked by (default accuracy)')
    .addOption(
      new Option('--objective <objective>', 'objective of the recommendations').choices(
        Objective.options,
      ),
    )
    .addOption(
      new Option('--strategy <name>', 'recommendation strategy (default auto)').choices([
        AUTO,
        ...STRATEGIES.map((s) => s.name),
      ]),
    )
    .option('--seed <n>', 'seed of the recommendations ({seed})', integer)
    .option('--models <ids>', 'only these models (comma-separated)')
    .option('--quiet', 'no progress lines')
    .addOption(jsonOption());
  cmd.action(async (flags: RunFlags) => {
    const given = [flags.dataset, flags.manifest, flags.profile].filter((x) => x !== undefined);
    if (!flags.resume && given.length !== 1)
      throw new MetallmixError(
        'give exactly one of --dataset DIR, --manifest FILE, --profile FILE (or --resume DIR)',
      );
    const controller = new AbortController();
    const onSignal = () => {
      say(
        io,
        'interrupted: no new trial starts; local trials are stopped and recorded, Slurm jobs keep running (press Ctrl-C again to quit at once)',
      );
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let report: RunReport;
    try {
      report = await run({
        ...(given.length
          ? {
              dataset: {
                ...(flags.dataset !== undefined ? { imageFolder: flags.dataset } : {}),
                ...(flags.manifest !== undefined ? { manifest: flags.manifest } : {}),
                ...(flags.profile !== undefined ? { profileFile: flags.profile } : {}),
                ...(flags.modality ? { modality: flags.modality } : {}),
              },
            }
          : {}),
        datasetName: flags.datasetName,
        command: flags.command,
        trials: flags.trials,
        parallel: flags.parallel,
        executor: flags.executor,
        partition: flags.partition,
        gres: flags.gres,
        sbatchArgs: flags.sbatchArg.length ? flags.sbatchArg : undefined,
        time: flags.time,
        jobEnv: flags.env.length ? flags.env : undefined,
        configFile: flags.config,
        name: flags.name,
        runDir: flags.runDir,
        resume: flags.resume,
        dryRun: flags.dryRun,
        kb: flags.kb,
        builtin: flags.builtin,
        metric: flags.metric,
        objective: flags.objective,
        strategy: flags.strategy,
        seed: flags.seed,
        models: listFlag(flags.models),
        env: io.env,
        signal: controller.signal,
        onEvent: (e, { metric }) => {
          if (flags.quiet || flags.json) return;
          const line = describeEvent(e, metric);
          if (line) say(io, line);
        },
      });
    } finally {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
    for (const n of report.notices) say(io, n);
    if (report.defaultedKnowledgeBase && !flags.json)
      say(
        io,
        `no --kb or METALLMIX_KB given; the trials are recorded in ${report.knowledgeBase} (read with ${report.readFrom})`,
      );
    emit(io, report, flags.json, render);
    if (report.interrupted)
      throw new MetallmixError(
        `interrupted; continue with: metallmix run --resume ${report.runDir}`,
        {
          exitCode: 130,
        },
      );
    if (report.trials.length > 0 && report.trials.every((t) => t.status !== 'finished'))
      throw new MetallmixError(
        `no trial finished (see the notes above and the logs in ${report.runDir})`,
        {
          exitCode: ExitCode.unsatisfiable,
        },
      );
  });
  withExamples(cmd, [
    `metallmix run --dataset /tmp/digits --no-builtin --trials 5 --command '/usr/bin/python3 examples/train_digits.py --data {dataset_dir} --model {model} {args}'`,
    `metallmix run --dataset ./images --executor slurm --partition gpu --gres gpu:1 --time auto --command 'python train.py --data {dataset_dir} --model {model} {args}'`,
    'metallmix run --resume metallmix-runs/images-20261201-101500 --trials 8',
  ]);
}
