/**
 * The host side of the supervisor channel: a supervisor that never answers (wedged by sandbox
 * code, or by a bug) must not hang the host's file operations.
 */
import { describe, expect, it } from 'vitest';
import { SupervisorProcess } from '../../sandbox/local/supervisor-process.js';

describe('SupervisorProcess.call', () => {
  it('rejects a request the supervisor never answers once its time is up', async () => {
    // A "supervisor" that says it is ready and then reads requests without answering any.
    const sup = await SupervisorProcess.start({
      command: '/bin/sh',
      args: ['-c', 'echo \'{"ev":"ready"}\'; exec cat >/dev/null'],
    });
    try {
      const started = Date.now();
      await expect(sup.call({ op: 'read', path: '/workspace/fifo' }, 300)).rejects.toThrow(
        /did not answer read within 300 ms/,
      );
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(sup.alive).toBe(true);
    } finally {
      sup.kill();
      await sup.exited;
    }
  });
});
