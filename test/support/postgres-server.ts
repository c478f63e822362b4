// A real PostgreSQL 15 server for tests and benchmarks: initdb into a temporary directory, start
// on a free port of 127.0.0.1 with password (scram-sha-256) authentication, stop and remove it
// afterwards. As root, the server runs as the `postgres` user (PostgreSQL refuses to run as
// root), which then owns the directory. scripts/install-system-deps.sh installs the server.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';

export interface PostgresServer {
  port: number;
  /** The superuser and its password. */
  user: string;
  password: string;
  /** A URL for `database` (default postgres), with the password in it unless `password: false`. */
  url(options?: { database?: string; password?: boolean; schema?: string }): string;
  /** Runs SQL as the superuser on `database`. */
  sql(text: string, database?: string): Promise<pg.QueryResult>;
  /** A new, empty database. */
  createDatabase(name: string): Promise<string>;
  stop(): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The `postgres` account's uid and gid when running as root; undefined otherwise. */
function serverAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * Starts a server, or returns why it cannot (so a test can skip with that message).
 * `durable: false` turns fsync off: tests do not test crash safety, benchmarks keep it on.
 */
export async function startPostgres(
  options: { durable?: boolean } = {},
): Promise<PostgresServer | string> {
  if (!existsSync(path.join(POSTGRES_BIN, 'initdb')))
    return `PostgreSQL 15 is not installed (${POSTGRES_BIN}); run scripts/install-system-deps.sh`;
  let account: { uid: number; gid: number } | undefined;
  try {
    account = serverAccount();
  } catch {
    return 'running as root, and there is no `postgres` user to run the server as';
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metallmix-pg-'));
  const data = path.join(dir, 'data');
  const user = 'metallmix_admin';
  const password = randomBytes(12).toString('hex');
  const pwfile = path.join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`);
  const run = (bin: string, args: string[]) =>
    execFileSync(
      account ? 'runuser' : path.join(POSTGRES_BIN, bin),
      account ? ['-u', 'postgres', '--', path.join(POSTGRES_BIN, bin), ...args] : args,
      { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
    );
  if (account) {
    chownSync(dir, account.uid, account.gid);
    chownSync(pwfile, account.uid, account.gid);
  }
  chmodSync(dir, 0o700);
  try {
    run('initdb', [
      '-D',
      data,
      '-U',
      user,
      `--pwfile=${pwfile}`,
      '--auth-host=scram-sha-256',
      '--auth-local=scram-sha-256',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return `initdb failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`;
  }
  const port = await freePort();
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c max_connections=50',
    ...(options.durable ? [] : ['-c fsync=off', '-c synchronous_commit=off']),
  ].join(' ');
  try {
    run('pg_ctl', ['-D', data, '-o', settings, '-l', path.join(dir, 'server.log'), '-w', 'start']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return `the server did not start: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`;
  }
  let stopped = false;
  const url = (o: { database?: string; password?: boolean; schema?: string } = {}) =>
    `postgresql://${user}${o.password === false ? '' : `:${password}`}@127.0.0.1:${port}/${o.database ?? 'postgres'}${o.schema ? `?schema=${o.schema}` : ''}`;
  const sql = async (text: string, database?: string) => {
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      user,
      password,
      database: database ?? 'postgres',
    });
    await client.connect();
    try {
      return await client.query(text);
    } finally {
      await client.end();
    }
  };
  return {
    port,
    user,
    password,
    url,
    sql,
    async createDatabase(name) {
      await sql(`CREATE DATABASE "${name}"`);
      return name;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
