/**
 * Vite builds the browser app from client/ into dist/client, which the server serves on the
 * same origin as the API; in development Vite serves client/ and proxies /api to the server.
 * CommonJS syntax because the package is CommonJS (no "type": "module"), so Vite loads it as is.
 */
import path = require('node:path');
import react = require('@vitejs/plugin-react');
import vite = require('vite');

export = vite.defineConfig({
  root: path.resolve(__dirname, 'client'),
  plugins: [react.default()],
  build: {
    outDir: path.resolve(__dirname, 'dist/client'),
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: { '/api': 'http://127.0.0.1:3000' },
  },
});
