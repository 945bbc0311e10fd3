/**
 * Which cgroup hierarchy can hold one group per local sandbox here (memory, pids, and cpu when
 * there is one), found by trying: a group is created under `devbot/`, given limits, and removed.
 *
 * - v2 (a `cgroup2` mount whose cgroup.controllers lists memory and pids): groups go in
 *   `<mount>/devbot/<sandbox id>`; devbot enables the controllers for `<mount>` and `devbot`.
 *   That needs `<mount>` to be the hierarchy's root (where processes and controllers may mix), or
 *   a delegated cgroup without processes of its own.
 * - v1 (`cgroup` mounts for memory and pids, cpu optional): `<controller mount>/devbot/<id>` each.
 *
 * Neither usable (read-only /sys/fs/cgroup in a container, no root, controllers bound elsewhere):
 * `version: null` and the reason; the sandbox then keeps its per-process limits only.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeCgroupFile } from './write-cgroup-file.js';

export type CgroupController = 'memory' | 'pids' | 'cpu';

export interface CgroupSupport {
  version: 'v1' | 'v2' | null;
  /** Per controller, the `devbot` directory sandbox groups go in (v2: one for all). */
  parents: Partial<Record<CgroupController, string>>;
  /** Why there is none, or what is missing (no cpu controller: no CPU quota); '' when complete. */
  reason: string;
}

export interface CgroupMount {
  path: string;
  version: 'v1' | 'v2';
  /** v1: the controllers mounted there (from the super options). v2: filled in by the probe. */
  controllers: string[];
}

const PARENT = 'devbot';
const REQUIRED: readonly CgroupController[] = ['memory', 'pids'];

/** The cgroup mounts listed in a /proc/self/mountinfo text. */
export function cgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const mountPoint = unescapeMountPath(left.split(' ')[4] ?? '');
    const [fstype, , superOptions = ''] = right.split(' ');
    if (fstype === 'cgroup2') mounts.push({ path: mountPoint, version: 'v2', controllers: [] });
    if (fstype === 'cgroup')
      mounts.push({ path: mountPoint, version: 'v1', controllers: superOptions.split(',') });
  }
  return mounts;
}

/** Finds a usable hierarchy by creating (and removing) a probe group in it. */
export async function detectCgroupSupport(mountinfo?: string): Promise<CgroupSupport> {
  let text = mountinfo;
  if (text === undefined) text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const mounts = cgroupMounts(text);
  const reasons: string[] = [];
  for (const mount of mounts.filter((m) => m.version === 'v2')) {
    const result = await tryV2(mount.path);
    if (typeof result !== 'string') return result;
    reasons.push(result);
  }
  const v1 = await tryV1(mounts.filter((m) => m.version === 'v1'));
  if (typeof v1 !== 'string') return v1;
  reasons.push(v1);
  return { version: null, parents: {}, reason: reasons.join('; ') };
}

async function tryV2(mount: string): Promise<CgroupSupport | string> {
  const available = (await readFile(join(mount, 'cgroup.controllers'), 'utf8').catch(() => ''))
    .trim()
    .split(/\s+/);
  const missing = REQUIRED.filter((c) => !available.includes(c));
  if (missing.length > 0)
    return `cgroup v2 at ${mount} has no ${missing.join(' or ')} controller (bound to a v1 hierarchy, or not delegated)`;
  const wanted: CgroupController[] = available.includes('cpu')
    ? ['memory', 'pids', 'cpu']
    : ['memory', 'pids'];
  const parent = join(mount, PARENT);
  try {
    for (const dir of [mount, parent]) {
      await mkdir(dir, { recursive: true });
      const enabled = await readFile(join(dir, 'cgroup.subtree_control'), 'utf8');
      for (const c of wanted)
        if (!enabled.split(/\s+/).includes(c))
          await writeCgroupFile(join(dir, 'cgroup.subtree_control'), `+${c}`);
    }
    await probeGroup([parent], { 'memory.max': '1073741824', 'pids.max': '64' });
  } catch (err) {
    return `cgroup v2 at ${mount} is not usable: ${describe(err)}`;
  }
  const parents = Object.fromEntries(wanted.map((c) => [c, parent]));
  return { version: 'v2', parents, reason: wanted.includes('cpu') ? '' : 'no cpu controller: no CPU quota' };
}

async function tryV1(mounts: CgroupMount[]): Promise<CgroupSupport | string> {
  const parents: Partial<Record<CgroupController, string>> = {};
  for (const controller of ['memory', 'pids', 'cpu'] as const) {
    const mount = mounts.find((m) => m.controllers.includes(controller));
    if (mount) parents[controller] = join(mount.path, PARENT);
  }
  const missing = REQUIRED.filter((c) => !parents[c]);
  if (missing.length > 0) return `no cgroup v1 hierarchy with the ${missing.join(' and ')} controller`;
  const limits: Record<CgroupController, Record<string, string>> = {
    memory: { 'memory.limit_in_bytes': '1073741824' },
    pids: { 'pids.max': '64' },
    cpu: { 'cpu.cfs_quota_us': '100000' },
  };
  for (const [controller, parent] of Object.entries(parents) as [CgroupController, string][]) {
    try {
      await mkdir(parent, { recursive: true });
      await probeGroup([parent], limits[controller]);
    } catch (err) {
      if (controller === 'cpu') {
        delete parents.cpu;
        continue;
      }
      return `cgroup v1 ${controller} hierarchy is not usable: ${describe(err)}`;
    }
  }
  return { version: 'v1', parents, reason: parents.cpu ? '' : 'no usable cpu controller: no CPU quota' };
}

/** Creates a group in each parent, writes the limits, removes it again. */
async function probeGroup(parents: string[], limits: Record<string, string>): Promise<void> {
  const name = `probe-${process.pid}-${randomBytes(4).toString('hex')}`;
  for (const parent of parents) {
    const dir = join(parent, name);
    await mkdir(dir);
    try {
      for (const [file, value] of Object.entries(limits)) await writeCgroupFile(join(dir, file), value);
      await access(join(dir, 'cgroup.procs'));
    } finally {
      await rmdir(dir).catch(() => {});
    }
  }
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code} on ${e.path ?? '?'}` : String(err);
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
