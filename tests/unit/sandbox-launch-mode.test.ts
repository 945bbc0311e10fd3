import { describe, expect, it } from 'vitest';
import { chooseLaunchMode, effectiveCapabilities } from '../../sandbox/local/launch-mode.js';

/** A CapEff mask from capability numbers. */
const caps = (...bits: number[]) => bits.reduce((m, b) => m | (1n << BigInt(b)), 0n);
const CONTAINER = caps(0, 1, 3, 5, 6, 7, 8); // CHOWN DAC_OVERRIDE FOWNER KILL SETGID SETUID SETPCAP

describe('local sandbox launch mode', () => {
  it('reads the effective capabilities from a status text', () => {
    expect(effectiveCapabilities('Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t00000000000001eb\n')).toBe(
      0x1ebn,
    );
    expect(effectiveCapabilities('no caps here')).toBe(0n);
    // This process's own, read from /proc.
    expect(typeof effectiveCapabilities()).toBe('bigint');
  });

  it('builds sandboxes as root when CAP_SYS_ADMIN is there, unprivileged when only the few are', () => {
    expect(chooseLaunchMode(0, caps(21) | CONTAINER)).toEqual({ mode: 'privileged' });
    expect(chooseLaunchMode(0, CONTAINER)).toEqual({ mode: 'userns' });
  });

  it('names what is missing: root, or the capabilities', () => {
    expect(chooseLaunchMode(1000, CONTAINER)).toEqual({
      unavailable: expect.stringMatching(/needs devbot to run as root.*DEVBOT_SANDBOX=e2b/),
    });
    expect(chooseLaunchMode(0, caps(0, 1, 3, 5))).toEqual({
      unavailable: expect.stringMatching(
        /keep the capabilities SETUID, SETGID, SETPCAP \(in Docker: cap_add them/,
      ),
    });
  });
});
