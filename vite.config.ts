/**
 * Vite builds the browser app from client/ into dist/client, which the server serves on the
 * same origin as the API; in development Vite serves client/ and proxies /api to the server.
 * CommonJS syntax because the package is CommonJS (no "type": "module"), so Vite loads it as is.
 */
import path = require('node:path');
import react = require('@vitejs/plugin-react');
import vite = require('vite');

const DEV_ONLY = /^rxdb\/plugins\/(dev-mode|validate-ajv)$/;
const EXCLUDED = '\0excluded-rxdb-dev-mode';

/**
 * RxDB dev-mode loads a tracking iframe and a schema validator meant for development: a
 * production build replaces it with a module that refuses to load, so it never ships.
 */
const noRxdbDevModeInBuild: vite.Plugin = {
  name: 'no-rxdb-dev-mode-in-build',
  apply: 'build',
  enforce: 'pre',
  resolveId: (id) => (DEV_ONLY.test(id) ? EXCLUDED : null),
  load: (id) => (id === EXCLUDED ? "throw new Error('RxDB dev-mode is not part of a production build');" : null),
};

export = vite.defineConfig({
  root: path.resolve(__dirname, 'client'),
  plugins: [react.default(), noRxdbDevModeInBuild],
  build: {
    outDir: path.resolve(__dirname, 'dist/client'),
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
    // Build time varies with the machine's load; timing warnings are noise, not a fault.
    rolldownOptions: { checks: { pluginTimings: false } },
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: { '/api': 'http://127.0.0.1:3000' },
  },
});
