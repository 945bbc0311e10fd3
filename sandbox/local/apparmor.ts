/**
 * The optional AppArmor profile for local sandboxes (infra/apparmor/devbot-sandbox). With
 * DEVBOT_APPARMOR_PROFILE set, every sandbox is started as `aa-exec -p <profile> -- ...` (the
 * `-net` variant when the sandbox has the egress proxy), so bubblewrap and everything inside run
 * confined while the worker itself stays unconfined (it needs its data directory and the network).
 * The profile must be loaded: a profile asked for and missing makes the sandbox unavailable
 * rather than silently unconfined.
 */
import { readFile } from 'node:fs/promises';
import type { SandboxCommand } from './bwrap-args.js';

export interface AppArmorState {
  /** null: this kernel has no AppArmor at all. */
  enabled: boolean | null;
  /** Loaded profile names, null when the list cannot be read (securityfs not mounted, not root). */
  profiles: string[] | null;
}

export const APPARMOR_PATHS = {
  enabled: '/sys/module/apparmor/parameters/enabled',
  profiles: '/sys/kernel/security/apparmor/profiles',
};

export async function readAppArmorState(
  read: (path: string) => Promise<string> = (p) => readFile(p, 'utf8'),
): Promise<AppArmorState> {
  const enabled = await read(APPARMOR_PATHS.enabled).then(
    (text) => text.trim().toUpperCase().startsWith('Y'),
    () => null,
  );
  if (enabled !== true) return { enabled, profiles: null };
  const profiles = await read(APPARMOR_PATHS.profiles).then(
    // "devbot-sandbox (enforce)" per line.
    (text) =>
      text
        .split('\n')
        .map((line) => line.replace(/\s+\((enforce|complain|kill|unconfined|prompt)\)\s*$/, '').trim())
        .filter(Boolean),
    () => null,
  );
  return { enabled, profiles };
}

/** The profile a sandbox runs under: `<profile>-net` when it has network access. */
export function sandboxProfile(base: string, network: boolean): string {
  return network ? `${base}-net` : base;
}

/** Why `profile` cannot be applied here, or null when it can. */
export function appArmorProblem(
  state: AppArmorState,
  profiles: string[],
  aaExec: string | null,
): string | null {
  if (state.enabled === null)
    return 'DEVBOT_APPARMOR_PROFILE is set but this kernel has no AppArmor: unset it, or run the worker on a host with AppArmor';
  if (!state.enabled)
    return 'DEVBOT_APPARMOR_PROFILE is set but AppArmor is disabled on this host: enable it, or unset DEVBOT_APPARMOR_PROFILE';
  if (!aaExec) return 'DEVBOT_APPARMOR_PROFILE is set but aa-exec is not installed: apt-get install apparmor';
  if (state.profiles !== null) {
    const missing = profiles.filter((p) => !state.profiles?.includes(p));
    if (missing.length > 0)
      return `the AppArmor profile${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not loaded: sudo install -m 0644 infra/apparmor/devbot-sandbox /etc/apparmor.d/ && sudo apparmor_parser -r -W /etc/apparmor.d/devbot-sandbox (docs/operations.md, "AppArmor")`;
  }
  return null;
}

/** `command` started under `profile` through aa-exec (file descriptors pass through the exec). */
export function underAppArmor(command: SandboxCommand, profile: string, aaExec: string): SandboxCommand {
  return {
    ...command,
    command: aaExec,
    args: ['-p', profile, '--', command.command, ...command.args],
  };
}
