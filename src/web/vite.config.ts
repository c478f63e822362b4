// Builds the web page (src/web) into dist/web, which `metallmix serve` serves at /. During
// development, `npx vite --config src/web/vite.config.ts` serves it with the API proxied to a
// `metallmix serve` on port 8080.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    // One bundle: the page is small, and the server serves it from one folder.
    chunkSizeWarningLimit: 400,
  },
  server: { proxy: { '/v1': 'http://127.0.0.1:8080' } },
});
