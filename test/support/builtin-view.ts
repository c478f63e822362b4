// The built-in MedMNIST knowledge base as a view, read through a cache folder of the test's own
// (so no test reads or fills the user's cache).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { viewOf, type KbView } from '../../src/recommend/kb-view.ts';
import { openKnowledgeBase } from '../../src/store/index.ts';

export async function builtinView(prefix: string): Promise<KbView> {
  const cacheDir = mkdtempSync(path.join(tmpdir(), `metallmix-${prefix}-`));
  const kb = await openKnowledgeBase('builtin', {
    mode: 'read',
    env: { ...process.env, METALLMIX_CACHE: cacheDir },
  });
  try {
    return viewOf(await kb.snapshot(), kb.label);
  } finally {
    await kb.close();
  }
}
