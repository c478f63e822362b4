// Files the package ships beside its code (data/, prompts/, and src/ for the built-in knowledge
// base's cache key), found from the package root whether the code runs from src/ through tsx
// or from the bundle in dist/.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The folder of metallmix's own package.json: the first one above this module. */
function packageRoot(): string {
  if (root) return root;
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ;) {
    const manifest = path.join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'metallmix'
    )
      return (root = dir);
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error(`no metallmix package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** A path inside the installed package, e.g. packagePath('data', 'builtin'). */
export function packagePath(...segments: string[]): string {
  return segments.reduce((p, s) => path.join(p, s), packageRoot());
}
