/**
 * The local sandbox's seccomp filters, compiled to BPF by libseccomp's Python bindings (Debian's
 * `python3-seccomp`, for /usr/bin/python3) and cached in the data directory, keyed by the
 * generator's text and the architecture. Two programs, because the sandbox's own supervisor needs
 * one thing its commands must not have (DESIGN.md §4):
 *
 * - `sandbox` (given to bubblewrap with `--seccomp`, so it binds the supervisor and everything
 *   under it): mounts of any kind, setns, bpf, io_uring, perf_event_open, keys, kexec, kernel
 *   modules, open_by_handle_at, userfaultfd and a few more answer EPERM; clone with any namespace
 *   flag answers EPERM; clone3 answers ENOSYS (its flags sit in memory a filter cannot read;
 *   glibc then falls back to clone, whose flags it can); unshare answers EPERM for every namespace
 *   except user + PID, which the supervisor's per-command helper needs.
 * - `commands` (installed by that helper on itself just before it starts a command, so it binds
 *   the command's whole tree): unshare answers EPERM, so sandbox code gets no nested user
 *   namespace (and none of the capabilities that come with one).
 *
 * ptrace stays allowed: debuggers and strace are ordinary development tools, a command can only
 * reach processes of its own sandbox uid inside its own PID namespace, the supervisor is not
 * dumpable (so not traceable), and since Linux 4.8 a tracer cannot skip a tracee's seccomp checks.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UnavailableError } from '../../src/core/errors.js';

export interface SeccompFilters {
  /** BPF for bubblewrap's --seccomp: the whole sandbox. */
  sandbox: string;
  /** BPF the supervisor's helper installs before each command. */
  commands: string;
  /** Syscalls this libseccomp does not know (so not filtered by name); empty normally. */
  unknown: string[];
}

export const SECCOMP_MISSING =
  "the local sandbox's seccomp filter needs libseccomp's Python bindings for /usr/bin/python3: apt-get install python3-seccomp (or set DEVBOT_SANDBOX=e2b)";

/** The interpreter (and its leading flags) that has Debian's bindings: never a pyenv one. */
const PYTHON = ['/usr/bin/python3', '-I'];

const GENERATOR = `
import errno, json, os, sys
try:
    import seccomp
except ImportError:
    sys.exit(3)
from seccomp import ALLOW, ERRNO, Arg, Arch, MASKED_EQ, SyscallFilter

NEWNS, NEWCGROUP, NEWUTS, NEWIPC = 0x00020000, 0x02000000, 0x04000000, 0x08000000
NEWUSER, NEWPID, NEWNET, NEWTIME = 0x10000000, 0x20000000, 0x40000000, 0x00000080
# clone's flags are its first argument everywhere but s390, where they are the second.
FLAGS_ARG = 1 if os.uname().machine.startswith('s390') else 0

# Denied on every libseccomp: the review's list.
REQUIRED = [
    'setns', 'mount', 'umount2', 'pivot_root', 'fsopen', 'fsconfig', 'fsmount', 'fspick',
    'move_mount', 'open_tree', 'bpf', 'io_uring_setup', 'io_uring_enter', 'io_uring_register',
    'perf_event_open', 'keyctl', 'add_key', 'request_key', 'kexec_load', 'kexec_file_load',
    'init_module', 'finit_module', 'delete_module', 'open_by_handle_at', 'userfaultfd',
]
# Denied where this libseccomp knows them: need privileges a sandbox never has, or touch the
# whole machine (clock, swap, reboot, kernel log, I/O ports).
OPTIONAL = [
    'mount_setattr', 'umount', 'name_to_handle_at', 'quotactl', 'quotactl_fd', 'swapon',
    'swapoff', 'reboot', 'acct', 'syslog', 'settimeofday', 'clock_settime', 'clock_adjtime',
    'adjtimex', 'iopl', 'ioperm', 'lookup_dcookie', 'vhangup', 'nfsservctl', 'uselib', '_sysctl',
    'fanotify_init',
]
EPERM = ERRNO(errno.EPERM)
unknown = []


def new_filter():
    f = SyscallFilter(ALLOW)
    # 32-bit syscalls on a 64-bit kernel get the same rules (without these, libseccomp would kill
    # any process making one: 32-bit programs would not run at all).
    # (system_arch() is unsigned, the Arch constants signed: compare the low 32 bits.)
    native = seccomp.system_arch() & 0xFFFFFFFF
    compat = {Arch.X86_64: [Arch.X86, Arch.X32], Arch.AARCH64: [Arch.ARM]}
    extra = next((v for k, v in compat.items() if k & 0xFFFFFFFF == native), [])
    for arch in extra:
        try:
            f.add_arch(arch)
        except Exception:
            pass
    return f


def deny(f, name, action=EPERM, *args, required=False):
    try:
        f.add_rule(action, name, *args)
    except (ValueError, RuntimeError):
        if required:
            raise
        unknown.append(name)


sandbox = new_filter()
for name in REQUIRED:
    deny(sandbox, name, required=True)
for name in OPTIONAL:
    deny(sandbox, name)
for flag in (NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET):
    deny(sandbox, 'clone', EPERM, Arg(FLAGS_ARG, MASKED_EQ, flag, flag), required=True)
for flag in (NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWNET, NEWTIME):
    deny(sandbox, 'unshare', EPERM, Arg(0, MASKED_EQ, flag, flag), required=True)
deny(sandbox, 'clone3', ERRNO(errno.ENOSYS), required=True)

commands = new_filter()
deny(commands, 'unshare', required=True)

for f, path in ((sandbox, sys.argv[1]), (commands, sys.argv[2])):
    with open(path, 'wb') as out:
        f.export_bpf(out)
print(json.dumps({'unknown': sorted(set(unknown))}))
`;

/**
 * The compiled filters in `cacheDir`, built on first use. Throws UnavailableError when
 * python3-seccomp is missing (the sandbox does not run without its filter).
 */
export async function seccompFilters(cacheDir: string, python = PYTHON): Promise<SeccompFilters> {
  const key = createHash('sha256').update(GENERATOR).update(process.arch).digest('hex').slice(0, 16);
  const paths = {
    sandbox: join(cacheDir, `seccomp-${key}-sandbox.bpf`),
    commands: join(cacheDir, `seccomp-${key}-commands.bpf`),
    unknown: join(cacheDir, `seccomp-${key}-unknown.json`),
  };
  const cached = await Promise.all(Object.values(paths).map((p) => stat(p).catch(() => null)));
  if (cached.every((s) => s?.isFile())) {
    const unknown = JSON.parse(await readFile(paths.unknown, 'utf8')) as string[];
    return { sandbox: paths.sandbox, commands: paths.commands, unknown };
  }
  // Written beside, then renamed: two workers starting at once never read half a program.
  const suffix = `.${process.pid}.tmp`;
  const [interpreter = '', ...flags] = python;
  const { code, stdout, stderr } = await run(interpreter, [
    ...flags,
    '-c',
    GENERATOR,
    paths.sandbox + suffix,
    paths.commands + suffix,
  ]);
  try {
    if (code === 3) throw new UnavailableError(SECCOMP_MISSING);
    if (code !== 0)
      throw new UnavailableError(
        `the local sandbox's seccomp filter could not be built: ${stderr.trim().slice(-500) || `exit ${code}`}`,
      );
    const { unknown } = JSON.parse(stdout) as { unknown: string[] };
    await writeFile(paths.unknown + suffix, JSON.stringify(unknown));
    for (const path of [paths.sandbox, paths.commands, paths.unknown]) {
      // The supervisor reads the commands' program inside the sandbox, as the sandbox's uid.
      await chmod(path + suffix, 0o644);
      await rename(path + suffix, path);
    }
    return { sandbox: paths.sandbox, commands: paths.commands, unknown };
  } finally {
    for (const path of Object.values(paths)) await rm(path + suffix, { force: true });
  }
}

function run(
  command: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: {}, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    child.once('error', (err) => resolve({ code: null, stdout, stderr: String(err) }));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
