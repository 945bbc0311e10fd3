/**
 * What confines local sandboxes on this host, each part with what it does or why it is missing:
 * the seccomp filter, the per-sandbox cgroup (v1, v2 or none), the disk quotas of /workspace and
 * /tmp. The provider's check() decides from this same result (and keeps it as `hardening`);
 * `devbot doctor` shows it. Finding out means trying: it compiles (or reuses) the seccomp programs
 * in `baseDir`, creates and removes a probe cgroup, and mounts and removes a small probe volume.
 */
import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LaunchMode } from './bwrap-args.js';
import { type CgroupController, type CgroupSupport, detectCgroupSupport } from './cgroup-support.js';
import { chooseLaunchMode, effectiveCapabilities } from './launch-mode.js';
import { type SeccompFilters, seccompFilters } from './seccomp-filters.js';
import { workspaceVolume } from './workspace-volume.js';

export interface LocalSandboxHardeningOptions {
  /** The sandboxes' directory (`<data dir>/sandboxes`): the seccomp cache and probes go here. */
  baseDir: string;
  /** bubblewrap to ask about --size. Default /usr/bin/bwrap. */
  bwrap?: string;
  /** Known already (the provider's check()); otherwise decided from this process's capabilities. */
  launchMode?: LaunchMode;
}

export interface HardeningPart {
  ok: boolean;
  /** What is in force, or why it is not and what to do. */
  reason: string;
}

export interface LocalSandboxHardening {
  launchMode: LaunchMode | null;
  seccomp: HardeningPart & { filters: SeccompFilters | null };
  cgroup: {
    version: CgroupSupport['version'];
    controllers: CgroupController[];
    parents: CgroupSupport['parents'];
    reason: string;
  };
  diskQuota: {
    workspace: HardeningPart & { mechanism: 'loop-mounted ext4 volume' | null };
    tmp: HardeningPart & { mechanism: 'size-limited tmpfs' | null };
  };
}

export async function localSandboxHardening(
  options: LocalSandboxHardeningOptions,
): Promise<LocalSandboxHardening> {
  const decision = options.launchMode
    ? { mode: options.launchMode }
    : chooseLaunchMode(process.getuid?.(), effectiveCapabilities());
  const launchMode = 'mode' in decision ? decision.mode : null;
  await mkdir(options.baseDir, { recursive: true, mode: 0o700 }).catch(() => {});
  const [seccomp, cgroups, workspace] = await Promise.all([
    seccompPart(options.baseDir),
    detectCgroupSupport(),
    workspacePart(options.baseDir, launchMode),
  ]);
  const controllers = Object.keys(cgroups.parents) as CgroupController[];
  return {
    launchMode,
    seccomp,
    cgroup: {
      version: cgroups.version,
      controllers,
      parents: cgroups.parents,
      reason: cgroups.version
        ? `one ${cgroups.version} group per sandbox (${controllers.join(', ')})${cgroups.reason ? `; ${cgroups.reason}` : ''}`
        : `${cgroups.reason}: memory is limited per process only, processes per sandbox uid, CPU not at all`,
    },
    diskQuota: { workspace, tmp: tmpPart(options.bwrap ?? '/usr/bin/bwrap') },
  };
}

async function seccompPart(baseDir: string): Promise<LocalSandboxHardening['seccomp']> {
  try {
    const filters = await seccompFilters(baseDir);
    const unknown = filters.unknown.length
      ? `; not known to this libseccomp, so not filtered: ${filters.unknown.join(', ')}`
      : '';
    return {
      ok: true,
      reason: `denies nested namespaces, mounts, bpf, io_uring, perf_event_open, keyctl, kexec and module loading${unknown}`,
      filters,
    };
  } catch (err) {
    return { ok: false, reason: (err as Error).message, filters: null };
  }
}

async function workspacePart(
  baseDir: string,
  launchMode: LaunchMode | null,
): Promise<LocalSandboxHardening['diskQuota']['workspace']> {
  const missing =
    launchMode === 'privileged'
      ? await workspaceVolume.probe(baseDir)
      : launchMode === 'userns'
        ? 'mounting a volume needs CAP_SYS_ADMIN, which the userns launch mode does not have'
        : 'the local sandbox cannot run here';
  if (missing === null)
    return {
      ok: true,
      mechanism: 'loop-mounted ext4 volume',
      reason: `each /workspace is an ext4 image of its own (${join(baseDir, '<id>', 'workspace.img')})`,
    };
  return { ok: false, mechanism: null, reason: `/workspace has no size limit: ${missing}` };
}

function tmpPart(bwrap: string): LocalSandboxHardening['diskQuota']['tmp'] {
  const help = spawnSync(bwrap, ['--help'], { encoding: 'utf8', env: {} });
  if (`${help.stdout ?? ''}${help.stderr ?? ''}`.includes('--size'))
    return {
      ok: true,
      mechanism: 'size-limited tmpfs',
      reason: '/tmp is a tmpfs of its own size (bwrap --size)',
    };
  return {
    ok: false,
    mechanism: null,
    reason:
      'this bubblewrap has no --size (0.7 or later has): /tmp is a host directory without a size limit; upgrade bubblewrap',
  };
}
