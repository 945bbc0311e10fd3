/**
 * A Python probe that calls each syscall family the local sandbox's seccomp filter denies (see
 * sandbox/local/seccomp-filters.ts) and prints, per syscall, "ok" or the error it got. Arguments
 * are chosen so that an unfiltered call fails (or succeeds) with something other than EPERM
 * wherever the kernel checks them before privileges; run it on the host as a control.
 */
export const SYSCALL_PROBE = `
import ctypes, json, os, platform
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NEWUSER, NEWNET, SIGCHLD = 0x10000000, 0x40000000, 17
NR = {
    'x86_64': dict(unshare=272, setns=308, mount=165, umount2=166, pivot_root=155, fsopen=430,
                   fsmount=432, move_mount=429, open_tree=428, bpf=321, io_uring_setup=425,
                   io_uring_enter=426, io_uring_register=427, perf_event_open=298, keyctl=250,
                   add_key=248, request_key=249, kexec_load=246, kexec_file_load=320,
                   init_module=175, finit_module=313, delete_module=176, open_by_handle_at=304,
                   userfaultfd=323, clone=56, clone3=435),
    'aarch64': dict(unshare=97, setns=268, mount=40, umount2=39, pivot_root=41, fsopen=430,
                    fsmount=432, move_mount=429, open_tree=428, bpf=280, io_uring_setup=425,
                    io_uring_enter=426, io_uring_register=427, perf_event_open=241, keyctl=219,
                    add_key=217, request_key=218, kexec_load=104, kexec_file_load=294,
                    init_module=105, finit_module=273, delete_module=106, open_by_handle_at=265,
                    userfaultfd=282, clone=220, clone3=435),
}[platform.machine()]
L = ctypes.c_long
# Arguments the kernel rejects (bad pointers, fds, commands) *after* the syscall is let through,
# so an unfiltered call answers something other than EPERM where it can.
ARGS = dict(unshare=[NEWUSER], setns=[-1, 0], mount=[1, 1, 1, 0, 0], umount2=[1, 0x80000000],
            pivot_root=[1, 1], fsopen=[1, 0], fsmount=[-1, 0, 0], move_mount=[-1, 1, -1, 1, 0],
            open_tree=[-1, 1, 0x80000000], bpf=[9999, 0, 0], io_uring_setup=[1, 1],
            io_uring_enter=[-1, 0, 0, 0, 0, 0], io_uring_register=[-1, 0, 0, 0],
            perf_event_open=[1, 0, -1, -1, 0], keyctl=[9999, 0, 0, 0, 0], add_key=[1, 1, 0, 0, 0],
            request_key=[1, 1, 0, 0], kexec_load=[0, 0, 0, 0], kexec_file_load=[-1, -1, 0, 0, 0],
            init_module=[0, 0, 1], finit_module=[-1, 0, 0], delete_module=[1, 0],
            open_by_handle_at=[-1, 1, 0], userfaultfd=[1], clone=[NEWUSER | NEWNET | SIGCHLD, 0, 0, 0, 0],
            clone3=[1, 88])
out = {}
for name, nr in NR.items():
    pid = os.fork()  # each try in a child: a call that works must not change this process
    if pid == 0:
        r = libc.syscall(L(nr), *[L(a) for a in ARGS[name]])
        if r == 0 and name == 'clone':
            os._exit(0)  # the clone child itself
        os._exit(0 if r >= 0 else min(ctypes.get_errno(), 255))
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    out[name] = 'ok' if code == 0 else (os.strerror(code) if code > 0 else 'signal %d' % -code)
print(json.dumps(out))
`;
