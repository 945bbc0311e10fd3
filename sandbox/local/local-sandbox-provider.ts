import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, cp, lchown, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { BadInputError, UnavailableError } from '../../src/core/errors.js';
import type { PreviewPublisher } from '../../src/core/preview-publisher.js';
import type { Sandbox, SandboxCreateOptions, SandboxProvider } from '../../src/core/sandbox.js';
import { isProcessAlive } from '../../src/utils/process-alive.js';
import { appArmorProblem, readAppArmorState, sandboxProfile, underAppArmor } from './apparmor.js';
import {
  type GeneratedEtcFile,
  groupFile,
  hostsFile,
  type LaunchMode,
  nsswitchFile,
  passwdFile,
  SANDBOX_RUN_DIR,
  sandboxCommand,
} from './bwrap-args.js';
import type { CgroupSupport } from './cgroup-support.js';
import { type EgressPolicy, startEgressProxy } from './egress-proxy.js';
import { chooseLaunchMode, effectiveCapabilities } from './launch-mode.js';
import { LocalSandbox } from './local-sandbox.js';
import { type LocalSandboxHardening, localSandboxHardening } from './local-sandbox-hardening.js';
import { SandboxCgroup } from './sandbox-cgroup.js';
import { SupervisorProcess } from './supervisor-process.js';
import { SUPERVISOR_SCRIPT } from './supervisor-script.js';
import { defaultLeaseDir, UidLeases } from './uid-leases.js';
import { workspaceVolume } from './workspace-volume.js';

export interface LocalSandboxProviderOptions {
  /** Host directory holding one subdirectory per sandbox, e.g. `<dataDir>/sandboxes`. */
  baseDir: string;
  previews: PreviewPublisher;
  /** Default per-command time limit. */
  timeoutMs?: number;
  /** Bytes of output kept per command. */
  outputLimit?: number;
  /**
   * Longest wait for a sandbox to answer a file read, write or listing (or a preview or network
   * setup): sandbox code shares the supervisor's uid, so nothing it does may hang the host.
   */
  requestTimeoutMs?: number;
  /** Memory for the whole sandbox (a cgroup; where there is none, per process). */
  memoryMb?: number;
  /** Processes and threads for the whole sandbox. */
  maxProcs?: number;
  /** CPUs' worth of time for the whole sandbox (a cgroup CPU quota; 0: none). Default 2. */
  cpus?: number;
  /** Size of /workspace (a loop-mounted volume, where the launch mode allows it). Default 4096. */
  diskMb?: number;
  /** Size of /tmp (a tmpfs; counts against memory too). Default 512. */
  tmpMb?: number;
  /**
   * Sandboxes started ahead of time. Starting bwrap and the supervisor costs tens of ms; a warm
   * one makes `create()` cost a rename. 0 disables.
   */
  warm?: number;
  /**
   * Where sandboxes created with `network: true` may go, through the egress proxy. Unset: such
   * sandboxes are refused (DEVBOT_SANDBOX_NETWORK=off).
   */
  network?: EgressPolicy;
  /**
   * An AppArmor profile every sandbox starts under (`<profile>-net` when `network` is set, as the
   * egress bridge then listens inside); it must be loaded. Unset: none (DEVBOT_APPARMOR_PROFILE).
   */
  appArmorProfile?: string | undefined;
  /** Where uid leases live (default /run/devbot-sandbox-uids: shared by every devbot on the host). */
  uidLeaseDir?: string;
}

/** The proxy port commands see inside a sandbox with network access. */
export const EGRESS_PORT = 3128;

const UNAVAILABLE =
  'bubblewrap (bwrap) is not installed: install bubblewrap (apt-get install bubblewrap), or set DEVBOT_SANDBOX=e2b';
/** Host uids for sandboxes come from this range (no passwd entry needed). */
const UID_BASE = 200_000;
const UID_SPAN = 1_000_000;
const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const REFILL_DELAY_MS = 250;
const BWRAP_PATHS = ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap'];
const NO_CGROUPS: CgroupSupport = { version: null, parents: {}, reason: 'not checked yet' };
/** What the sandbox's /etc gets from devbot instead of the host (see bwrap-args.ts). */
const ETC_FILES: Record<GeneratedEtcFile, () => string> = {
  passwd: passwdFile,
  group: groupFile,
  hosts: hostsFile,
  'nsswitch.conf': nsswitchFile,
};
/** Where npm, pip and friends keep host-wide config under /usr. */
const USR_ETC_DIRS = ['/usr/etc', '/usr/local/etc'];
/** sockaddr_un.sun_path holds 108 bytes on Linux, the last one a NUL. */
const MAX_SOCKET_PATH = 107;

interface SandboxMeta {
  uid: number;
  taskId: string;
  persistent: boolean;
  createdAt: string;
  /** Created with network access: reattaching opens the way out again. */
  network?: boolean;
}

interface Egress {
  env: Record<string, string>;
  close: () => Promise<void>;
}

interface Prepared {
  id: string;
  dir: string;
  uid: number;
  supervisor: SupervisorProcess;
  cgroup: SandboxCgroup | null;
}

/**
 * Local sandboxes with bubblewrap: read-only system, read-write /workspace, private /tmp, own
 * network/PID/IPC/UTS namespaces (no network), a per-sandbox unprivileged host uid, limits on
 * time, output, processes and memory.
 */
export class LocalSandboxProvider implements SandboxProvider {
  readonly name = 'local';
  readonly #o: Required<Omit<LocalSandboxProviderOptions, 'network' | 'appArmorProfile' | 'uidLeaseDir'>>;
  /** The profile sandboxes start under and aa-exec's path, once #check found both. */
  #appArmor: { profile: string; aaExec: string } | null = null;
  readonly #network: EgressPolicy | null;
  readonly #appArmorProfile: string | undefined;
  readonly #uids: UidLeases;
  readonly #live = new Map<string, LocalSandbox>();
  readonly #pool: Promise<Prepared | null>[] = [];
  #checked: Promise<void> | null = null;
  #closed = false;
  #mode: LaunchMode = 'privileged';
  #bwrap = '/usr/bin/bwrap';
  #usrEtc: string[] = [];
  #hardening: LocalSandboxHardening | null = null;

  constructor(options: LocalSandboxProviderOptions) {
    this.#o = {
      timeoutMs: 10 * 60_000,
      outputLimit: 1_000_000,
      requestTimeoutMs: 15_000,
      memoryMb: 2048,
      maxProcs: 256,
      cpus: 2,
      diskMb: 4096,
      tmpMb: 512,
      warm: 1,
      ...options,
    };
    this.#network = options.network ?? null;
    this.#appArmorProfile = options.appArmorProfile;
    this.#uids = new UidLeases({
      dir: options.uidLeaseDir ?? defaultLeaseDir(options.baseDir),
      base: UID_BASE,
      span: UID_SPAN,
    });
  }

  check(): Promise<void> {
    this.#checked ??= this.#check();
    return this.#checked;
  }

  /**
   * What confines this provider's sandboxes (seccomp, cgroup, disk quotas), each with its reason;
   * null until check() has passed.
   */
  get hardening(): LocalSandboxHardening | null {
    return this.#hardening;
  }

  /** How sandboxes are started here (known once check() has passed). */
  get launchMode(): LaunchMode {
    return this.#mode;
  }

  async #check(): Promise<void> {
    const bwrap = await firstExisting(BWRAP_PATHS);
    const probe = bwrap ? spawnSync(bwrap, ['--version'], { encoding: 'utf8', env: {} }) : null;
    if (!bwrap || !probe || probe.error || probe.status !== 0)
      throw new UnavailableError(UNAVAILABLE, { cause: probe?.error });
    this.#bwrap = bwrap;
    for (const tool of ['/usr/bin/python3', '/usr/bin/prlimit', '/usr/bin/setpriv']) {
      const found = await stat(tool).catch(() => null);
      if (!found) throw new UnavailableError(`${tool} is missing: the local sandbox needs it`);
    }
    // Previews and the egress proxy use Unix sockets under each sandbox's directory; a socket path
    // longer than the kernel allows fails only at the first preview, so say it now.
    const longest = join(this.#o.baseDir, newId(), 'sockets', 'p65535-000000000000.sock');
    if (Buffer.byteLength(longest) > MAX_SOCKET_PATH)
      throw new UnavailableError(
        `the sandbox directory ${this.#o.baseDir} is too deep for Unix socket paths (${Buffer.byteLength(longest)} of ${MAX_SOCKET_PATH} bytes): set DEVBOT_DATA_DIR to a shorter path`,
      );
    if (this.#appArmorProfile) {
      const profile = sandboxProfile(this.#appArmorProfile, this.#network !== null);
      const aaExec = await firstExisting(['/usr/sbin/aa-exec', '/usr/bin/aa-exec', '/sbin/aa-exec']);
      const problem = appArmorProblem(await readAppArmorState(), [profile], aaExec);
      if (problem || !aaExec) throw new UnavailableError(problem ?? 'aa-exec is missing');
      this.#appArmor = { profile, aaExec };
    }
    const decision = chooseLaunchMode(process.getuid?.(), effectiveCapabilities());
    if ('unavailable' in decision) throw new UnavailableError(decision.unavailable);
    this.#mode = decision.mode;
    // Unprivileged bwrap runs as the sandbox's uid and must reach its files: traverse, not list.
    const baseMode = this.#mode === 'userns' ? 0o711 : 0o700;
    await mkdir(this.#o.baseDir, { recursive: true, mode: baseMode });
    await chmod(this.#o.baseDir, baseMode);
    if (this.#mode === 'userns') await traversableToOthers(dirname(this.#o.baseDir));
    await writeFile(this.#file('supervisor.py'), SUPERVISOR_SCRIPT, { mode: 0o644 });
    const hardening = await localSandboxHardening({
      baseDir: this.#o.baseDir,
      bwrap,
      launchMode: this.#mode,
    });
    // The filter is part of the boundary, not an extra: no filter, no local sandbox.
    if (!hardening.seccomp.ok) throw new UnavailableError(hardening.seccomp.reason);
    this.#hardening = hardening;
    for (const [name, text] of Object.entries(ETC_FILES))
      await writeFile(this.#file(name), text(), { mode: 0o644 });
    await this.#replaceUsrEtc();
    await this.#removeOrphans();
  }

  /**
   * npm reads its global npmrc from `<prefix>/etc` (`/usr/etc`, `/usr/local/etc`), pip and others
   * keep theirs there too, and they may carry registry tokens: the sandbox sees devbot's own
   * directory there instead, whose npmrc only points npm at the system CA bundle (as Debian's does),
   * so npm behind a TLS-inspecting proxy keeps working.
   */
  async #replaceUsrEtc(): Promise<void> {
    // Not a sandbox id (listIds() would take it for an orphan sandbox): note the underscore.
    const dir = this.#file('usr_etc');
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const bundle = '/etc/ssl/certs/ca-certificates.crt';
    const npmrc = (await stat(bundle).catch(() => null)) ? `cafile=${bundle}\n` : '';
    await writeFile(join(dir, 'npmrc'), npmrc, { mode: 0o644 });
    this.#usrEtc = [];
    for (const candidate of USR_ETC_DIRS)
      if ((await stat(candidate).catch(() => null))?.isDirectory()) this.#usrEtc.push(candidate);
  }

  /**
   * Deletes the directories of non-persistent sandboxes whose devbot process is gone (a crash
   * skips close()). Directories of live processes (other workers on this host) and of other hosts
   * or containers sharing the directory are left alone.
   */
  async #removeOrphans(): Promise<void> {
    const cgroups = this.#cgroupSupport();
    for (const id of await this.listIds()) {
      const dir = join(this.#o.baseDir, id);
      const owner = await readJson<{ pid?: number; host?: string }>(join(dir, 'owner.json'));
      const meta = await readJson<SandboxMeta>(join(dir, 'sandbox.json'));
      if (meta?.persistent) continue;
      // Another host or container sharing this directory: its pids mean nothing here.
      if (owner?.host !== undefined && owner.host !== hostname()) continue;
      if (typeof owner?.pid === 'number' && owner.pid !== process.pid && isProcessAlive(owner.pid)) continue;
      if (owner?.pid === process.pid) continue;
      if (cgroups.version) await SandboxCgroup.of(cgroups, id).remove();
      await workspaceVolume.release(dir);
      await rm(dir, { recursive: true, force: true });
    }
    if (cgroups.version) await SandboxCgroup.sweep(cgroups);
  }

  async create(options: SandboxCreateOptions): Promise<Sandbox> {
    if (options.network && !this.#network)
      throw new UnavailableError(
        'network access for local sandboxes is off: set DEVBOT_SANDBOX_NETWORK=allowlist (and DEVBOT_SANDBOX_ALLOWED_DOMAINS), or use DEVBOT_SANDBOX=e2b',
      );
    await this.check();
    const prepared = (await this.#pool.shift()) ?? (await this.#prepare(newId()));
    // Refill a moment later: starting bwrap + python right now would compete with this
    // sandbox's first command for the CPU (spawn itself blocks the event loop for a few ms).
    setTimeout(() => this.#refill(), REFILL_DELAY_MS).unref();
    if (options.seedDir) await this.#seed(options.seedDir, prepared);
    const meta: SandboxMeta = {
      uid: prepared.uid,
      taskId: options.taskId,
      persistent: options.persistent ?? false,
      createdAt: new Date().toISOString(),
      ...(options.network ? { network: true } : {}),
    };
    await writeFile(join(prepared.dir, 'sandbox.json'), JSON.stringify(meta), { mode: 0o600 });
    if (!options.network || !this.#network) return this.#adopt(prepared, meta.persistent, options.timeoutMs);
    const egress = await this.#openEgress(prepared, this.#network);
    return this.#adopt(prepared, meta.persistent, options.timeoutMs, egress);
  }

  /** The egress proxy on the host and its port inside; commands get the proxy variables. */
  async #openEgress(prepared: Prepared, policy: EgressPolicy): Promise<Egress> {
    const proxy = await startEgressProxy(join(prepared.dir, 'run', 'egress.sock'), policy);
    try {
      await prepared.supervisor.call(
        { op: 'egress', port: EGRESS_PORT, path: `${SANDBOX_RUN_DIR}/egress.sock` },
        this.#o.requestTimeoutMs,
      );
    } catch (err) {
      await proxy.close();
      prepared.supervisor.kill();
      void prepared.supervisor.exited.then(() => prepared.cgroup?.remove());
      throw new UnavailableError('the sandbox could not open its way to the network', { cause: err });
    }
    const url = `http://127.0.0.1:${EGRESS_PORT}`;
    return {
      env: {
        HTTP_PROXY: url,
        HTTPS_PROXY: url,
        http_proxy: url,
        https_proxy: url,
        NO_PROXY: 'localhost,127.0.0.1,::1',
        no_proxy: 'localhost,127.0.0.1,::1',
        npm_config_proxy: url,
        npm_config_https_proxy: url,
      },
      close: () => proxy.close(),
    };
  }

  async connect(id: string): Promise<Sandbox | null> {
    if (!ID_PATTERN.test(id)) return null;
    const live = this.#live.get(id);
    if (live) return live;
    await this.check();
    const dir = join(this.#o.baseDir, id);
    const raw = await readFile(join(dir, 'sandbox.json'), 'utf8').catch(() => null);
    if (raw === null) return null;
    const meta = JSON.parse(raw) as SandboxMeta;
    const prepared = await this.#prepare(id, meta.uid);
    // Network comes back only while the operator's policy still allows it.
    if (!meta.network || !this.#network) return this.#adopt(prepared, meta.persistent, undefined);
    const egress = await this.#openEgress(prepared, this.#network);
    return this.#adopt(prepared, meta.persistent, undefined, egress);
  }

  /**
   * Kills the sandbox's processes (when this process runs it) and removes its directory. A
   * persistent sandbox's close() keeps the workspace, so the directory goes separately.
   */
  async destroy(id: string): Promise<void> {
    if (!ID_PATTERN.test(id)) return;
    await this.#live.get(id)?.close();
    const meta = await readJson<SandboxMeta>(join(this.#o.baseDir, id, 'sandbox.json'));
    await workspaceVolume.release(join(this.#o.baseDir, id));
    await rm(join(this.#o.baseDir, id), { recursive: true, force: true });
    if (typeof meta?.uid === 'number') await this.#uids.release(meta.uid);
  }

  /** Fills the warm pool (call at start so the first task does not pay for it). */
  async warmUp(): Promise<void> {
    await this.check();
    this.#refill();
    await Promise.all(this.#pool);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const pooled = this.#pool.splice(0);
    const closing = [...this.#live.values()].map((s) => s.close());
    for (const p of pooled) {
      closing.push(
        p.then(async (prepared) => {
          if (!prepared) return;
          prepared.supervisor.kill();
          await prepared.supervisor.exited;
          await this.#release(prepared, false);
        }),
      );
    }
    await Promise.allSettled(closing);
    // Persistent sandboxes keep their volume mounted between tasks; when this process stops, no
    // mount outlives it (connect() mounts the image again), so the data directory stays removable.
    const ids = await this.listIds();
    await Promise.allSettled(ids.map((id) => workspaceVolume.release(join(this.#o.baseDir, id))));
  }

  /** Ids of sandbox directories on disk (persistent ones survive restarts). */
  async listIds(): Promise<string[]> {
    const entries = await readdir(this.#o.baseDir, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory() && ID_PATTERN.test(e.name)).map((e) => e.name);
  }

  #refill(): void {
    if (this.#closed) return;
    while (this.#pool.length < this.#o.warm) {
      // A failed warm start is not an error until someone needs a sandbox: create() then retries.
      this.#pool.push(this.#prepare(newId()).catch(() => null));
    }
  }

  /** The cgroup hierarchy found at check() (none before). */
  #cgroupSupport(): CgroupSupport {
    const cgroup = this.#hardening?.cgroup;
    return cgroup ? { version: cgroup.version, parents: cgroup.parents, reason: cgroup.reason } : NO_CGROUPS;
  }

  /** A sandbox started in directory `id`: a new one, or (`reattachUid`) one made before. */
  async #prepare(id: string, reattachUid?: number): Promise<Prepared> {
    const hardening = this.#hardening;
    if (!hardening?.seccomp.filters) throw new UnavailableError('the local sandbox provider was not checked');
    const fresh = reattachUid === undefined;
    const dir = join(this.#o.baseDir, id);
    const uid = await this.#uids.claim(dir, reattachUid);
    const layout = {
      workspace: join(dir, 'workspace'),
      tmp: hardening.diskQuota.tmp.ok ? { bytes: this.#o.tmpMb * 1024 * 1024 } : { dir: join(dir, 'tmp') },
      run: join(dir, 'run'),
      etc: {
        passwd: this.#file('passwd'),
        group: this.#file('group'),
        hosts: this.#file('hosts'),
        'nsswitch.conf': this.#file('nsswitch.conf'),
      },
      usrEtc: this.#usrEtc,
      usrEtcReplacement: this.#file('usr_etc'),
      supervisor: this.#file('supervisor.py'),
      seccomp: hardening.seccomp.filters,
    };
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (this.#mode === 'userns') {
      // Only this sandbox's uid (as the group) may pass through to its workspace.
      await chown(dir, 0, uid);
      await chmod(dir, 0o710);
    }
    await writeFile(join(dir, 'owner.json'), JSON.stringify({ pid: process.pid, host: hostname() }), {
      mode: 0o600,
    });
    // A new sandbox gets its volume here; a reattached one finds its image (or its plain
    // directory, if it was made without a volume) and keeps it.
    if (hardening.diskQuota.workspace.ok) await workspaceVolume.ensure(dir, uid, this.#o.diskMb);
    for (const sub of [layout.workspace, layout.run, ...('dir' in layout.tmp ? [layout.tmp.dir] : [])]) {
      await mkdir(sub, { recursive: true, mode: 0o755 });
      await lchown(sub, uid, uid);
    }
    const memoryBytes = this.#o.memoryMb * 1024 * 1024;
    const cgroups = this.#cgroupSupport();
    const cgroup = cgroups.version
      ? await SandboxCgroup.create(cgroups, id, {
          memoryBytes,
          maxProcs: this.#o.maxProcs,
          cpus: this.#o.cpus,
        })
      : null;
    const limits = {
      uid,
      maxProcs: this.#o.maxProcs,
      ...(cgroup?.dirs.memory ? {} : { addressSpaceBytes: memoryBytes }),
    };
    const bare = sandboxCommand(layout, limits, this.#mode, this.#bwrap);
    const command = this.#appArmor
      ? underAppArmor(bare, this.#appArmor.profile, this.#appArmor.aaExec)
      : bare;
    try {
      const supervisor = await SupervisorProcess.start(cgroup ? cgroup.wrap(command) : command);
      return { id, dir, uid, supervisor, cgroup };
    } catch (err) {
      await cgroup?.remove();
      // A new sandbox that never started leaves nothing; a reattached one keeps its workspace.
      if (fresh) {
        await workspaceVolume.release(dir).catch(() => {});
        await rm(dir, { recursive: true, force: true });
        await this.#uids.release(uid);
      }
      throw err;
    }
  }

  /**
   * What a closed sandbox leaves: nothing, or for a persistent one its workspace (its volume stays
   * mounted, so the host sees the files where it always did; destroy() unmounts it).
   */
  async #release(prepared: Prepared, persistent: boolean): Promise<void> {
    await prepared.cgroup?.remove().catch(() => {});
    if (persistent) {
      await rm(join(prepared.dir, 'sockets'), { recursive: true, force: true });
      return;
    }
    await workspaceVolume.release(prepared.dir).catch(() => {});
    await rm(prepared.dir, { recursive: true, force: true });
    await this.#uids.release(prepared.uid);
  }

  #adopt(
    prepared: Prepared,
    persistent: boolean,
    timeoutMs: number | undefined,
    egress?: Egress,
  ): LocalSandbox {
    const sandbox = new LocalSandbox({
      ...(egress ? { env: egress.env, cleanup: egress.close } : {}),
      id: prepared.id,
      dir: prepared.dir,
      supervisor: prepared.supervisor,
      previews: this.#o.previews,
      defaultTimeoutMs: timeoutMs ?? this.#o.timeoutMs,
      outputLimit: this.#o.outputLimit,
      requestTimeoutMs: this.#o.requestTimeoutMs,
      persistent,
      onClose: (id) => this.#live.delete(id),
      release: () => this.#release(prepared, persistent),
    });
    this.#live.set(prepared.id, sandbox);
    // A sandbox whose supervisor dies on its own (killed from outside) is cleaned up too.
    void prepared.supervisor.exited.then(() => sandbox.close());
    return sandbox;
  }

  async #seed(seedDir: string, prepared: Prepared): Promise<void> {
    const workspace = join(prepared.dir, 'workspace');
    const found = await stat(seedDir).catch(() => null);
    if (!found?.isDirectory()) throw new BadInputError(`seedDir ${seedDir} is not a directory`);
    await cp(seedDir, workspace, { recursive: true, verbatimSymlinks: true, force: true });
    await chownTree(workspace, prepared.uid);
  }

  #file(name: string): string {
    return join(this.#o.baseDir, name);
  }
}

/**
 * Every directory above the sandboxes must let other uids pass (o+x) in `userns` mode. devbot's
 * own data directory is given o+x (its files keep their own modes: 0600 secrets stay private);
 * any other directory is left alone and named in the error.
 */
async function traversableToOthers(dataDir: string): Promise<void> {
  const info = await stat(dataDir);
  if ((info.mode & 0o001) === 0) await chmod(dataDir, (info.mode & 0o7777) | 0o001);
  for (let dir = dirname(dataDir); ; dir = dirname(dir)) {
    const mode = (await stat(dir)).mode;
    if ((mode & 0o001) === 0)
      throw new UnavailableError(
        `${dir} does not let other users pass (mode ${(mode & 0o777).toString(8)}), so sandboxes cannot reach ${dataDir}: chmod o+x ${dir}, or set DEVBOT_DATA_DIR below a directory that does`,
      );
    if (dir === dirname(dir)) return;
  }
}

async function firstExisting(paths: readonly string[]): Promise<string | null> {
  for (const path of paths) if (await stat(path).catch(() => null)) return path;
  return null;
}

function newId(): string {
  return `sb-${randomBytes(10).toString('hex')}`;
}

async function chownTree(path: string, uid: number): Promise<void> {
  await lchown(path, uid, uid);
  const entries = await readdir(path, { withFileTypes: true });
  for (const entry of entries) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) await chownTree(child, uid);
    else await lchown(child, uid, uid);
  }
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return null;
  }
}
