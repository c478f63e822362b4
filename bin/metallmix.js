#!/usr/bin/env node
// Runs the CLI from the build in dist/ (made by `npm install` through the `prepare` script, or
// by `npm run build`). Tests and `npm run metallmix:src` run the TypeScript sources through tsx.
let cli;
try {
  cli = await import('../dist/cli.js');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist/cli.js'))
    throw err;
  process.stderr.write('metallmix: not built yet: run `npm run build` (npm install runs it)\n');
  process.exit(1);
}
process.exitCode = await cli.main(process.argv);
