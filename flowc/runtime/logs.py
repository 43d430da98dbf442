"""Per-attempt log capture (tee: the orchestrator still sees the output) and the timeout alarm."""

from __future__ import annotations

import contextlib
import io
import signal
import sys
import threading


class _Tee(io.TextIOBase):
    def __init__(self, original, buffer: io.StringIO):
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
        self._out = io.StringIO()
        self._err = io.StringIO()

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
