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
  tmp: string;
  run: string;
  passwd: string;
  group: string;
  supervisor: string;
}

export interface BwrapLimits {
  uid: number;
  maxProcs: number;
  memoryBytes: number;
}

export type LaunchMode = 'privileged' | 'userns';

export interface SandboxCommand {
  command: string;
  args: string[];
}

/** Where the sandbox's run dir (preview sockets) appears inside. */
export const SANDBOX_RUN_DIR = '/run/devbot';
export const SANDBOX_WORKDIR = '/workspace';
/** The uid/gid commands see inside their user namespace. */
export const INNER_ID = 1000;

/** /etc entries programs commonly need; everything else in the host's /etc stays invisible. */
const ETC_ALLOWLIST = [
  'alternatives',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'localtime',
  'nsswitch.conf',
  'mime.types',
  'ssl',
  'ca-certificates',
  'ca-certificates.conf',
  'hosts',
  'protocols',
  'services',
  'inputrc',
  'profile',
  'bash.bashrc',
  'os-release',
  'debian_version',
  'magic',
  'magic.mime',
  'python3',
  'python3.11',
  'gitconfig',
];

export const SANDBOX_PATH = '/usr/local/bin:/usr/bin:/bin';

export function sandboxCommand(
  layout: BwrapLayout,
  limits: BwrapLimits,
  mode: LaunchMode,
  bwrap = '/usr/bin/bwrap',
): SandboxCommand {
  const resourceLimits = [`--nproc=${limits.maxProcs}`, `--as=${limits.memoryBytes}`, '--core=0', '--'];
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
  const supervisor = ['/usr/bin/python3', '-I', '-S', '/opt/devbot/supervisor.py', String(INNER_ID)];
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
    ...etc,
    '--ro-bind',
    layout.passwd,
    '/etc/passwd',
    '--ro-bind',
    layout.group,
    '/etc/group',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--bind',
    layout.tmp,
    '/tmp',
    '--bind',
    layout.workspace,
    SANDBOX_WORKDIR,
    '--bind',
    layout.run,
    SANDBOX_RUN_DIR,
    '--ro-bind',
    layout.supervisor,
    '/opt/devbot/supervisor.py',
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
