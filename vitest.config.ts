import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end files start servers and processes; two at a time suits a 2-core machine.
    maxWorkers: 2,
    setupFiles: ['test/setup/leak-check.ts'],
  },
});
