// The one place where metallmix decides where it keeps things outside the paths a user names:
// the cache, the per-user data (the user's knowledge base), the config file. Every other module
// gets these from here, computed from an explicit environment, so a face (or a test) that passes
// its own environment changes every location at once.
import os from 'node:os';
import path from 'node:path';

/** An environment: process.env, or what a face or a test passes instead. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The METALLMIX_* variables that locate things; the LLM reads its own METALLMIX_LLM_* ones. */
export const LOCATION_VARIABLES = {
  METALLMIX_KB: 'knowledge base to read and write when no --kb is given',
  METALLMIX_CACHE: 'cache directory (trained meta-learners, the built-in knowledge base image)',
  METALLMIX_DATA: "directory of the user's own knowledge base",
  METALLMIX_CONFIG: 'config file (YAML or JSON)',
} as const;

export interface Locations {
  /** METALLMIX_CACHE, else $XDG_CACHE_HOME/metallmix, else ~/.cache/metallmix. */
  cacheDir: string;
  /** METALLMIX_DATA, else $XDG_DATA_HOME/metallmix, else ~/.local/share/metallmix. */
  dataDir: string;
  /** METALLMIX_CONFIG, else $XDG_CONFIG_HOME/metallmix/config.yaml, else ~/.config/metallmix/config.yaml. */
  configFile: string;
  /** Whether the config file was named explicitly (then a missing file is an error). */
  configFileExplicit: boolean;
  /** The user's own knowledge base: where import, run and record write without --kb. */
  userKnowledgeBase: string;
  /** METALLMIX_KB when set. */
  knowledgeBase?: string;
}

const nonEmpty = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);

export function locations(env: Env = process.env): Locations {
  const home = nonEmpty(env.HOME) ?? os.homedir();
  const xdg = (name: string, fallback: string) => nonEmpty(env[name]) ?? path.join(home, fallback);
  const dataDir =
    nonEmpty(env.METALLMIX_DATA) ?? path.join(xdg('XDG_DATA_HOME', '.local/share'), 'metallmix');
  const explicitConfig = nonEmpty(env.METALLMIX_CONFIG);
  return {
    cacheDir:
      nonEmpty(env.METALLMIX_CACHE) ?? path.join(xdg('XDG_CACHE_HOME', '.cache'), 'metallmix'),
    dataDir,
    configFile:
      explicitConfig ?? path.join(xdg('XDG_CONFIG_HOME', '.config'), 'metallmix', 'config.yaml'),
    configFileExplicit: explicitConfig !== undefined,
    userKnowledgeBase: path.join(dataDir, 'kb.sqlite'),
    ...(nonEmpty(env.METALLMIX_KB) ? { knowledgeBase: env.METALLMIX_KB } : {}),
  };
}
