import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Notes started and missing servers: stops what a test left running, names missing packages.
    globalSetup: ['test/support/global-setup.ts'],
    // Real servers (Dovecot, Redis, PostgreSQL) start inside the tests: allow them time.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // This machine has two cores; more workers only make the server-backed tests contend.
    maxWorkers: 2,
  },
});
