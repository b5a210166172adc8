import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The dashboard builds into dist/dashboard, beside the compiled server that serves it (and that
// the package and the Docker image ship). Relative asset URLs keep it working behind a path prefix.
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  build: { outDir: '../dist/dashboard', emptyOutDir: true },
  // `npm run dashboard:dev` serves the sources with hot reload against a local `ferry server`.
  server: { proxy: { '/v1': 'http://127.0.0.1:7700' } },
});
