// What the browser tests share: the page built by Vite into a temp folder, a real server on a free
// port of 127.0.0.1 serving it, and Debian's Chromium driven by playwright-core.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
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

/** A piece of text a chart drew, in CSS pixels of its canvas. */
export interface DrawnText {
  chart: string;
  text: string;
  left: number;
  right: number;
  y: number;
  /** Drawn turned (Chart.js turns crowded x labels): its box is not checked. */
  rotated: boolean;
  canvasWidth: number;
}

/**
 * Records the text every canvas draws (the labels Chart.js writes), from the page's start: each
 * canvas's last drawing only, as Chart.js clears a canvas before it redraws it.
 */
export async function recordChartText(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const drawn = new Map<HTMLCanvasElement, Omit<DrawnText, 'chart' | 'canvasWidth'>[]>();
    (window as unknown as { chartText: () => DrawnText[] }).chartText = () =>
      [...drawn].flatMap(([canvas, texts]) =>
        texts.map((t) => ({
          ...t,
          chart: canvas.closest('[data-testid]')?.getAttribute('data-testid') ?? '',
          canvasWidth: canvas.clientWidth,
        })),
      );
    const proto = CanvasRenderingContext2D.prototype;
    const clearRect = proto.clearRect;
    proto.clearRect = function (this: CanvasRenderingContext2D, ...args) {
      drawn.set(this.canvas, []);
      return clearRect.apply(this, args);
    };
    const fillText = proto.fillText;
    proto.fillText = function (this: CanvasRenderingContext2D, text, x, y, ...rest) {
      const s = String(text);
      if (s) {
        const m = this.getTransform();
        const dpr = window.devicePixelRatio || 1;
        const w = this.measureText(s).width;
        const align = this.textAlign;
        const x0 =
          align === 'right' || align === 'end' ? x - w : align === 'center' ? x - w / 2 : x;
        if (!drawn.has(this.canvas)) drawn.set(this.canvas, []);
        drawn.get(this.canvas)!.push({
          text: s,
          left: (m.a * x0 + m.e) / dpr,
          right: (m.a * (x0 + w) + m.e) / dpr,
          y: (m.d * y + m.f) / dpr,
          rotated: Math.abs(m.b) > 1e-6,
        });
      }
      return fillText.call(this, text, x, y, ...rest);
    };
  });
}

export function chartText(page: Page): Promise<DrawnText[]> {
  return page.evaluate(() => (window as unknown as { chartText: () => DrawnText[] }).chartText());
}

/** Labels cut off at a canvas's left or right edge. */
export function clipped(texts: DrawnText[]): DrawnText[] {
  return texts.filter((t) => !t.rotated && (t.left < -0.5 || t.right > t.canvasWidth + 0.5));
}

/** Pairs of labels of one chart, on one line, drawn over each other. */
export function overlapping(texts: DrawnText[], chart: string): string[] {
  const lines = new Map<number, DrawnText[]>();
  for (const t of texts.filter((t) => t.chart === chart && !t.rotated)) {
    const y = Math.round(t.y);
    lines.set(y, [...(lines.get(y) ?? []), t]);
  }
  const out: string[] = [];
  for (const line of lines.values()) {
    line.sort((a, b) => a.left - b.left);
    for (let i = 1; i < line.length; i++)
      if (line[i].left < line[i - 1].right - 0.5) out.push(`${line[i - 1].text}|${line[i].text}`);
  }
  return out;
}
