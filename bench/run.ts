// `npm run bench -- NAME [ARGS]` runs bench/NAME.ts with ARGS; without a name, lists them.
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3))
  .sort();
const [name, ...args] = process.argv.slice(2);
if (!name || !names.includes(name)) {
  process.stderr.write(
    `${name ? `no benchmark "${name}"; ` : ''}usage: npm run bench -- NAME [ARGS]; benchmarks: ${names.join(', ')} (see bench/README.md)\n`,
  );
  process.exit(name ? 2 : 0);
}
const file = `${dir}${name}.ts`;
// The benchmark reads its own arguments from process.argv, as when run directly.
process.argv = [process.argv[0], file, ...args];
await import(pathToFileURL(file).href);
