/**
 * The command line of one local sandbox. Every sandbox runs as its own unprivileged host uid with
 * no capabilities (bounding set included) and no_new_privs, so setuid binaries under /usr cannot
 * regain root, and a per-sandbox uid keeps RLIMIT_NPROC per sandbox: a fork bomb in one sandbox
 * cannot starve another. Two ways to get there, chosen by what devbot's root may do:
 *
 * - `privileged` (root with CAP_SYS_ADMIN: a host, a VM): bwrap runs as root, builds the
 *   namespaces and mounts, keeps only the capabilities `setpriv` needs, and `setpriv` drops to the
 *   sandbox uid inside.
 * - `userns` (root without CAP_SYS_ADMIN: a container with `cap_drop: ALL` and a few back):
 *   `setpriv` drops to the sandbox uid first, and bwrap builds the same namespaces and mounts
 *   unprivileged, inside a user namespace where the sandbox uid is 1000.
 */
export interface BwrapLayout {
  workspace: string;
  /**
   * The sandbox's /tmp: a tmpfs of its own of `bytes` (bounded, private, gone with the sandbox;
   * its pages count against the sandbox's memory cgroup too), or where bubblewrap has no --size,
   * a host directory as before. See workspace-volume.ts.
   */
  tmp: { bytes: number } | { dir: string };
  run: string;
  /** Files devbot writes for the sandbox's /etc instead of the host's (see ETC_ALLOWLIST). */
  etc: Record<GeneratedEtcFile, string>;
  /**
   * Host config directories under /usr (`/usr/etc`, `/usr/local/etc`: npm's global npmrc, pip.conf,
   * ...) that exist here, each replaced by `replacement`; they may hold registry tokens.
   */
  usrEtc: readonly string[];
  usrEtcReplacement: string;
  supervisor: string;
  /** seccomp-filters.ts: the sandbox's program (to bwrap on SECCOMP_FD), the commands' one. */
  seccomp: { sandbox: string; commands: string };
}

export type GeneratedEtcFile = 'passwd' | 'group' | 'hosts' | 'nsswitch.conf';

export interface BwrapLimits {
  uid: number;
  /** RLIMIT_NPROC: counted per uid, and each sandbox has its own, so per sandbox. */
  maxProcs: number;
  /**
   * RLIMIT_AS, per process: only where no memory cgroup bounds the sandbox as a whole (it cannot
   * stop several processes from adding up, and it breaks runtimes that reserve address space).
   */
  addressSpaceBytes?: number;
}

export type LaunchMode = 'privileged' | 'userns';

export interface SandboxCommand {
  command: string;
  args: string[];
  /** Files opened read-only for the child as fds 4, 5, ... (fd 3 is bwrap's --info-fd). */
  files?: string[];
}

/** The fd bwrap reads the sandbox's seccomp program from. */
export const SECCOMP_FD = 4;

/** Where the sandbox's run dir (preview sockets) appears inside. */
export const SANDBOX_RUN_DIR = '/run/devbot';
export const SANDBOX_WORKDIR = '/workspace';
/** The uid/gid commands see inside their user namespace. */
export const INNER_ID = 1000;

/**
 * /etc entries programs commonly need; everything else in the host's /etc stays invisible. Left
 * out on purpose, because they carry the host's own configuration rather than what programs need:
 * `gitconfig` (credential helpers, URL rewrites, proxies), `profile` and `bash.bashrc` (where
 * operators export proxies and tokens), `ca-certificates*` (only update-ca-certificates reads
 * them), `ssl/private` (only its names would show, still too much). `hosts` and `nsswitch.conf`
 * are devbot's own (GeneratedEtcFile): the host's may name internal machines or NSS modules
 * (sssd, ldap, systemd) that have nothing to talk to inside.
 */
const ETC_ALLOWLIST = [
  'alternatives',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'localtime',
  'mime.types',
  'ssl/certs',
  'ssl/openssl.cnf',
  'protocols',
  'services',
  'inputrc',
  'os-release',
  'debian_version',
  'magic',
  'magic.mime',
  'python3',
  'python3.11',
];

export const SANDBOX_PATH = '/usr/local/bin:/usr/bin:/bin';
/** Where the supervisor finds the program its helper installs before each command. */
const COMMANDS_FILTER = '/opt/devbot/commands.bpf';

export function sandboxCommand(
  layout: BwrapLayout,
  limits: BwrapLimits,
  mode: LaunchMode,
  bwrap = '/usr/bin/bwrap',
): SandboxCommand {
  const resourceLimits = [
    `--nproc=${limits.maxProcs}`,
    ...(limits.addressSpaceBytes === undefined ? [] : [`--as=${limits.addressSpaceBytes}`]),
    '--core=0',
    '--',
  ];
  const dropToSandboxUid = [
    '/usr/bin/setpriv',
    `--reuid=${limits.uid}`,
    `--regid=${limits.uid}`,
    '--clear-groups',
    '--inh-caps=-all',
    '--bounding-set=-all',
    '--no-new-privs',
    '--',
  ];
  const supervisor = [
    '/usr/bin/python3',
    '-I',
    '-S',
    '/opt/devbot/supervisor.py',
    String(INNER_ID),
    COMMANDS_FILTER,
  ];
  const files = [layout.seccomp.sandbox];
  if (mode === 'privileged')
    return {
      command: bwrap,
      args: [
        ...NAMESPACES,
        // Only what setpriv needs to switch to the sandbox uid; it drops these too.
        '--cap-drop',
        'ALL',
        '--cap-add',
        'CAP_SETUID',
        '--cap-add',
        'CAP_SETGID',
        '--cap-add',
        'CAP_SETPCAP',
        ...filesystem(layout),
        '--',
        '/usr/bin/prlimit',
        ...resourceLimits,
        ...dropToSandboxUid,
        ...supervisor,
      ],
      files,
    };
  return {
    command: '/usr/bin/prlimit',
    args: [
      ...resourceLimits,
      ...dropToSandboxUid,
      bwrap,
      '--unshare-user',
      '--uid',
      String(INNER_ID),
      '--gid',
      String(INNER_ID),
      ...NAMESPACES,
      ...filesystem(layout),
      '--',
      ...supervisor,
    ],
    files,
  };
}

const NAMESPACES = [
  '--unshare-net',
  '--unshare-ipc',
  '--unshare-uts',
  '--unshare-pid',
  '--unshare-cgroup-try',
  '--die-with-parent',
  '--new-session',
  '--hostname',
  'devbot',
];

/** Read-only system, the allow-listed /etc, private /tmp, the workspace; a clean environment. */
function filesystem(layout: BwrapLayout): string[] {
  const etc = ETC_ALLOWLIST.flatMap((name) => ['--ro-bind-try', `/etc/${name}`, `/etc/${name}`]);
  const generated = Object.entries(layout.etc).flatMap(([name, source]) => [
    '--ro-bind',
    source,
    `/etc/${name}`,
  ]);
  const usrEtc = layout.usrEtc.flatMap((dir) => ['--ro-bind', layout.usrEtcReplacement, dir]);
  return [
    '--ro-bind',
    '/usr',
    '/usr',
    '--symlink',
    'usr/bin',
    '/bin',
    '--symlink',
    'usr/sbin',
    '/sbin',
    '--symlink',
    'usr/lib',
    '/lib',
    '--symlink',
    'usr/lib64',
    '/lib64',
    // Parent dirs of mount points would inherit the host dirs' 0700; the sandbox uid must traverse.
    '--perms',
    '0755',
    '--dir',
    '/etc',
    '--perms',
    '0755',
    '--dir',
    '/run',
    '--perms',
    '0755',
    '--dir',
    '/opt',
    '--perms',
    '0755',
    '--dir',
    '/opt/devbot',
    ...usrEtc,
    '--perms',
    '0755',
    '--dir',
    '/etc/ssl',
    ...etc,
    ...generated,
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    ...('bytes' in layout.tmp
      ? ['--perms', '1777', '--size', String(layout.tmp.bytes), '--tmpfs', '/tmp']
      : ['--bind', layout.tmp.dir, '/tmp']),
    '--bind',
    layout.workspace,
    SANDBOX_WORKDIR,
    '--bind',
    layout.run,
    SANDBOX_RUN_DIR,
    '--ro-bind',
    layout.supervisor,
    '/opt/devbot/supervisor.py',
    '--ro-bind',
    layout.seccomp.commands,
    COMMANDS_FILTER,
    // Applied last, to the supervisor: bwrap's own setup is done by then.
    '--seccomp',
    String(SECCOMP_FD),
    '--chdir',
    SANDBOX_WORKDIR,
    '--clearenv',
    '--setenv',
    'PATH',
    SANDBOX_PATH,
    '--setenv',
    'LANG',
    'C.UTF-8',
    '--info-fd',
    '3',
  ];
}

/** /etc/passwd and /etc/group for inside: just the sandbox user, so tools that look it up work. */
export function passwdFile(): string {
  return `root:x:0:0:root:/nonexistent:/usr/sbin/nologin\ndevbot:x:${INNER_ID}:${INNER_ID}:devbot:${SANDBOX_WORKDIR}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`;
}

export function groupFile(): string {
  return `root:x:0:\ndevbot:x:${INNER_ID}:\nnogroup:x:65534:\n`;
}

/** Only the sandbox's own names: the host's /etc/hosts may map internal machines. */
export function hostsFile(): string {
  return '127.0.0.1 localhost devbot\n::1 localhost ip6-localhost ip6-loopback\n';
}

/** Files only (and DNS, which has no way out anyway): no host NSS modules inside. */
export function nsswitchFile(): string {
  return 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n';
}
