/**
 * The supervisor that runs inside each local sandbox (python3 from /usr/bin, standard library only).
 *
 * Why a supervisor: every process of one sandbox must share one network namespace (a dev server
 * started in the background must be reachable from the next command and from the preview
 * forwarder), and spawning a fresh `nsenter` chain per command costs several execs. One long-lived
 * bubblewrap per sandbox runs this script as the unprivileged sandbox uid; the host talks to it over
 * its stdin/stdout with one JSON object per line.
 *
 * Each command runs as pid 1 of its own user + PID namespace, so killing that one process ends the
 * command's whole tree (setsid and double forks included). A helper already inside fresh namespaces
 * is kept forked ahead of time and starts the command with posix_spawn, which keeps the fork of
 * this Python process off the command's critical path.
 *
 * Shipped as a TypeScript string so the build needs no extra asset copy step.
 */
export const SUPERVISOR_SCRIPT = String.raw`
import asyncio, codecs, ctypes, errno, json, os, signal, stat, sys

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
PR_SET_DUMPABLE = 4
# Commands run as the same host uid; a non-dumpable supervisor cannot be read or ptraced by them.
libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)

UID = os.getuid()
GID = os.getgid()
INNER_ID = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
# The seccomp program (compiled BPF, see seccomp-filters.ts) each command's helper installs on
# itself before starting the command: no unshare, so no nested namespaces for sandbox code.
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
with open(sys.argv[2], 'rb') as f:
    COMMAND_FILTER = f.read()


class SockFprog(ctypes.Structure):
    _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]


def confine_commands():
    """Installs COMMAND_FILTER on this process and, through inheritance, on all it starts."""
    program = ctypes.create_string_buffer(COMMAND_FILTER, len(COMMAND_FILTER))
    prog = SockFprog(len(COMMAND_FILTER) // 8, ctypes.cast(program, ctypes.c_void_p))
    ulong = ctypes.c_ulong
    if libc.prctl(PR_SET_NO_NEW_PRIVS, ulong(1), ulong(0), ulong(0), ulong(0)) != 0:
        raise OSError(ctypes.get_errno(), 'no_new_privs failed')
    if libc.prctl(PR_SET_SECCOMP, ulong(SECCOMP_MODE_FILTER), ctypes.byref(prog), ulong(0), ulong(0)) != 0:
        raise OSError(ctypes.get_errno(), 'seccomp failed')
WORKDIR = '/workspace'
CHUNK = 65536
FILE_LIMIT = 8 * 1024 * 1024

out = None
procs = {}
servers = {}


def send(obj):
    out.write((json.dumps(obj, separators=(',', ':')) + '\n').encode())


def resolve(path):
    return os.path.normpath(os.path.join(WORKDIR, path or '.'))


def write_file(path, text):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


class Zygote:
    """A helper forked ahead of time, already in a fresh user + PID namespace, waiting for one
    command. Keeping one ready takes the fork and the namespace setup off the command's path."""

    def __init__(self):
        cmd_r, self.cmd_w = os.pipe()
        self.info_r, info_w = os.pipe()
        self.out_r, out_w = os.pipe()
        self.err_r, err_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            zygote_main(cmd_r, info_w, out_w, err_w)
        for fd in (cmd_r, info_w, out_w, err_w):
            os.close(fd)

    def discard(self):
        for fd in (self.cmd_w, self.info_r, self.out_r, self.err_r):
            os.close(fd)
        os.waitpid(self.pid, 0)


def zygote_main(cmd_r, info_w, out_w, err_w):
    """In the helper: new namespaces, wait for the command, spawn it as pid 1, wait, exit with its code."""
    try:
        # Only this command's pipes stay open (not the supervisor's channel to the host).
        keep = {cmd_r, info_w, out_w, err_w}
        for name in os.listdir('/proc/self/fd'):
            if int(name) not in keep:
                try:
                    os.close(int(name))
                except OSError:
                    pass
        if libc.unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0:
            raise OSError(ctypes.get_errno(), 'unshare failed')
        # /proc/self/*_map belong to root while non-dumpable; writable again just for the maps.
        libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        write_file('/proc/self/setgroups', 'deny')
        write_file('/proc/self/uid_map', '%d %d 1' % (INNER_ID, UID))
        write_file('/proc/self/gid_map', '%d %d 1' % (INNER_ID, GID))
        # When the sandbox's memory cgroup is full, the kernel kills the command, not the
        # supervisor (which would end the whole sandbox). Raising one's own score needs no privilege.
        try:
            write_file('/proc/self/oom_score_adj', '500')
        except OSError:
            pass  # only a preference: the memory limit holds either way
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        # From here on neither this helper nor the command may create namespaces. A helper that
        # cannot install the filter runs no command (the except below).
        confine_commands()
        data = b''
        while True:
            chunk = os.read(cmd_r, 65536)
            if not chunk:
                break
            data += chunk
        if not data:
            os._exit(0)
        req = json.loads(data)
        try:
            os.chdir(req['cwd'])
        except OSError as e:
            os.write(err_w, ('devbot: cannot cd to %s: %s\n' % (req['cwd'], e.strerror)).encode())
            os._exit(1)
        null = os.open('/dev/null', os.O_RDONLY)
        # posix_spawn (vfork) is much cheaper than forking this Python process again. The child is
        # pid 1 of the new namespace: when it ends, or is killed, everything it started dies too.
        pid = os.posix_spawn(
            '/bin/sh', ['/bin/sh', '-c', req['command']], req['env'],
            file_actions=[(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, out_w, 1),
                          (os.POSIX_SPAWN_DUP2, err_w, 2)],
            setsid=True,
            # Python ignores SIGPIPE and SIGXFSZ; commands expect the defaults.
            setsigdef=(signal.SIGPIPE, signal.SIGXFSZ),
        )
        os.write(info_w, b'%d\n' % pid)
        os.close(out_w)
        os.close(err_w)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        os._exit(code if code >= 0 else 128 - code)
    except BaseException as e:
        try:
            os.write(err_w, ('devbot: cannot start the command: %s\n' % e).encode())
        finally:
            os._exit(127)


spare = []


def take_zygote():
    z = spare.pop() if spare else Zygote()
    # Prepare the next one shortly after: forking now would stall this loop while the command starts.
    asyncio.get_running_loop().call_later(0.03, refill_zygote)
    return z


def refill_zygote():
    if not spare:
        try:
            spare.append(Zygote())
        except OSError:
            pass  # out of processes: the next command forks its own helper


class Proc:
    def __init__(self, rid, pid, cap):
        self.rid = rid
        self.pid = pid
        self.cap = cap
        self.sent = 0
        self.truncated = False
        self.code = None
        self.child = None
        self.kill_pending = False


async def pump(proc, fd, stream):
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=CHUNK * 2)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, 'rb', 0))
    decoder = codecs.getincrementaldecoder('utf-8')(errors='replace')
    while True:
        data = await reader.read(CHUNK)
        if not data:
            break
        if proc.sent >= proc.cap:
            proc.truncated = True
            continue
        room = proc.cap - proc.sent
        if len(data) > room:
            data = data[:room]
            proc.truncated = True
        proc.sent += len(data)
        text = decoder.decode(data)
        if text:
            send({'id': proc.rid, 'ev': 'out', 's': stream, 'd': text})
            await out.drain()
    tail = decoder.decode(b'', True)
    if tail and not proc.truncated:
        send({'id': proc.rid, 'ev': 'out', 's': stream, 'd': tail})


async def wait_exit(proc):
    loop = asyncio.get_running_loop()
    pidfd = os.pidfd_open(proc.pid)
    done = loop.create_future()
    loop.add_reader(pidfd, lambda: done.done() or done.set_result(None))
    await done
    loop.remove_reader(pidfd)
    os.close(pidfd)
    _, status = os.waitpid(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    proc.code = code if code >= 0 else 128 - code


async def run(req):
    rid = req['id']
    env = {str(k): str(v) for k, v in (req.get('env') or {}).items()}
    z = take_zygote()
    os.write(z.cmd_w, json.dumps({'command': req['command'], 'cwd': resolve(req.get('cwd')), 'env': env}).encode())
    os.close(z.cmd_w)
    proc = Proc(rid, z.pid, int(req.get('cap') or 1048576))
    procs[rid] = proc
    send({'id': rid, 'ev': 'started'})
    try:
        await asyncio.gather(pump(proc, z.out_r, 1), pump(proc, z.err_r, 2), wait_exit(proc), read_child(proc, z.info_r))
    finally:
        procs.pop(rid, None)
    send({'id': rid, 'ev': 'exit', 'code': proc.code, 'truncated': proc.truncated})


async def read_child(proc, fd):
    """The helper reports the command's pid (pid 1 of its namespace): the one to kill."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, 'rb', 0))
    line = await reader.readline()
    if line.strip():
        proc.child = int(line)
        if proc.kill_pending:
            kill_child(proc)


def kill_child(proc):
    try:
        os.kill(proc.child, signal.SIGKILL)
    except ProcessLookupError:
        pass


def kill(req):
    proc = procs.get(req['target'])
    if proc is not None and proc.code is None:
        # Killing pid 1 of the command's namespace ends its whole tree. Until the helper has
        # reported that pid (microseconds after it got the command), remember the request.
        if proc.child is None:
            proc.kill_pending = True
        else:
            kill_child(proc)
    send({'id': req['id'], 'ev': 'ok'})


async def splice(reader, writer, up_reader, up_writer):
    async def copy(src, dst):
        try:
            while True:
                data = await src.read(CHUNK)
                if not data:
                    break
                dst.write(data)
                await dst.drain()
        except OSError:
            pass
        finally:
            try:
                if dst.can_write_eof():
                    dst.write_eof()
            except OSError:
                pass

    await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
    writer.close()
    up_writer.close()


async def forward(port, reader, writer):
    """A preview: the host connects on a Unix socket, the page is served on a port inside."""
    try:
        up_reader, up_writer = await asyncio.open_connection('127.0.0.1', port)
    except OSError:
        writer.close()
        return
    await splice(reader, writer, up_reader, up_writer)


async def to_egress(path, reader, writer):
    """The way out: a command connects to the proxy port inside, the host's proxy takes it."""
    try:
        up_reader, up_writer = await asyncio.open_unix_connection(path)
    except OSError:
        writer.close()
        return
    await splice(reader, writer, up_reader, up_writer)


async def egress(req):
    if 'egress' not in servers:
        port = int(req['port'])
        path = req['path']
        servers['egress'] = await asyncio.start_server(lambda r, w: to_egress(path, r, w), host='127.0.0.1', port=port)
    send({'id': req['id'], 'ev': 'ok'})


async def expose(req):
    port = int(req['port'])
    path = req['path']
    if path in servers:
        send({'id': req['id'], 'ev': 'ok'})
        return
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    server = await asyncio.start_unix_server(lambda r, w: forward(port, r, w), path=path)
    servers[path] = server
    send({'id': req['id'], 'ev': 'ok'})


# File operations never follow a symlink in the last component (sandbox code could point one at
# this process's own /proc/self/fd/0 or /1, the host's channel), never block (a FIFO planted where
# the host reads would hang the open), and work on regular files only (not FIFOs, devices or
# sockets). Intermediate components may still be symlinks: they resolve inside this sandbox's
# own view, which is all the supervisor can see anyway.
FILE_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def open_checked(path, flags, want_dir=False):
    try:
        fd = os.open(path, flags | FILE_FLAGS, 0o644)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise ValueError('%s is a symbolic link; devbot does not follow it' % path) from None
        if e.errno == errno.ENXIO:
            raise ValueError('%s is not a regular file' % path) from None
        raise
    mode = os.fstat(fd).st_mode
    if not (stat.S_ISDIR(mode) if want_dir else stat.S_ISREG(mode)):
        os.close(fd)
        raise ValueError('%s is not a %s' % (path, 'directory' if want_dir else 'regular file'))
    return fd


def read_file(path, name):
    fd = open_checked(path, os.O_RDONLY)
    try:
        chunks = []
        size = 0
        while size <= FILE_LIMIT:
            data = os.read(fd, CHUNK)
            if not data:
                break
            chunks.append(data)
            size += len(data)
    finally:
        os.close(fd)
    if size > FILE_LIMIT:
        raise ValueError('%s is larger than %d bytes' % (name, FILE_LIMIT))
    return {'data': b''.join(chunks).decode('utf-8', errors='replace')}


def write_whole(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # Truncate only once fstat has proven it is a regular file (O_TRUNC would act first).
    fd = open_checked(path, os.O_WRONLY | os.O_CREAT)
    try:
        os.ftruncate(fd, 0)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    return {}


def list_dir(path):
    fd = open_checked(path, os.O_RDONLY | os.O_DIRECTORY, want_dir=True)
    entries = []
    try:
        with os.scandir(fd) as it:
            for e in it:
                is_dir = e.is_dir(follow_symlinks=False)
                size = 0 if is_dir else e.stat(follow_symlinks=False).st_size
                entries.append({'name': e.name, 'path': os.path.join(path, e.name),
                                'type': 'dir' if is_dir else 'file', 'size': size})
    finally:
        os.close(fd)
    entries.sort(key=lambda x: x['name'])
    return {'entries': entries}


def file_op(req):
    op = req['op']
    path = resolve(req.get('path'))
    if op == 'read':
        return read_file(path, req.get('path'))
    if op == 'write':
        return write_whole(path, req['data'].encode())
    if op == 'list':
        return list_dir(path)
    raise ValueError('unknown op %s' % op)


async def handle(req):
    try:
        op = req.get('op')
        if op == 'exec':
            await run(req)
        elif op == 'kill':
            kill(req)
        elif op == 'expose':
            await expose(req)
        elif op == 'egress':
            await egress(req)
        else:
            # In a thread: should a file operation ever block after all, commands, kills and
            # other requests keep being served (the host times the operation out).
            result = await asyncio.to_thread(file_op, req)
            send({'id': req['id'], 'ev': 'ok', **result})
    except Exception as e:
        send({'id': req.get('id'), 'ev': 'err', 'message': '%s: %s' % (type(e).__name__, e)})


async def main():
    global out
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=64 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, sys.stdout)
    out = asyncio.StreamWriter(transport, protocol, None, loop)
    tasks = set()
    refill_zygote()
    send({'ev': 'ready'})
    while True:
        line = await reader.readline()
        if not line:
            break
        task = asyncio.ensure_future(handle(json.loads(line)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    for proc in list(procs.values()):
        if proc.child is not None:
            kill_child(proc)


asyncio.run(main())
`;
