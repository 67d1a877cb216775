/**
 * Vite builds the browser app from client/ into dist/client, which the server serves on the
 * same origin as the API; in development Vite serves client/ and proxies /api to the server.
 * CommonJS syntax because the package is CommonJS (no "type": "module"), so Vite loads it as is.
 */
import path = require('node:path');
import react = require('@vitejs/plugin-react');
import vite = require('vite');
import pwa = require('vite-plugin-pwa');

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

/**
 * The service worker and the web app manifest (vite-plugin-pwa 2.0.0, Workbox 7.4; 2.0.0 lists
 * vite ^8 as a peer). The whole built app is precached, a navigation offline gets index.html, and
 * nothing under /api/ is ever cached (no runtime caching at all). `prompt`: a new version waits
 * until the app asks it to take over (client/ui/service-worker.ts).
 */
const appShell = pwa.VitePWA({
  registerType: 'prompt',
  injectRegister: false,
  manifest: {
    name: 'SEMS Dispense',
    short_name: 'Dispense',
    description: 'Record pharmacy dispenses, online or offline.',
    start_url: '/',
    scope: '/',
    display: 'standalone',
    background_color: '#f3f6f7',
    theme_color: '#0b6b72',
    icons: [
      { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
      { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
      { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
      { src: '/favicon.svg', sizes: 'any', type: 'image/svg+xml' },
    ],
  },
  // With the manifest's icons and the built JS, CSS and HTML (Workbox's default globPatterns).
  includeAssets: ['favicon.svg', 'icons/apple-touch-icon.png'],
  workbox: {
    navigateFallback: 'index.html',
    navigateFallbackDenylist: [/^\/api\//],
    cleanupOutdatedCaches: true,
    clientsClaim: true,
  },
});

/**
 * A test build that stores records under a higher collection schema version than the real one
 * (schemas/rxdb-schema.ts), to prove that an update migrates them (test/e2e/update.test.ts).
 */
function testSchemaVersion(): string {
  const raw = process.env.SEMS_TEST_SCHEMA_VERSION;
  if (raw === undefined || raw === '') return 'undefined';
  if (!/^[1-9]\d{0,2}$/.test(raw)) throw new Error(`SEMS_TEST_SCHEMA_VERSION must be a positive integer, not ${JSON.stringify(raw)}`);
  return raw;
}

export = vite.defineConfig({
  root: path.resolve(__dirname, 'client'),
  plugins: [react.default(), noRxdbDevModeInBuild, appShell],
  define: { __SEMS_TEST_SCHEMA_VERSION__: testSchemaVersion() },
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
