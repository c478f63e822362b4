import type { Command } from 'commander';
import type { LlmFlags } from '../../llm/index.ts';
import type { CliIo } from '../io.ts';
import { llmOptions } from '../llm-options.ts';
import { say, withExamples } from '../output.ts';
import { integer, positiveInt } from '../parse-flags.ts';

interface ServeFlags {
  host: string;
  port: number;
  kb?: string;
  token?: string;
  auth: boolean;
  maxJobs: number;
  workers: number;
  maxUploadMb: number;
  llmConfig?: string;
}

/** Resolves on SIGINT or SIGTERM: the server runs until the user stops it. */
function untilStopped(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function registerServe(program: Command, io: CliIo): void {
  const cmd = program
    .command('serve')
    .description(
      'Serve the HTTP API (/v1/..., OpenAPI at /v1/openapi.json) and the web page (/) over the same library',
    )
    .option(
      '--host <address>',
      'address to bind; beyond loopback needs --token or --no-auth',
      '127.0.0.1',
    )
    .option('--port <n>', 'port (0: any free port)', integer, 8080)
    .option(
      '--kb <path>',
      'knowledge base every request reads (default: $METALLMIX_KB, else the built-in MedMNIST starter)',
    )
    .option(
      '--token <token>',
      'require this bearer token on the API (default $METALLMIX_SERVE_TOKEN; at least 16 characters)',
    )
    .option('--no-auth', 'allow binding beyond loopback without a token')
    .option('--max-jobs <n>', 'bench jobs running at once (more are answered 429)', positiveInt, 1)
    .option('--workers <n>', 'worker threads for recommend, profile and import', positiveInt, 1)
    .option('--max-upload-mb <n>', 'largest upload accepted (413 beyond)', positiveInt, 64)
    .option('--llm-config <file>', 'LLM config file (YAML or JSON)');
  llmOptions(cmd);
  cmd.action(async (flags: ServeFlags & LlmFlags) => {
    const token = flags.token ?? (io.env.METALLMIX_SERVE_TOKEN || undefined);
    // Loaded here: the server and its framework cost every other command's start-up nothing.
    const { startServer } = await import('../../server/server.ts');
    const server = await startServer({
      host: flags.host,
      port: flags.port,
      kb: flags.kb,
      env: io.env,
      llm: { flags, configFile: flags.llmConfig },
      token,
      noAuth: !flags.auth,
      maxJobs: flags.maxJobs,
      workers: flags.workers,
      maxUploadBytes: flags.maxUploadMb * 2 ** 20,
      log: (line) => void io.stderr.write(`${line}\n`),
    });
    say(
      io,
      `serving ${server.url}/ (API ${server.url}/v1/openapi.json; ${token ? 'bearer token required' : 'no auth'}); Ctrl-C stops`,
    );
    io.stdout.write(`${server.url}\n`);
    const signal = await untilStopped();
    say(io, `${signal}: stopping`);
    await server.close();
  });
  withExamples(cmd, [
    'metallmix serve',
    'metallmix serve --port 9000 --kb runs.sqlite',
    'metallmix serve --host 0.0.0.0 --token "$(openssl rand -hex 24)"',
  ]);
}
