import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'sandbox/**/*.test.ts', 'agents/**/*.test.ts'],
    // The eval suite's task repositories and their reference solutions carry their own tests
    // (node:test, unittest, sh); they are data for tests/unit/eval-suite.test.ts, not ours to run.
    exclude: [...configDefaults.exclude, 'eval/**', 'tests/fixtures/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests share one Redis and one Postgres; each file isolates itself with its own
    // queue prefix and schema, so files may run in parallel on the 2-core machine.
    globalSetup: ['tests/global-setup.ts'],
    pool: 'forks',
    // One process serves several files in turn: each file no longer pays for importing devbot's
    // modules (and PGlite's WASM) again, about a tenth of the suite's time. Files keep their state
    // to themselves (own devbot, queue prefix, schema, data directory), so nothing leaks across.
    isolate: false,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
