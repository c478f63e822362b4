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
    const reason = (err as Error).message || String(err);
    const hint = /password/i.test(reason)
      ? settings.passwordFrom
        ? ` (the password came from ${settings.passwordFrom})`
        : ' (no password was given: put it in the URL, PGPASSWORD or ~/.pgpass)'
      : '';
    throw new MetallmixError(`cannot connect to ${what}: ${reason}${hint}`, {
      location: { file: settings.label },
      exitCode: ExitCode.unavailable,
      cause: err,
    });
  }
  return client;
}
