// Which backend serves a knowledge-base locator, and which knowledge base a command uses when
// none is named. Adding a backend is one folder plus one entry in BACKENDS.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { locations, MetallmixError, type Env } from '../core/index.ts';
import { BUILTIN_LABEL, openBuiltinKnowledgeBase } from './builtin.ts';
import type { KnowledgeBase } from './knowledge-base.ts';
import { LayeredKnowledgeBase } from './layered/knowledge-base.ts';
import { openSqliteKnowledgeBase } from './sqlite/knowledge-base.ts';
import { POSTGRES_SCHEME } from './postgres/locator.ts';

/**
 * The locator of the user's own knowledge base read together with the built-in one: what a
 * command reads when no knowledge base is named.
 */
export const USER_AND_BUILTIN = 'user+builtin';

export type KbMode = 'read' | 'write';

export interface OpenKbOptions {
  /** `read` never creates, migrates or writes anything; `write` creates the knowledge base if missing. */
  mode: KbMode;
  env?: Env;
}

interface Backend {
  name: string;
  /** Whether this backend serves the locator. */
  serves(locator: string): boolean;
  open(locator: string, options: OpenKbOptions & { env: Env }): Promise<KnowledgeBase>;
}

const URL_SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

const BACKENDS: Backend[] = [
  {
    name: 'builtin',
    serves: (l) => l === 'builtin' || l === BUILTIN_LABEL,
    async open(_l, { mode, env }) {
      if (mode === 'write')
        throw new MetallmixError(
          `the built-in knowledge base is read-only; write to your own with --kb PATH`,
          { location: { field: 'kb' } },
        );
      return openBuiltinKnowledgeBase(locations(env).cacheDir);
    },
  },
  {
    name: 'layered',
    serves: (l) => l === USER_AND_BUILTIN,
    async open(_l, { mode, env }) {
      const file = locations(env).userKnowledgeBase;
      // Without a knowledge base of the user's own there is nothing to layer: the built-in one
      // is read as it is (same label, version and index).
      if (mode === 'read' && !existsSync(file))
        return openBuiltinKnowledgeBase(locations(env).cacheDir);
      const user = openSqliteKnowledgeBase(file, { readonly: mode === 'read' });
      try {
        const builtin = await openBuiltinKnowledgeBase(locations(env).cacheDir);
        return new LayeredKnowledgeBase([user, builtin], {
          kind: 'file',
          path: `${file}.layered.vectors`,
        });
      } catch (err) {
        await user.close();
        throw err;
      }
    },
  },
  {
    name: 'sqlite',
    serves: (l) => !URL_SCHEME.test(l) || /^file:\/\//i.test(l),
    async open(l, { mode }) {
      const file = /^file:\/\//i.test(l) ? fileURLToPath(l) : l;
      return openSqliteKnowledgeBase(file, { readonly: mode === 'read' });
    },
  },
  {
    name: 'postgresql',
    serves: (l) => POSTGRES_SCHEME.test(l),
    // Loaded on use: the PostgreSQL client costs the commands on files nothing.
    async open(l, { mode, env }) {
      const { openPostgresKnowledgeBase } = await import('./postgres/knowledge-base.ts');
      return openPostgresKnowledgeBase(l, { readonly: mode === 'read', env });
    },
  },
];

/** Opens the knowledge base a locator names (a file path, `builtin`, a database URL). */
export async function openKnowledgeBase(
  locator: string,
  options: OpenKbOptions,
): Promise<KnowledgeBase> {
  if (locator.trim() === '')
    throw new MetallmixError('the knowledge base locator is empty', { location: { field: 'kb' } });
  const backend = BACKENDS.find((b) => b.serves(locator));
  if (!backend)
    throw new MetallmixError(
      `no knowledge-base backend for "${URL_SCHEME.exec(locator)?.[1]}://" locators; give a file path or one of: ${BACKENDS.map((b) => b.name).join(', ')}`,
      { location: { field: 'kb' } },
    );
  return backend.open(locator, { ...options, env: options.env ?? process.env });
}

/**
 * The locator a command reads from: the one given, else METALLMIX_KB, else the user's own
 * knowledge base together with the built-in one (`builtin: false`: the user's own alone).
 */
export function readLocator(
  kb: string | undefined,
  env: Env = process.env,
  options: { builtin?: boolean } = {},
): string {
  const named = kb || locations(env).knowledgeBase;
  if (named) return named;
  return options.builtin === false ? locations(env).userKnowledgeBase : USER_AND_BUILTIN;
}

/**
 * The locator a command writes to: the one given, else METALLMIX_KB, else the user's own
 * knowledge base; `defaulted` says that none was named, so the face can tell the user where.
 */
export function writeLocator(
  kb: string | undefined,
  env: Env = process.env,
): { locator: string; defaulted: boolean } {
  const named = kb || locations(env).knowledgeBase;
  return named
    ? { locator: named, defaulted: false }
    : { locator: locations(env).userKnowledgeBase, defaulted: true };
}
