/**
 * The bubblewrap command line of one local sandbox. bwrap runs as root (the CI machine and most
 * servers run devbot as root), builds the namespaces and mounts, keeps only the capabilities that
 * `setpriv` needs to drop to the sandbox's own unprivileged host uid, and `setpriv` then drops
 * them all (bounding set included) with no_new_privs, so setuid binaries under /usr cannot regain
 * root. A per-sandbox host uid keeps RLIMIT_NPROC per sandbox: a fork bomb in one sandbox cannot
 * starve another.
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

export function bwrapArgs(layout: BwrapLayout, limits: BwrapLimits): string[] {
  const etc = ETC_ALLOWLIST.flatMap((name) => ['--ro-bind-try', `/etc/${name}`, `/etc/${name}`]);
  return [
    '--unshare-net',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-pid',
    '--unshare-cgroup-try',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--cap-add',
    'CAP_SETUID',
    '--cap-add',
    'CAP_SETGID',
    '--cap-add',
    'CAP_SETPCAP',
    '--hostname',
    'devbot',
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
    '--',
    '/usr/bin/prlimit',
    `--nproc=${limits.maxProcs}`,
    `--as=${limits.memoryBytes}`,
    '--core=0',
    '--',
    '/usr/bin/setpriv',
    `--reuid=${limits.uid}`,
    `--regid=${limits.uid}`,
    '--clear-groups',
    '--inh-caps=-all',
    '--bounding-set=-all',
    '--no-new-privs',
    '--',
    '/usr/bin/python3',
    '-I',
    '-S',
    '/opt/devbot/supervisor.py',
    String(INNER_ID),
  ];
}

/** /etc/passwd and /etc/group for inside: just the sandbox user, so tools that look it up work. */
export function passwdFile(): string {
  return `root:x:0:0:root:/nonexistent:/usr/sbin/nologin\ndevbot:x:${INNER_ID}:${INNER_ID}:devbot:${SANDBOX_WORKDIR}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`;
}

export function groupFile(): string {
  return `root:x:0:\ndevbot:x:${INNER_ID}:\nnogroup:x:65534:\n`;
}
