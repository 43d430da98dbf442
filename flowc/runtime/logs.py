"""Per-attempt log capture (tee: the orchestrator still sees the output) and the timeout alarm."""

from __future__ import annotations

import collections
import contextlib
import io
import os
import signal
import sys
import threading


LOG_LIMIT_DEFAULT = 8 * 1024 * 1024


def log_limit() -> int:
    """Characters of each stream kept in the saved log (FLOWC_LOG_LIMIT, default 8 MiB)."""
    try:
        return max(1024, int(os.environ.get("FLOWC_LOG_LIMIT", "") or LOG_LIMIT_DEFAULT))
    except ValueError:
        return LOG_LIMIT_DEFAULT


class BoundedLog:
    """The first and the last `limit / 2` characters of a stream, and how many were left out between."""

    def __init__(self, limit: int):
        self.half = limit // 2
        self.head = io.StringIO()
        self.head_size = 0
        self.tail: collections.deque[str] = collections.deque()
        self.tail_size = 0
        self.dropped = 0

    def write(self, text: str) -> None:
        if self.head_size < self.half:
            room = self.half - self.head_size
            self.head.write(text[:room])
            self.head_size += min(room, len(text))
            text = text[room:]
        if not text:
            return
        if len(text) >= self.half:
            self.dropped += self.tail_size + len(text) - self.half
            self.tail.clear()
            text = text[-self.half :]
            self.tail_size = 0
        self.tail.append(text)
        self.tail_size += len(text)
        while self.tail_size > self.half:
            first = self.tail[0]
            extra = self.tail_size - self.half
            if len(first) <= extra:
                self.tail.popleft()
                self.tail_size -= len(first)
                self.dropped += len(first)
            else:
                self.tail[0] = first[extra:]
                self.tail_size -= extra
                self.dropped += extra

    def getvalue(self) -> str:
        middle = ""
        if self.dropped:
            middle = (
                f"\n[flowc: {self.dropped} characters of output left out of this saved log "
                f"(FLOWC_LOG_LIMIT={2 * self.half}); the first and the last {self.half} are kept]\n"
            )
        return self.head.getvalue() + middle + "".join(self.tail)


class _Tee(io.TextIOBase):
    def __init__(self, original, buffer: BoundedLog):
        self.original = original
        self.buffer_ = buffer
        self.lock = threading.Lock()

    def write(self, text):
        with self.lock:
            self.buffer_.write(text)
        try:
            self.original.write(text)
        except (OSError, ValueError):
            pass
        return len(text)

    def flush(self):
        try:
            self.original.flush()
        except (OSError, ValueError):
            pass

    def isatty(self):
        return False

    @property
    def encoding(self):
        return getattr(self.original, "encoding", "utf-8")


class Captured:
    def __init__(self):
        self._out = BoundedLog(log_limit())
        self._err = BoundedLog(log_limit())

    def stdout(self) -> str:
        return self._out.getvalue()

    def stderr(self) -> str:
        return self._err.getvalue()


@contextlib.contextmanager
def capture_output():
    """Copy everything printed to sys.stdout / sys.stderr into a Captured, while still printing it."""
    captured = Captured()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Tee(saved[0], captured._out), _Tee(saved[1], captured._err)
    try:
        yield captured
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = saved


class StepTimeout(Exception):
    """The step ran longer than its @timeout."""


@contextlib.contextmanager
def timeout_alarm(seconds: float, step: str):
    """Raise StepTimeout inside the step after `seconds` (SIGALRM; main thread only)."""
    if not seconds or seconds <= 0 or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise StepTimeout(f"step '{step}' exceeded its @timeout of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def parameter_error(name: str, parameter, text: str, exc: Exception) -> str:
    kind = getattr(parameter.type, "__name__", str(parameter.type))
    if kind == "JSONType":
        kind = "JSON"
    return f"bad value for parameter '{name}': expected {kind}, got {text!r} ({exc})"
