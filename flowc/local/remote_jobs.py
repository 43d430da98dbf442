"""What the Batch and Kubernetes launchers of a local run share: the jobs in flight, polling, cancelling.

A remote step's task is a job on someone else's machine: the runner's
process for it is a thread that submits the job, polls it with backoff,
echoes its log lines and waits for its end.  When the run stops (Ctrl-C or
SIGTERM) every job still in flight is cancelled
through its service's API, so nothing is left running and billing.
"""

from __future__ import annotations

import collections
import itertools
import threading
from typing import Any, Callable, Iterator

from flowc.contract.command import EXIT_FAILED, EXIT_LAUNCH

FIRST_POLL_SECONDS = 0.2
MOST_POLL_SECONDS = 10.0
POLL_GROWTH = 1.5
TAIL_LINES = 200  # the failure message shows the last of these, as for a local task


def poll_delays(first: float = FIRST_POLL_SECONDS, most: float = MOST_POLL_SECONDS) -> Iterator[float]:
    """Waits between two polls of one job: short at first (most steps are short), then growing to `most`."""
    delay = first
    while True:
        yield delay
        delay = min(most, delay * POLL_GROWTH)


class RemoteJobs:
    """The jobs of one run that are in flight, each with the call that cancels it."""

    def __init__(self, stopping: threading.Event, echo: Callable[[str], None]):
        self.stopping = stopping  # the runner's: set when the run is interrupted
        self.echo = echo
        self._cancels: dict[int, tuple[str, Callable[[], None]]] = {}
        self._ids = itertools.count()
        self._lock = threading.Lock()

    def track(self, description: str, cancel: Callable[[], None]) -> int:
        """Remember a submitted job; cancelled at once when the run is already stopping."""
        with self._lock:
            key = next(self._ids)
            self._cancels[key] = (description, cancel)
        if self.stopping.is_set():  # interrupted while this job was being submitted
            self.cancel(key)
        return key

    def follow(
        self, description: str, cancel: Callable[[], None], wait: Callable[[], Any], errors: tuple, lines: list[str]
    ) -> tuple[int, Any, int | None]:
        """Track a submitted job while `wait()` follows it: (key, its end as `wait` gives it, None), or
        (key, None, exit code) with the reason in `lines` when it was lost track of (cancelled here: nothing is
        left running) or the run was interrupted first (stop() cancels it)."""
        key = self.track(description, cancel)
        try:
            ended = wait()
        except errors as exc:
            self.cancel(key)
            lines.append(f"flowc: lost track of {description}: {exc}")
            return key, None, EXIT_LAUNCH
        if ended is None:
            lines.append("interrupted")
            return key, None, EXIT_FAILED
        return key, ended, None

    def forget(self, key: int) -> None:
        """The job ended on its own: nothing to cancel."""
        with self._lock:
            self._cancels.pop(key, None)

    def stop(self) -> None:
        """Cancel every job in flight (the run was interrupted); each failure is said, none stops the others."""
        self.stopping.set()
        with self._lock:
            keys = list(self._cancels)
        for key in keys:
            self.cancel(key)

    def cancel(self, key: int) -> None:
        """Cancel one job now (the runner lost track of it, or the run stops)."""
        with self._lock:
            found = self._cancels.pop(key, None)
        if found is None:
            return
        description, cancel = found
        try:
            cancel()
            self.echo(f"flowc: cancelled {description}")
        except Exception as exc:  # noqa: BLE001 - any API failure: say which job may still run, go on
            self.echo(f"flowc: warning: could not cancel {description}: {exc}; it may still be running")


class LogTail:
    """A job's log lines: echoed with the task's prefix as they arrive, the last ones kept for the failure."""

    def __init__(self, prefix: str, echo: Callable[[str], None], show_output: bool):
        self.prefix, self.echo, self.show_output = prefix, echo, show_output
        self.lines: collections.deque = collections.deque(maxlen=TAIL_LINES)

    def add(self, line: str) -> None:
        line = line.rstrip("\n")
        self.lines.append(line)
        if self.show_output:
            self.echo(self.prefix + line)
