// A PostgreSQL knowledge-base locator: `postgresql://user[:password]@host[:port]/db[?schema=...]`
// resolved into connection settings the way libpq resolves them (password from the URL, else
// PGPASSWORD, else the password file), with a label that never shows the password.
import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MetallmixError, type Env } from '../../core/index.ts';

export const POSTGRES_SCHEME = /^postgres(?:ql)?:\/\//i;

export interface PostgresSettings {
  host: string;
  port: number;
  user: string;
  database: string;
  password?: string;
  /** Where the password came from, for error messages (never the password itself). */
  passwordFrom?: 'url' | 'PGPASSWORD' | 'password file';
  /** A password file that was not read because others may read it (libpq ignores it too). */
  ignoredPasswordFile?: string;
  /** The PostgreSQL schema holding the knowledge base's tables. */
  schema: string;
  ssl?: boolean | { rejectUnauthorized: false };
  connectTimeoutMs: number;
  /** The locator with the password masked: what users see. */
  label: string;
}

export const DEFAULT_SCHEMA = 'metallmix';
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const KNOWN_PARAMETERS = ['schema', 'host', 'port', 'sslmode', 'connect_timeout', 'password'];

const fail = (label: string, reason: string): never => {
  throw new MetallmixError(reason, { location: { file: label, field: 'kb' } });
};

/**
 * A URL as shown to users (a PostgreSQL locator, an Optuna storage, an MLflow server): the
 * password replaced by `***`, in the user info and in a `password=` parameter. The user info is
 * taken to end at the last `@`, so a password with an unescaped `@`, `/`, `?` or `#` (which
 * makes the URL invalid, and its error show the label) is masked whole too.
 */
export function maskLocator(locator: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(locator);
  if (!m) return locator;
  let rest = m[2];
  const colon = rest.indexOf(':');
  const firstAt = rest.indexOf('@');
  // A user name holds no unescaped `:` or `@`: a `:` before the first `@` starts a password.
  if (colon >= 0 && firstAt > colon)
    rest = `${rest.slice(0, colon)}:***${rest.slice(rest.lastIndexOf('@'))}`;
  return m[1] + rest.replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/** Resolves a locator with the environment a face passes in (PGUSER, PGPASSWORD, PGPASSFILE, HOME). */
export function resolvePostgresLocator(locator: string, env: Env): PostgresSettings {
  const label = maskLocator(locator);
  let url: URL;
  try {
    url = new URL(locator);
  } catch {
    return fail(
      label,
      `not a valid PostgreSQL URL; write postgresql://USER@HOST:PORT/DATABASE (with @ : / ? # in the user name or password percent-encoded)`,
    );
  }
  for (const key of url.searchParams.keys())
    if (!KNOWN_PARAMETERS.includes(key))
      fail(label, `unknown parameter "${key}" in the URL; known: ${KNOWN_PARAMETERS.join(', ')}`);
  const decode = (s: string) => decodeURIComponent(s);
  const host =
    url.searchParams.get('host') ?? (decode(url.hostname).replace(/^\[|\]$/g, '') || 'localhost');
  const portText = url.searchParams.get('port') ?? url.port ?? '';
  const port = portText === '' ? 5432 : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    fail(label, `port "${portText}" is not a port number`);
  const user = decode(url.username) || env.PGUSER || os.userInfo().username;
  const database = decode(url.pathname.replace(/^\//, '')) || user;
  const schema = url.searchParams.get('schema') ?? DEFAULT_SCHEMA;
  if (!SCHEMA_NAME.test(schema))
    fail(label, `schema "${schema}" must be lower-case letters, digits and _ (at most 63)`);
  const sslmode = url.searchParams.get('sslmode') ?? 'disable';
  const ssl =
    sslmode === 'disable' || sslmode === 'allow' || sslmode === 'prefer'
      ? undefined
      : sslmode === 'require'
        ? ({ rejectUnauthorized: false } as const)
        : sslmode === 'verify-ca' || sslmode === 'verify-full'
          ? true
          : fail(
              label,
              `sslmode "${sslmode}" is not one of disable, require, verify-ca, verify-full`,
            );
  const timeoutText = url.searchParams.get('connect_timeout');
  const connectTimeoutMs = timeoutText === null ? 10_000 : Number(timeoutText) * 1000;
  if (!(connectTimeoutMs > 0))
    fail(label, `connect_timeout "${timeoutText}" is not a number of seconds`);
  const base = { host, port, user, database, schema, ssl, connectTimeoutMs, label };
  if (url.password !== '') return { ...base, password: decode(url.password), passwordFrom: 'url' };
  // libpq's `?password=` parameter (URLSearchParams has decoded it already).
  const parameter = url.searchParams.get('password');
  if (parameter !== null) return { ...base, password: parameter, passwordFrom: 'url' };
  if (env.PGPASSWORD) return { ...base, password: env.PGPASSWORD, passwordFrom: 'PGPASSWORD' };
  const file = env.PGPASSFILE || path.join(env.HOME || os.homedir(), '.pgpass');
  const fromFile = passwordFromFile(file, { host, port, database, user });
  if (fromFile !== undefined) return { ...base, password: fromFile, passwordFrom: 'password file' };
  return othersMayRead(file) ? { ...base, ignoredPasswordFile: file } : base;
}

/** Splits a password-file line at unescaped colons, undoing `\:` and `\\`. */
function fields(line: string): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && i + 1 < line.length) current += line[++i];
    else if (c === ':') {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out;
}

/** Whether a password file exists with group or other permissions (which libpq refuses). */
function othersMayRead(file: string): boolean {
  try {
    return (statSync(file).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}

/**
 * The password of the first matching line of a libpq password file
 * (`hostname:port:database:username:password`, `*` matches anything). As libpq does, a file
 * that others may read is ignored, and a Unix-socket connection matches the host `localhost`.
 */
export function passwordFromFile(
  file: string,
  target: { host: string; port: number; database: string; user: string },
): string | undefined {
  let text: string;
  try {
    if (othersMayRead(file)) return undefined;
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const host = target.host.startsWith('/') ? 'localhost' : target.host;
  const wanted = [host, String(target.port), target.database, target.user];
  for (const raw of text.split(/\r?\n/)) {
    if (raw.trim() === '' || raw.startsWith('#')) continue;
    const f = fields(raw);
    if (f.length < 5) continue;
    if (wanted.every((w, i) => f[i] === '*' || f[i] === w)) return f.slice(4).join(':');
  }
  return undefined;
}
