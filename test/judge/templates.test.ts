import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetallmixError } from '../../src/core/index.ts';
import {
  DEFAULT_PROMPTS_DIR,
  TEMPLATE_NAMES,
  loadPromptTemplates,
  parseTemplate,
  renderTemplate,
} from '../../src/judge/index.ts';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'metallmix-prompts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the default templates load from the package prompts/ folder and use only known placeholders', () => {
  const templates = loadPromptTemplates();
  for (const name of TEMPLATE_NAMES) {
    assert.equal(templates[name].path, join(DEFAULT_PROMPTS_DIR, name));
    assert.ok(templates[name].text.length > 50, `${name} has text`);
  }
  assert.match(templates['context.md'].text, /\{\{evidence\}\}/);
  assert.match(templates['task-hybrid.md'].text, /\{\{shortlist\}\}/);
  assert.match(templates['task-llm.md'].text, /\{\{feedback\}\}/);
  assert.match(templates['judge-task.md'].text, /\{\{proposal\}\}/);
});

test('a file in promptsDir replaces the default of that name only', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'system.md'), 'You answer in JSON about {{metric}}.');
  const templates = loadPromptTemplates({ promptsDir: dir });
  assert.equal(templates['system.md'].path, join(dir, 'system.md'));
  assert.equal(templates['context.md'].path, join(DEFAULT_PROMPTS_DIR, 'context.md'));
  assert.equal(
    renderTemplate(templates['system.md'], { metric: 'accuracy' }),
    'You answer in JSON about accuracy.',
  );
});

test('an unknown placeholder fails at load time naming the file, the line and the known names', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'task-llm.md');
  writeFileSync(path, 'line one\nline two {{ profil }}\n');
  assert.throws(
    () => loadPromptTemplates({ promptsDir: dir }),
    (err: unknown) =>
      err instanceof MetallmixError &&
      err.message.startsWith(`${path}:2: unknown placeholder {{profil}}`) &&
      err.message.includes('{{profile}}'),
  );
  // judge placeholders are not recommender placeholders
  assert.throws(
    () => parseTemplate('system.md', 'x/system.md', '{{proposal}}'),
    /x\/system\.md:1: unknown placeholder \{\{proposal\}\}/,
  );
});

test('a misspelt template file or a missing directory is an error, never silently ignored', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'sytem.md'), 'hello');
  assert.throws(
    () => loadPromptTemplates({ promptsDir: dir }),
    (err: unknown) =>
      err instanceof MetallmixError &&
      err.message.startsWith(join(dir, 'sytem.md')) &&
      err.message.includes('system.md'),
  );
  assert.throws(
    () => loadPromptTemplates({ promptsDir: join(dir, 'nope') }),
    /nope: prompts directory does not exist/,
  );
});

test('renderTemplate is pure: it fills every placeholder and names the file when a value is missing', () => {
  const template = parseTemplate('context.md', 'p/context.md', 'A {{metric}} B {{ budget }} C');
  const values = { metric: 'auc', budget: '5 minutes' };
  assert.equal(renderTemplate(template, values), 'A auc B 5 minutes C');
  assert.equal(renderTemplate(template, values), 'A auc B 5 minutes C');
  assert.deepEqual(values, { metric: 'auc', budget: '5 minutes' });
  assert.throws(
    () => renderTemplate(template, { metric: 'auc' }),
    /p\/context\.md:1: no value for placeholder \{\{ budget \}\}/,
  );
  // values containing placeholder syntax are inserted literally, not re-expanded
  assert.equal(
    renderTemplate(template, { metric: '{{budget}}', budget: 'x' }),
    'A {{budget}} B x C',
  );
});
