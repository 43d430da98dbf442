"""Task processes of a local run: started, streamed, killed at their deadline or when the run stops.

Each task is its own process group, so killing it kills what it started too;
on Linux it also dies with the runner (PR_SET_PDEATHSIG), even a runner
killed with SIGKILL.  Tasks are forked by a warm zygote (flowc/local/zygote.py)
where it can run, else started as plain subprocesses: both give the same pid,
pipes and exit code to the one streaming path below.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
from typing import Callable

from flowc.local.zygote import Zygote

LINE_LIMIT = 64 * 1024  # a longer printed line is echoed in pieces
# After a task's @timeout the runtime stops the step itself (SIGALRM); a step that blocks the alarm
# (handles SIGALRM, sits in a long C call) is killed by the runner this long after the deadline.
TIMEOUT_GRACE_SECONDS = 5
TIMED_OUT = -1  # TaskProcesses.run: the runner killed the task at its deadline (never a real exit code)


class TaskProcesses:
    """The live task processes of one run."""

    def __init__(self, cwd: str, env: dict, echo: Callable[[str], None], show_output: bool):
        self.cwd, self.env, self.echo, self.show_output = cwd, env, echo, show_output
        self.live: set[subprocess.Popen] = set()
        self.stopping = threading.Event()  # set when the run is interrupted: no task or attempt starts after it
        self.preexec = _parent_death_signal()
        self.zygote: Zygote | None = None
        self.zygote_tried = False
        self.zygote_lock = threading.Lock()

    def run(self, argv: list[str], prefix: str, timeout_seconds: int | None = None) -> tuple[int, collections.deque]:
        """Run one task process; echo its stdout line by line, keep the last lines of its stderr.

        Memory stays bounded whatever the task prints (lines are cut at 64 KiB,
        only the last 200 stderr lines are kept); its full output is in its saved logs.
        Returns TIMED_OUT when it outlived its @timeout and was killed.
        """
        process = self.start(argv)
        self.live.add(process)
        if self.stopping.is_set():  # interrupted while this task was being started
            _kill_group(process)
        tail: collections.deque = collections.deque(maxlen=200)
        killed = threading.Event()

        def kill_overdue():
            killed.set()
            _kill_group(process)

        timer = None
        if timeout_seconds:
            timer = threading.Timer(timeout_seconds + TIMEOUT_GRACE_SECONDS, kill_overdue)
            timer.daemon = True
            timer.start()

        def drain_stderr():
            for raw in iter(lambda: process.stderr.readline(LINE_LIMIT), b""):
                tail.append(raw.decode("utf-8", "replace").rstrip("\n"))

        reader = threading.Thread(target=drain_stderr, daemon=True)
        reader.start()
        try:
            for raw in iter(lambda: process.stdout.readline(LINE_LIMIT), b""):
                if self.show_output:
                    self.echo(prefix + raw.decode("utf-8", "replace").rstrip("\n"))
            code = process.wait()
        finally:
            if timer is not None:
                timer.cancel()
            self.live.discard(process)
        reader.join()
        process.stdout.close()
        process.stderr.close()
        return (TIMED_OUT if killed.is_set() else code), tail

    def start(self, argv: list[str]):
        """The task's process: forked by the zygote when it can, else a subprocess (same pid, pipes, wait)."""
        with self.zygote_lock:
            if not self.zygote_tried:  # started by the first task: a run that starts none pays nothing
                self.zygote_tried = True
                self.zygote = Zygote.start(self.cwd, self.env, self.preexec)
        forked = self.zygote.spawn(argv) if self.zygote is not None else None
        if forked is not None:
            return forked
        return subprocess.Popen(
            argv,
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=self.preexec,
        )

    def close(self) -> None:
        """End the zygote, if one was started (the run is over)."""
        with self.zygote_lock:
            zygote, self.zygote = self.zygote, None
        if zygote is not None:
            zygote.close()

    def stop(self) -> None:
        """No new task or attempt starts; every running task's process group is killed."""
        self.stopping.set()
        for process in list(self.live):
            _kill_group(process)


def _parent_death_signal():
    """A preexec_fn that makes a task die with its runner, even a runner killed with SIGKILL (Linux only).

    PR_SET_PDEATHSIG fires when the thread that started the child exits; the
    pool threads that start tasks live until every task has finished.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # only here: the runner's start-up does not need it elsewhere

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    runner = os.getpid()

    def die_with_runner():
        prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != runner:  # the runner died before the line above took effect
            os._exit(1)

    return die_with_runner


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
