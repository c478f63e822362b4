// The web page in a real browser (Debian's Chromium through playwright-core) against a real
// server on 127.0.0.1: the recommend form with the example profile, a bad profile's field error,
// the knowledge-base view, a bench job run to the end with progress, the keyboard path and a
// phone-sized window. Each view is written as a screenshot into test-screenshots/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { importRuns, type Recommendation } from '../../src/index.ts';
import {
  SCREENSHOTS,
  chartText,
  chromiumMissing,
  clipped,
  overlapping,
  recordChartText,
  startHarness,
  type Harness,
} from './harness.ts';

const EXAMPLE = JSON.parse(
  readFileSync(new URL('../../examples/chest-xray-small.json', import.meta.url), 'utf8'),
);

const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

describe('the web page in Chromium', { skip: chromiumMissing }, () => {
  let harness: Harness;
  before(async () => {
    harness = await startHarness();
  });
  after(async () => {
    await harness?.close();
  });

  async function open(hash = '#recommend', viewport = { width: 1280, height: 800 }) {
    const page = await harness.browser.newPage();
    await page.setViewportSize(viewport);
    const problems: string[] = [];
    await recordChartText(page);
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    await page.goto(`${harness.server.url}/${hash}`);
    return { page, problems };
  }

  /** Chart.js drew something: the canvas has pixels that are not blank. */
  const drawn = (page: Page, testId: string) =>
    page.locator(`[data-testid="${testId}"] canvas`).evaluate((c: HTMLCanvasElement) => {
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let inked = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) inked++;
      return { width: c.width, inked };
    });

  test('the example profile gets the pick the API gives, with its charts and evidence', async () => {
    const body = { profile: EXAMPLE, objective: 'balanced', budgetMinutes: 3 };
    const expected: Recommendation = await (
      await fetch(`${harness.server.url}/v1/recommend`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, strategy: 'auto', metric: 'accuracy', topK: 5 }),
      })
    ).json();
    const { page, problems } = await open();
    await page.getByTestId('use-example').click();
    assert.equal(await page.getByLabel('Name').inputValue(), EXAMPLE.name);
    await page.getByLabel('Objective').selectOption('balanced');
    await page.getByLabel('Budget (minutes)').fill('3');
    await page.getByRole('button', { name: 'Recommend' }).click();
    const pick = page.getByTestId('pick');
    await pick.waitFor();
    assert.match(await pick.innerText(), new RegExp(`Pick: ${expected.pick.model}`));
    assert.match(await pick.innerText(), /80%:/);
    // The ties are explained by the rule that marked them: here the validated tie margin.
    assert.ok(expected.validation && expected.topK.some((c) => c.tied !== undefined));
    assert.match(
      await page.getByTestId('tied').innerText(),
      new RegExp(`within ${expected.validation.tieMargin.toFixed(2)} points of the top score`),
    );
    await page.locator('[data-testid="pareto-chart"][data-ready]').waitFor();
    await page.locator('[data-testid="shap-chart"][data-ready]').waitFor();
    for (const id of ['pareto-chart', 'shap-chart']) {
      const canvas = await drawn(page, id);
      assert.ok(
        canvas.width > 300 && canvas.inked > 1000,
        `${id} drew nothing: ${JSON.stringify(canvas)}`,
      );
    }
    const rows = await page.locator('table').first().locator('tbody tr').count();
    assert.equal(rows, expected.topK.length);
    const cards = await page.getByTestId('evidence').locator('li').count();
    assert.equal(cards, expected.pick.evidence.length);
    assert.ok(cards > 0, 'the pick has evidence cards');
    await page.getByRole('button', { name: 'as Optuna enqueue script' }).click();
    await page.locator('pre').first().waitFor();
    assert.match(await page.locator('pre').first().innerText(), /enqueue_trial/);
    await shot(page, 'recommend-1280x800');
    // The window a person sees first: the pick, its table and the Pareto chart.
    await page.evaluate(() =>
      window.scrollTo(
        0,
        document.querySelector('[data-testid="pick"]')!.getBoundingClientRect().top +
          window.scrollY -
          8,
      ),
    );
    await page.screenshot({ path: path.join(SCREENSHOTS, 'recommend-answer-1280x800.png') });
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('a bad profile shows the field error next to its field and moves focus there', async () => {
    const { page } = await open();
    await page.getByTestId('use-example').click();
    await page.getByLabel('Images', { exact: true }).fill('0');
    await page.getByRole('button', { name: 'Recommend' }).click();
    const error = page.locator('#profile-numInstances-error');
    await error.waitFor();
    assert.match(await error.innerText(), /too small|>0|positive/i);
    assert.equal(
      await page.getByLabel('Images', { exact: true }).getAttribute('aria-invalid'),
      'true',
    );
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'profile-numInstances');
    assert.match(await page.getByRole('alert').innerText(), /profile\.numInstances/);
    await shot(page, 'recommend-field-error');
    await page.close();
  });

  test('keyboard: skip link, navigation, and the form submits with Enter', async () => {
    const { page } = await open();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Recommend');
    await page.getByTestId('use-example').focus();
    await page.keyboard.press('Enter');
    await page.getByLabel('Name').focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('pick').waitFor();
    const unlabeled = await page.evaluate(
      () =>
        [...document.querySelectorAll('input, select, textarea')].filter(
          (el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label'),
        ).length,
    );
    assert.equal(unlabeled, 0, 'every control has a label');
    await page.close();
  });

  test('a phone-sized window (390x844) shows the answer without sideways scrolling', async () => {
    const { page } = await open('#recommend', { width: 390, height: 844 });
    await page.getByTestId('use-example').click();
    await page.getByRole('button', { name: 'Recommend' }).click();
    await page.locator('[data-testid="shap-chart"][data-ready]').waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page is ${width}px wide`);
    const chart = await page.getByTestId('pareto-chart').boundingBox();
    assert.ok(chart && chart.width <= 390);
    // A long label (model = swin_tiny_patch4_window7_224) is shortened, not cut at the edge.
    assert.deepEqual(clipped(await chartText(page)), []);
    await shot(page, 'recommend-390x844');
    await page.close();
  });

  test('the knowledge-base view shows counts per dataset and model and the search space', async () => {
    const { page } = await open('#kb');
    await page.locator('[data-testid="kb-chart"][data-ready]').waitFor();
    assert.match(
      await page.getByTestId('kb-summary').innerText(),
      /320 records of 10 datasets and 4 models/,
    );
    assert.match(await page.getByRole('table', { name: /Search space/ }).innerText(), /strategy/);
    assert.ok((await drawn(page, 'kb-chart')).inked > 1000);
    await shot(page, 'kb-1280x800');
    await page.close();
  });

  test('the knowledge-base view fits a phone-sized window (390x844)', async () => {
    const { page } = await open('#kb', { width: 390, height: 844 });
    await page.locator('[data-testid="kb-chart"][data-ready]').waitFor();
    assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 390);
    assert.ok((await page.getByTestId('kb-chart').boundingBox())!.width <= 390);
    assert.deepEqual(clipped(await chartText(page)), []);
    await shot(page, 'kb-390x844');
    await page.close();
  });

  test('a bench job runs to the end with progress, then shows regret charts and the table', async () => {
    const { page } = await open('#bench');
    // The view renders once the page has read the API's choices: wait for it before listing boxes.
    await page.locator('#method-random').waitFor();
    for (const box of await page.locator('input[id^="method-"]').all()) await box.uncheck();
    await page.locator('#method-random').check();
    await page.locator('#method-single-best').check();
    await page.getByLabel(/HPO baselines/).fill('');
    for (const box of await page.locator('input[id^="dataset-"]').all()) await box.uncheck();
    for (const d of ['bloodmnist', 'breastmnist', 'dermamnist'])
      await page.locator(`#dataset-${d}`).check();
    await page.getByLabel('Seeds of the random methods').fill('1');
    const seen = new Set<string>();
    const progress = page.getByTestId('bench-progress');
    await page.getByRole('button', { name: 'Start bench' }).click();
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const text = await progress.innerText();
      seen.add(text);
      if (/^Done/.test(text)) break;
      await page.waitForTimeout(50);
    }
    assert.ok(
      [...seen].some((t) => /^Done: 3 datasets held out/.test(t)),
      [...seen].join(' | '),
    );
    assert.ok(
      [...seen].some((t) => /^Job job-\d+ started|of 3 held-out datasets/.test(t)),
      `progress was shown: ${[...seen].join(' | ')}`,
    );
    await page.locator('[data-testid="regret-chart"][data-ready]').waitFor();
    await page.locator('[data-testid="cost-chart"][data-ready]').waitFor();
    const methods = await page
      .getByRole('table', { name: 'Summary per method' })
      .locator('tbody tr td:first-child')
      .allInnerTexts();
    assert.deepEqual(methods, ['random', 'single-best']);
    await shot(page, 'bench-1280x800');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(200);
    assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 390);
    await shot(page, 'bench-390x844');
    await page.close();
  });
});

const QUICKTUNE = new URL(
  '../../../shared/metadata/quicktune-metaalbum-micro-wandb/',
  import.meta.url,
).pathname;

describe(
  'the bench view with 30 datasets (Quick-Tune micro from ../shared)',
  {
    skip: chromiumMissing || (existsSync(QUICKTUNE) ? false : `${QUICKTUNE} is absent`),
  },
  () => {
    let harness: Harness;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'metallmix-web-qt-'));
      const kb = path.join(dir, 'qt.sqlite');
      await importRuns({
        files: ['AFT-MC-00.csv', 'AFT-MC-01.csv'].map((f) => path.join(QUICKTUNE, f)),
        mapping: new URL('../../data/quicktune/mapping.json', import.meta.url).pathname,
        kb,
      });
      harness = await startHarness(kb);
    });
    after(async () => {
      await harness?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('charts grow in height, never wider than the window', async () => {
      const page = await harness.browser.newPage();
      await recordChartText(page);
      await page.goto(`${harness.server.url}/#bench`);
      // The view renders once the page has read the API's choices: wait for it before listing boxes.
      await page.locator('#method-random').waitFor();
      for (const box of await page.locator('input[id^="method-"]').all()) await box.uncheck();
      await page.locator('#method-random').check();
      await page.locator('#method-single-best').check();
      await page.getByLabel(/HPO baselines/).fill('');
      await page.getByLabel('Seeds of the random methods').fill('1');
      await page.getByRole('button', { name: 'Start bench' }).click();
      await page.getByText(/^Done: 30 datasets held out/).waitFor({ timeout: 180_000 });
      await page.locator('[data-testid="regret-chart"][data-ready]').waitFor();
      for (const width of [1280, 390]) {
        await page.setViewportSize({ width, height: width === 390 ? 844 : 800 });
        await page.waitForTimeout(200);
        const box = (await page.getByTestId('regret-chart').boundingBox())!;
        assert.ok(box.width <= width, `the chart is ${box.width}px wide in a ${width}px window`);
        assert.ok(box.height / 30 >= 20, `${(box.height / 30).toFixed(1)}px per dataset`);
        assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= width);
        const texts = await chartText(page);
        assert.deepEqual(overlapping(texts, 'cost-chart'), [], 'the cost axis labels overlap');
        assert.deepEqual(clipped(texts), []);
        await shot(page, `bench-30-datasets-${width}`);
      }
      await page.close();
    });
  },
);
