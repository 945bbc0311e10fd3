/**
 * The local sandbox in a container: root, but with every capability dropped except the few the
 * worker's compose service adds back (no CAP_SYS_ADMIN). The local sandbox suites (the provider
 * contract; the boundary: escapes, seccomp, fork bomb, previews; network through the egress proxy;
 * whole-sandbox limits) run again in a child process whose capability bounding set is cut down to
 * those, so sandboxes start in `userns` mode.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { USERNS_CAPABILITIES } from '../../sandbox/local/launch-mode.js';

const canRun =
  process.getuid?.() === 0 &&
  existsSync('/usr/bin/setpriv') &&
  spawnSync('bwrap', ['--version']).status === 0;

describe('local sandbox with container capabilities', () => {
  it.skipIf(!canRun)(
    'passes the local sandbox suites as root without CAP_SYS_ADMIN',
    () => {
      const bounding = ['-all', ...USERNS_CAPABILITIES.map((c) => `+${c.toLowerCase()}`)].join(',');
      const run = spawnSync(
        '/usr/bin/setpriv',
        [
          `--bounding-set=${bounding}`,
          '--',
          process.execPath,
          'node_modules/vitest/vitest.mjs',
          'run',
          // One file at a time: this runs beside the rest of the suite.
          '--no-file-parallelism',
          'tests/integration/sandbox-local.test.ts',
          'tests/integration/sandbox-boundary.test.ts',
          'tests/integration/sandbox-network.test.ts',
          'tests/integration/sandbox-limits.test.ts',
        ],
        {
          encoding: 'utf8',
          env: { ...process.env, DEVBOT_TEST_EXPECT_LAUNCH_MODE: 'userns' },
          timeout: 240_000,
        },
      );
      const output = `${run.stdout}\n${run.stderr}`;
      expect(run.status, output.slice(-4000)).toBe(0);
      expect(output).toMatch(/Tests\s.*\d+ passed/);
      expect(output).not.toMatch(/\d+ failed/);
    },
    300_000,
  );
});
