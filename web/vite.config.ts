// Builds `rethink ui`'s browser app into dist/ui/, which the package ships and the server serves:
// everything local (no CDN, no web fonts), vega split into its own chunk and loaded only where a page charts.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  // Vite 8 transforms TSX with oxc; Preact's automatic runtime needs no plugin.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // The chart chunk is vega + vega-lite; it is lazy, so its size does not gate the first render.
    chunkSizeWarningLimit: 1500,
    reportCompressedSize: true,
  },
  logLevel: 'warn',
});
