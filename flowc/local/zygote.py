"""A warm zygote for `flowc run`: one process that has imported the runtime forks one child per task.

A fresh `python -m flowc.runtime step ...` spends ~80-110 ms of CPU starting
the interpreter and importing the runtime before the step runs; a fork of a
process that has already done so costs a few.  The zygote imports flowc's
runtime only (never the flow module: each child imports it fresh, so no user
state passes from one task to the next) and starts no thread, so forking it
is safe.

The child behaves as the subprocess did: the runtime parses the same argv,
the child is its own process group (the runner kills groups at @timeout and
on interrupt), it dies with the zygote, which dies with the runner
(PR_SET_PDEATHSIG on Linux; on macOS the zygote kills its children when the
runner's end of its control socket closes), its stdout/stderr are pipes the
runner created, its exit code is reported as Popen reports one (-N for a
signal), and on Linux `ps` and /proc/PID/cmdline show the task's argv.

Protocol, over a socketpair made at start: the runner sends a length, three
fds (a reply socket, the write ends of the task's stdout and stderr pipes:
SCM_RIGHTS) and a JSON request {argv, cwd}; the zygote answers on the reply
socket with the child's pid (0: refused, run it as a subprocess), and later
with its exit code.  When anything here fails the runner uses a plain
subprocess instead and says nothing (FLOWC_NO_ZYGOTE=1 forces that path).
"""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading

from flowc.contract.command import RUNTIME_MODULE

DISABLE_VARIABLE = "FLOWC_NO_ZYGOTE"
NUMBER = struct.Struct("!q")  # a pid, or an exit code (negative: killed by that signal)
# The zygote's argv carries this much blank room, which a child overwrites with its task's argv (Linux), so
# `ps`, /proc/PID/cmdline and tools that find task processes by their command line see what they saw before.
TITLE_ROOM = 4096
TITLE_FLAG = "--title-room="


def usable(env: dict) -> bool:
    """Fork without exec is safe here: Linux or macOS, a Python with send_fds, not switched off."""
    return (
        env.get(DISABLE_VARIABLE) != "1"
        and sys.platform.startswith(("linux", "darwin"))
        and hasattr(os, "fork")
        and hasattr(socket, "send_fds")
    )


def runtime_prefix() -> list[str]:
    """The start of the argv the zygote can serve: the runtime under this very interpreter."""
    return [sys.executable, "-m", RUNTIME_MODULE]


# -- the runner's side ---------------------------------------------------------------------------------------


class ForkedTask:
    """A task the zygote forked: what TaskProcesses.run uses of a Popen (pid, stdout, stderr, wait)."""

    def __init__(self, pid: int, reply: socket.socket, stdout_fd: int, stderr_fd: int, zygote: "Zygote"):
        self.pid, self.reply, self.zygote = pid, reply, zygote
        self.stdout, self.stderr = open(stdout_fd, "rb"), open(stderr_fd, "rb")

    def wait(self) -> int:
        code = _read_number(self.reply)
        self.reply.close()
        if code is None:  # the zygote died, and its children with it (PR_SET_PDEATHSIG)
            self.zygote.dead = True
            return -signal.SIGKILL
        return code


class Zygote:
    """The runner's handle on its zygote process."""

    def __init__(self, process: subprocess.Popen, control: socket.socket, cwd: str):
        self.process, self.control, self.cwd = process, control, cwd
        self.lock = threading.Lock()  # one request at a time on the control socket
        self.dead = False

    @classmethod
    def start(cls, cwd: str, env: dict, preexec) -> "Zygote | None":
        """Start a zygote that runs tasks in `cwd` with `env`; None where it cannot be used."""
        if not usable(env):
            return None
        ours, theirs = socket.socketpair()
        argv = [sys.executable, "-m", __name__, str(theirs.fileno()), TITLE_FLAG + " " * TITLE_ROOM]
        try:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=preexec,
            )
        except OSError:
            ours.close()
            return None
        finally:
            theirs.close()
        return cls(process, ours, cwd)

    def spawn(self, argv: list[str]) -> ForkedTask | None:
        """Fork a child running `argv`; None when the zygote cannot (the caller starts a subprocess)."""
        prefix = runtime_prefix()
        if self.dead or argv[: len(prefix)] != prefix:
            return None
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        reply, theirs = socket.socketpair()
        request = json.dumps({"argv": argv, "cwd": self.cwd}).encode()
        pid = None
        try:
            with self.lock:
                socket.send_fds(self.control, [NUMBER.pack(len(request))], [theirs.fileno(), out_write, err_write])
                self.control.sendall(request)
            theirs.close()  # before the read: a dead zygote then means end of file, not a wait forever
            pid = _read_number(reply)
        except OSError:
            pass
        finally:
            theirs.close()
            os.close(out_write)
            os.close(err_write)
        if not pid:
            self.dead = self.dead or pid is None  # None: the zygote is gone; 0: it refused this one
            for fd in (out_read, err_read):
                os.close(fd)
            reply.close()
            return None
        return ForkedTask(pid, reply, out_read, err_read, self)

    def close(self) -> None:
        """End the zygote: it exits when its control socket closes."""
        self.control.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _read_number(sock: socket.socket) -> int | None:
    data = b""
    while len(data) < NUMBER.size:
        chunk = sock.recv(NUMBER.size - len(data))
        if not chunk:
            return None
        data += chunk
    return NUMBER.unpack(data)[0]


# -- the zygote's side ---------------------------------------------------------------------------------------


def warm() -> None:
    """Import what every task needs before its step runs; none of these start a thread."""
    import argparse  # noqa: F401
    import ctypes  # noqa: F401 - the child's PR_SET_PDEATHSIG and title
    import pickle  # noqa: F401
    import selectors  # noqa: F401

    import flowc.runtime.__main__  # noqa: F401
    import flowc.runtime.bootstrap  # noqa: F401
    import flowc.runtime.loader  # noqa: F401
    import flowc.runtime.secrets  # noqa: F401
    import flowc.runtime.task  # noqa: F401


def serve(control_fd: int):
    """Fork a child per request until the runner closes the control socket.

    Returns None in the zygote when it is done, and the task's argv in each child.
    """
    import selectors

    control = socket.socket(fileno=control_fd)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # only to wake the select below
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    running: dict[int, socket.socket] = {}  # child pid -> its reply socket
    zygote = os.getpid()
    while True:
        for key, _ in selector.select():
            if key.fd == wake_read:
                _drain(wake_read)
                _reap(running)
                continue
            received = _receive(control)
            if received is None:  # the runner closed it, or is gone: so are its tasks
                for pid in running:
                    _kill_group(pid)
                return None
            request, reply, out_write, err_write = received
            if threading.active_count() != 1:  # forking with a thread is unsafe: let the runner start it
                reply.sendall(NUMBER.pack(0))
                reply.close()
                os.close(out_write)
                os.close(err_write)
                continue
            pid = os.fork()
            if pid == 0:
                selector.close()
                for fd in (
                    control.detach(),
                    wake_read,
                    wake_write,
                    reply.detach(),
                    *(s.detach() for s in running.values()),
                ):
                    os.close(fd)
                _become_task(zygote, request, out_write, err_write)
                return request["argv"]
            try:
                os.setpgid(pid, pid)  # the child does so too: whichever runs first, the group exists
            except OSError:
                pass  # it has already exited
            os.close(out_write)
            os.close(err_write)
            reply.sendall(NUMBER.pack(pid))
            running[pid] = reply


def _receive(control: socket.socket):
    """The next request: (request, reply socket, stdout fd, stderr fd), or None at end of file."""
    try:
        header, fds, _, _ = socket.recv_fds(control, NUMBER.size, 3)
    except OSError:
        return None
    if not header or len(fds) != 3:
        for fd in fds:
            os.close(fd)
        return None
    while len(header) < NUMBER.size:
        header += control.recv(NUMBER.size - len(header))
    size, payload = NUMBER.unpack(header)[0], b""
    while len(payload) < size:
        chunk = control.recv(size - len(payload))
        if not chunk:
            return None
        payload += chunk
    return json.loads(payload), socket.socket(fileno=fds[0]), fds[1], fds[2]


def _reap(running: dict) -> None:
    while running:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        reply = running.pop(pid, None)
        if reply is not None:
            try:
                reply.sendall(NUMBER.pack(os.waitstatus_to_exitcode(status)))
            except OSError:
                pass
            reply.close()


def _become_task(zygote: int, request: dict, out_write: int, err_write: int) -> None:
    """In the child, before the runtime runs: what a fresh `subprocess.Popen` of the task would have set up."""
    os.setpgid(0, 0)
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        _die_with(zygote)
        _show_argv(request["argv"])
    stdin = os.open(os.devnull, os.O_RDONLY)
    for fd, target in ((stdin, 0), (out_write, 1), (err_write, 2)):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    import flowc.runtime.__main__ as runtime_main

    sys.argv = [runtime_main.__file__, *request["argv"][len(runtime_prefix()) :]]


def _die_with(zygote: int) -> None:
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != zygote:  # the zygote died before the line above took effect
        os._exit(1)


def _show_argv(argv: list[str]) -> None:
    """Write the task's argv over the zygote's blank argv room (as setproctitle does); best effort."""
    import ctypes

    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end: fields 48 and 49 of proc(5)
        room = end - start
        title = b"\0".join(os.fsencode(a) for a in argv)[: room - 1]
        ctypes.memmove(start, title.ljust(room, b"\0"), room)
    except (OSError, ValueError, IndexError):
        pass


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


if __name__ == "__main__":
    warm()
    # What is imported now stays shared with every child: frozen, the collector never walks it, so a child
    # does not copy those pages (a task's CPU went from ~23 ms to ~12 ms with this line).
    gc.freeze()
    if threading.active_count() != 1:
        sys.exit(3)  # the runner sees its control socket close and starts plain subprocesses
    task_argv = serve(int(sys.argv[1]))
    if task_argv is not None:  # a child: run the task at the top of the stack, exiting as the interpreter does
        from flowc.runtime.__main__ import main

        sys.exit(main(task_argv[len(runtime_prefix()) :]))
