/**
 * Vite build of the lab dashboard. `npm run build` writes dashboard/dist, which the server serves
 * at `/`. For development: `npx vite --config dashboard/vite.config.ts` with a server on :8080
 * (or SPIKELAB_URL) proxies the API and the WebSocket stream.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const api = process.env.SPIKELAB_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: {
      '/v1': { target: api, ws: true, changeOrigin: true },
      '/health': { target: api },
      '/metrics': { target: api },
      '/openapi.yaml': { target: api },
    },
  },
});
