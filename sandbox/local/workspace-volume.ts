/**
 * The disk quota of a local sandbox's /workspace: an ext4 file system in a sparse image file
 * (`<sandbox dir>/workspace.img`), loop-mounted on the host at `<sandbox dir>/workspace` before
 * bubblewrap binds it in. Writing past its size fails with ENOSPC inside the sandbox, and the host
 * disk holds at most the image's size for it.
 *
 * Why this mechanism: it needs nothing of the host's file system (project quotas need XFS or ext4
 * mounted with prjquota; per-uid quotas need quota tools and a mount option), it survives restarts
 * (a chat's persistent sandbox keeps its workspace in the image, and reattaching mounts it again;
 * a tmpfs would lose it and would count against memory), and the host still reads and writes the
 * workspace as a plain directory (seeding, tests). It needs CAP_SYS_ADMIN and loop devices, so
 * only the `privileged` launch mode has it; elsewhere /workspace is a plain directory and
 * localSandboxHardening() says so. /tmp is a size-limited tmpfs instead (bwrap --size, both modes).
 *
 * A persistent sandbox's volume stays mounted when it closes (its files stay where the host looks
 * for them); it is unmounted when the sandbox is destroyed, or closed when not persistent.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chown,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';

const IMAGE = 'workspace.img';
const MOUNT_POINT = 'workspace';
const TOOLS_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
/** What sandbox files may not be: setuid programs or device nodes on the host. */
const MOUNT_OPTIONS = 'loop,nosuid,nodev,noatime';
const UNMOUNT_ATTEMPTS = 20;

export type VolumeState = 'volume' | 'plain';

/**
 * Whether loop-mounted volumes work here, by making, mounting and removing a small one in
 * `scratchDir`: null when they do, else why not.
 */
async function probe(scratchDir: string): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'devbot does not run as root';
  if (!(await stat('/dev/loop-control').catch(() => null)))
    return 'no loop devices (/dev/loop-control is missing)';
  const dir = join(scratchDir, `volume_probe_${process.pid}_${randomBytes(4).toString('hex')}`);
  // A sandbox-like directory inside the probe's own, so the template image goes with it.
  const sandboxDir = join(dir, 'sb');
  try {
    await mkdir(sandboxDir, { recursive: true, mode: 0o700 });
    await ensure(sandboxDir, 0, 16);
    await release(sandboxDir);
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await release(sandboxDir).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Makes `<dir>/workspace` the mounted volume: creates the image on first use (`sizeMb`, owned
 * by `uid`), checks and mounts an existing one, or leaves a mounted one alone. A workspace that
 * already holds files without an image (made before volumes, or where they were unavailable) is
 * left a plain directory: 'plain'.
 */
async function ensure(dir: string, uid: number, sizeMb: number): Promise<VolumeState> {
  const image = join(dir, IMAGE);
  const mountPoint = join(dir, MOUNT_POINT);
  if (await isMountPoint(mountPoint)) return 'volume';
  const hasImage = Boolean(await stat(image).catch(() => null));
  if (!hasImage) {
    const existing = await readdir(mountPoint).catch(() => [] as string[]);
    if (existing.length > 0) return 'plain';
    // A sparse copy of a file system made once per size costs a few ms; mkfs costs tens.
    const template = await templateImage(dirname(dir), sizeMb);
    await run('cp', ['--sparse=always', template, `${image}.tmp`]);
    await rename(`${image}.tmp`, image);
  } else {
    // A host crash may have left it unclean: -p repairs what is safe to repair (exit 1 = fixed).
    await run('e2fsck', ['-p', image], [0, 1]);
  }
  await mkdir(mountPoint, { recursive: true, mode: 0o755 });
  await run('mount', ['-o', MOUNT_OPTIONS, image, mountPoint]);
  if (!hasImage) {
    // A fresh file system's lost+found would show up in every workspace listing and git status.
    await rmdir(join(mountPoint, 'lost+found')).catch(() => {});
    await chown(mountPoint, uid, uid);
  }
  return 'volume';
}

/** Unmounts `<dir>/workspace` if it is a mounted volume (the image file stays). */
async function release(dir: string): Promise<void> {
  const mountPoint = join(dir, MOUNT_POINT);
  for (let attempt = 0; attempt < UNMOUNT_ATTEMPTS; attempt++) {
    if (!(await isMountPoint(mountPoint))) return;
    // Busy for a moment after the sandbox's processes were killed: try again shortly.
    const done = await run('umount', [mountPoint]).then(
      () => true,
      () => false,
    );
    if (done) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  // Still busy (a host process holds a file in it): detach now, freed when it lets go.
  await run('umount', ['-l', mountPoint]);
}

/** The volume operations, for the provider and for localSandboxHardening(). */
export const workspaceVolume = { probe, ensure, release };

/**
 * An empty ext4 image of `sizeMb` in `dir`, made on first use: no reserved blocks (the sandbox's
 * uid is the only user), a small journal so a crash does not cost a chat its workspace, lazy
 * initialisation so it stays sparse. Written beside and renamed: concurrent makers cannot clash.
 */
async function templateImage(dir: string, sizeMb: number): Promise<string> {
  const template = join(dir, `volume_template_${sizeMb}mb.img`);
  if (await stat(template).catch(() => null)) return template;
  const partial = `${template}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(partial, '', { mode: 0o600 });
    await truncate(partial, sizeMb * 1024 * 1024);
    const journalMb = sizeMb >= 256 ? 16 : 1;
    await run('mkfs.ext4', [
      '-q',
      '-F',
      '-m',
      '0',
      '-J',
      `size=${journalMb}`,
      '-E',
      'lazy_itable_init=1,lazy_journal_init=1,nodiscard',
      partial,
    ]);
    await rename(partial, template);
  } finally {
    await rm(partial, { force: true });
  }
  return template;
}

/** Whether `path` is a mount point in this process's mount namespace. */
async function isMountPoint(path: string): Promise<boolean> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const escaped = path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return mountinfo.split('\n').some((line) => line.split(' ')[4] === escaped);
}

function run(tool: string, args: string[], okCodes: number[] = [0]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env: { PATH: TOOLS_PATH }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      if (stderr.length < 2000) stderr += c;
    });
    child.once('error', (err) => reject(new Error(`${tool} could not run: ${err.message}`)));
    child.once('close', (code) => {
      if (code !== null && okCodes.includes(code)) resolve();
      else reject(new Error(`${tool} ${args.join(' ')} failed (${code}): ${stderr.trim().slice(0, 500)}`));
    });
  });
}
