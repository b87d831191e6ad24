/**
 * The dashboard's build: Preact with esbuild's automatic JSX (no Babel), one entry, output in dist/web/ that
 * the server serves (src/server/dashboard.ts). Hashed file names under assets/ (cached as immutable); no
 * inline scripts or styles (the pages' CSP forbids them): CSS, uPlot's included, goes to a file, and
 * nothing is inlined as a data: URL except images.
 *
 * `npx vite --config web/vite.config.ts` serves the app with live reload and forwards /api to a server on
 * 127.0.0.1:8080 (`apiwarden serve`).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
    reportCompressedSize: false,
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
