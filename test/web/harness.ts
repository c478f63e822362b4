// What the browser tests share: the page built by Vite into a temp folder, a real server on a free
// port of 127.0.0.1 serving it, and Debian's Chromium driven by playwright-core.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { build } from 'vite';
import { startServer, type RunningServer } from '../../src/server/server.ts';

export const CHROMIUM = '/usr/bin/chromium';
/** Where the test run writes its screenshots (gitignored; named in the README). */
export const SCREENSHOTS = new URL('../../test-screenshots/', import.meta.url).pathname;

export const chromiumMissing = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing: bash scripts/install-system-deps.sh installs Debian's chromium`;

export interface Harness {
  server: RunningServer;
  /** A fresh profile (--user-data-dir) of its own, as playwright's persistent context makes it. */
  browser: BrowserContext;
  close(): Promise<void>;
}

/** The page is built once per test process, from the sources as they are. */
let built: Promise<string> | undefined;
function buildPage(): Promise<string> {
  built ??= (async () => {
    const webRoot = mkdtempSync(path.join(tmpdir(), 'metallmix-web-build-'));
    process.once('exit', () => rmSync(webRoot, { recursive: true, force: true }));
    await build({
      configFile: new URL('../../src/web/vite.config.ts', import.meta.url).pathname,
      build: { outDir: webRoot, emptyOutDir: true },
      logLevel: 'error',
    });
    return webRoot;
  })();
  return built;
}

/** `kb`: the knowledge base the server reads (default: the built-in one). */
export async function startHarness(kb?: string): Promise<Harness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'metallmix-web-test-'));
  const webRoot = await buildPage();
  const server = await startServer({
    port: 0,
    kb,
    webRoot,
    // A cache of its own, so the first request fits the meta-learner as on a new machine.
    env: { ...process.env, METALLMIX_CACHE: path.join(dir, 'cache'), METALLMIX_KB: '' },
  });
  const browser = await chromium.launchPersistentContext(path.join(dir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    server,
    browser,
    async close() {
      await browser.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
