import { Command, CommanderError } from 'commander';
import { ExitCode, MetallmixError } from '../core/errors.ts';
import { registerBench } from './commands/bench.ts';
import { registerGbdt } from './commands/gbdt.ts';
import { registerImport } from './commands/import.ts';
import { registerKb } from './commands/kb.ts';
import { registerModels } from './commands/models.ts';
import { registerProfile } from './commands/profile.ts';
import { registerRecommend } from './commands/recommend.ts';
import { registerRecord } from './commands/record.ts';
import { registerRun } from './commands/run.ts';
import { registerSchema } from './commands/schema.ts';
import { registerServe } from './commands/serve.ts';
import { processIo, type CliIo } from './io.ts';
import { withExamples } from './output.ts';

/** Builds the `metallmix` program; each command lives in cli/commands and calls the library. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('metallmix')
    .description(
      'Zero-shot recommendations of a pretrained model and fine-tuning hyperparameters for an image classification dataset, from a knowledge base of past runs.',
    )
    .version('0.1.0')
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      outputError: (s, write) => write(s.replace(/^error: /, 'metallmix: ')),
    })
    .exitOverride();
  registerProfile(program, io);
  registerImport(program, io);
  registerKb(program, io);
  registerRecommend(program, io);
  registerRun(program, io);
  registerRecord(program, io);
  registerBench(program, io);
  registerSchema(program, io);
  registerGbdt(program, io);
  registerServe(program, io);
  registerModels(program, io);
  withExamples(program, [
    'metallmix recommend --profile examples/chest-xray-small.json',
    'metallmix import runs.csv --mapping my-mapping.json --kb runs.sqlite',
    'metallmix bench --kb runs.sqlite --report bench.html',
  ]);
  pointAtHelpAfterErrors(program);
  return program;
}

/**
 * A usage error prints the error and one line naming the command's --help, not the whole help
 * (about 90 lines for `recommend`, which buried the one line that matters).
 */
function pointAtHelpAfterErrors(cmd: Command): void {
  const path: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) path.unshift(c.name());
  cmd.showHelpAfterError(`Run \`${path.join(' ')} --help\` for its options and examples.`);
  for (const sub of cmd.commands) pointAtHelpAfterErrors(sub);
}

/** Runs the CLI; returns the exit code instead of exiting, so tests can call it in-process. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with code 0; usage errors were already printed.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
    }
    if (err instanceof MetallmixError) {
      io.stderr.write(`metallmix: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr.write(
      `metallmix: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return ExitCode.internal;
  }
}
