// One way to connect to PostgreSQL for everything metallmix reads there (a knowledge base, an
// Optuna storage): the settings the locator resolved, and a failure said with the masked URL
// and where the password came from, never the password.
import type pg from 'pg';
import { ExitCode, MetallmixError } from '../../core/index.ts';
import type { PostgresSettings } from './locator.ts';

/** A connected client; `what` names the database in errors ("the knowledge base"). */
export async function connectPostgres(
  settings: PostgresSettings,
  what: string,
): Promise<pg.Client> {
  // Loaded here, not at start-up: pg's module code probes the runtime (it loads Node's fetch
  // stack), which every command would pay for without ever touching PostgreSQL.
  const { default: driver } = await import('pg');
  const client = new driver.Client({
    host: settings.host,
    port: settings.port,
    user: settings.user,
    database: settings.database,
    password: settings.password,
    ssl: settings.ssl,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    application_name: 'metallmix',
  });
  // A server that goes away must fail the current call, not crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    const raw = (err as Error).message || String(err);
    // node-postgres words a missing password as its own type check.
    const reason = /client password must be a string/.test(raw)
      ? 'the server asks for a password'
      : raw;
    const missingDatabase = (err as { code?: string }).code === '3D000';
    const ignored = settings.ignoredPasswordFile
      ? `; ${settings.ignoredPasswordFile} was not read because others may read it (chmod 600 it)`
      : '';
    const hint = missingDatabase
      ? ` (create it first: createdb -h ${settings.host} -p ${settings.port} -U ${settings.user} ${settings.database})`
      : /password/i.test(reason)
        ? settings.passwordFrom
          ? ` (the password came from ${settings.passwordFrom})`
          : ` (no password was given: put it in the URL, PGPASSWORD or ~/.pgpass${ignored})`
        : '';
    throw new MetallmixError(`cannot connect to ${what}: ${reason}${hint}`, {
      location: { file: settings.label },
      // A database that is not there is the locator's mistake; the rest is the server's state.
      exitCode: missingDatabase ? ExitCode.badInput : ExitCode.unavailable,
      cause: err,
    });
  }
  return client;
}
