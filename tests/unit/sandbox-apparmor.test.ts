import { describe, expect, it } from 'vitest';
import {
  APPARMOR_PATHS,
  appArmorProblem,
  readAppArmorState,
  sandboxProfile,
  underAppArmor,
} from '../../sandbox/local/apparmor.js';
import { appArmorCheck } from '../../src/cli/doctor.js';
import { loadConfig } from '../../src/config/config.js';

/** A fake /sys: path -> content; a missing path fails as the kernel's would. */
const sys = (files: Record<string, string>) => async (path: string) => {
  const text = files[path];
  if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  return text;
};

const LOADED = sys({
  [APPARMOR_PATHS.enabled]: 'Y\n',
  [APPARMOR_PATHS.profiles]:
    'devbot-sandbox (enforce)\ndevbot-sandbox-net (enforce)\n/usr/bin/man (complain)\n',
});

describe('AppArmor for local sandboxes', () => {
  it('reads whether AppArmor is on and which profiles are loaded', async () => {
    expect(await readAppArmorState(LOADED)).toEqual({
      enabled: true,
      profiles: ['devbot-sandbox', 'devbot-sandbox-net', '/usr/bin/man'],
    });
    expect(await readAppArmorState(sys({}))).toEqual({ enabled: null, profiles: null });
    expect(await readAppArmorState(sys({ [APPARMOR_PATHS.enabled]: 'N\n' }))).toEqual({
      enabled: false,
      profiles: null,
    });
    // securityfs not mounted: on, but the list is unknown.
    expect(await readAppArmorState(sys({ [APPARMOR_PATHS.enabled]: 'Y\n' }))).toEqual({
      enabled: true,
      profiles: null,
    });
  });

  it('starts bubblewrap under the profile through aa-exec, keeping its arguments and files', () => {
    const wrapped = underAppArmor(
      { command: '/usr/bin/bwrap', args: ['--unshare-net', '--', 'true'], files: ['/x/seccomp.bpf'] },
      sandboxProfile('devbot-sandbox', true),
      '/usr/sbin/aa-exec',
    );
    expect(wrapped).toEqual({
      command: '/usr/sbin/aa-exec',
      args: ['-p', 'devbot-sandbox-net', '--', '/usr/bin/bwrap', '--unshare-net', '--', 'true'],
      files: ['/x/seccomp.bpf'],
    });
  });

  it('refuses to run unconfined when the profile asked for cannot be applied, saying what to do', async () => {
    const state = await readAppArmorState(LOADED);
    expect(appArmorProblem(state, ['devbot-sandbox'], '/usr/sbin/aa-exec')).toBeNull();
    expect(appArmorProblem(state, ['other'], '/usr/sbin/aa-exec')).toMatch(
      /profile other is not loaded: sudo install .*apparmor_parser -r/,
    );
    expect(appArmorProblem(state, ['devbot-sandbox'], null)).toMatch(/aa-exec is not installed/);
    expect(appArmorProblem({ enabled: null, profiles: null }, ['devbot-sandbox'], '/x')).toMatch(
      /this kernel has no AppArmor/,
    );
    expect(appArmorProblem({ enabled: false, profiles: null }, ['devbot-sandbox'], '/x')).toMatch(/disabled/);
  });

  it('devbot doctor says whether AppArmor is on, loaded and applied', async () => {
    const state = await readAppArmorState(LOADED);
    const off = loadConfig({ NODE_ENV: 'test' });
    expect(appArmorCheck(off, { enabled: null, profiles: null }, null)).toMatchObject({
      status: 'ok',
      detail: 'this kernel has no AppArmor (optional)',
    });
    expect(appArmorCheck(off, state, '/usr/sbin/aa-exec')).toMatchObject({
      status: 'warn',
      fix: 'set DEVBOT_APPARMOR_PROFILE=devbot-sandbox',
    });
    const on = loadConfig({ NODE_ENV: 'test', DEVBOT_APPARMOR_PROFILE: 'devbot-sandbox' });
    expect(appArmorCheck(on, state, '/usr/sbin/aa-exec')).toMatchObject({
      status: 'ok',
      detail: 'sandboxes start under the AppArmor profile devbot-sandbox',
    });
    expect(appArmorCheck(on, { enabled: true, profiles: [] }, '/usr/sbin/aa-exec')).toMatchObject({
      status: 'fail',
    });
    expect(() => loadConfig({ NODE_ENV: 'test', DEVBOT_APPARMOR_PROFILE: 'a b' })).toThrow(
      /AppArmor profile name/,
    );
  });
});
