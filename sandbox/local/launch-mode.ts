/**
 * How the local provider may start sandboxes here, decided from devbot's own uid and effective
 * capabilities (/proc/self/status): `privileged` when root holds CAP_SYS_ADMIN (a host or VM),
 * `userns` when root was given only the few capabilities it needs (a container with
 * `cap_drop: ALL`), unavailable otherwise, with what to change.
 */
import { readFileSync } from 'node:fs';
import type { LaunchMode } from './bwrap-args.js';

/** Capability numbers (linux/capability.h). */
const CAP = {
  CHOWN: 0,
  DAC_OVERRIDE: 1,
  FOWNER: 3,
  KILL: 5,
  SETGID: 6,
  SETUID: 7,
  SETPCAP: 8,
  SYS_ADMIN: 21,
} as const;
type CapName = keyof typeof CAP;

/**
 * What root needs without CAP_SYS_ADMIN: hand each sandbox its files (CHOWN), manage and remove
 * files the sandbox uid owns (DAC_OVERRIDE, FOWNER), stop its processes (KILL), switch to its uid
 * and drop every capability on the way (SETUID, SETGID, SETPCAP).
 */
export const USERNS_CAPABILITIES: readonly CapName[] = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'KILL',
  'SETUID',
  'SETGID',
  'SETPCAP',
];

export type LaunchDecision = { mode: LaunchMode } | { unavailable: string };

/** The effective capability mask from a /proc/<pid>/status text (0 when it cannot be read). */
export function effectiveCapabilities(status?: string): bigint {
  let text = status;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/status', 'utf8');
    } catch {
      return 0n;
    }
  }
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(text)?.[1];
  return hex ? BigInt(`0x${hex}`) : 0n;
}

function has(mask: bigint, name: CapName): boolean {
  return (mask & (1n << BigInt(CAP[name]))) !== 0n;
}

export function chooseLaunchMode(uid: number | undefined, capabilities: bigint): LaunchDecision {
  if (uid !== 0)
    return {
      unavailable:
        'the local sandbox needs devbot to run as root (it gives each sandbox its own uid); run it as root, or set DEVBOT_SANDBOX=e2b',
    };
  if (has(capabilities, 'SYS_ADMIN')) return { mode: 'privileged' };
  const missing = USERNS_CAPABILITIES.filter((name) => !has(capabilities, name));
  if (missing.length > 0)
    return {
      unavailable: `the local sandbox needs root to keep the capabilities ${missing.join(', ')} (in Docker: cap_add them; see docs/operations.md, "Worker sandbox"), or set DEVBOT_SANDBOX=e2b`,
    };
  return { mode: 'userns' };
}
