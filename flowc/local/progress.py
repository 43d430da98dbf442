"""What a local run prints as tasks start and finish: a live display on a terminal, plain lines otherwise.

With no terminal on stderr (CI logs, pipes) the lines are the ones tests and
users grep: `[step/task] started`, `[step/task] ok (0.1s)`, `... FAILED (exit 1)`.
On a terminal the same finished-task lines and the tasks' output scroll past
above a display redrawn in place at the bottom: per step, tasks done, running
and failed; the elapsed time; the first failing task's last stderr lines.

Everything `flowc run` prints is written inside `above_display()`, so a line
lands above the display (erase, write, redraw) instead of through it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time

_screen = threading.RLock()  # one writer at a time: task output arrives on the pool's threads
_live: "Progress | None" = None  # the display on the terminal now, if any

TICK_SECONDS = 0.5  # how often the elapsed time is redrawn
ERASE_UP = "\x1b[{}F\x1b[J"  # cursor up N lines to column 0, then clear to the end of the screen


@contextlib.contextmanager
def above_display():
    """Around a write of `flowc run`'s output: the live display, if one is drawn, is erased and redrawn below it."""
    with _screen:
        live = _live
        if live is not None:
            live._erase()
        try:
            yield
        finally:
            if live is not None:
                live._draw()


class StepCounts:
    def __init__(self):
        self.done = self.running = self.failed = self.reused = 0


class Progress:
    """Tasks done / running / failed per step: a live display on a terminal, plain lines otherwise.

    The runner calls task_started, task_done and finish; nothing else.
    """

    def __init__(self, echo, step_names, stream=None):
        self.echo = echo
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.done = self.running = self.failed = self.cloned = 0
        self.steps = {name: StepCounts() for name in step_names}
        self.started = time.monotonic()
        self.failure: list[str] = []  # the first failing task's name and last stderr lines
        self.drawn = 0  # lines of the display on the screen now
        self.status = "running"
        self._stop = threading.Event()
        if self.tty:
            self._go_live()

    # -- what the runner calls -------------------------------------------------------

    def task_started(self, step: str, task_id: str) -> None:
        self.running += 1
        self._counts(step).running += 1
        if not self.tty:
            self.echo(f"[{step}/{task_id}] started")
        self._redraw()

    def task_done(self, result) -> None:
        """`result`: the runner's TaskResult of a finished (or reused) task."""
        counts = self._counts(result.step)
        if result.cloned:
            self.cloned += 1
            counts.reused += 1
            self.echo(f"[{result.step}/{result.task_id}] reused from the origin run")
            return
        self.running -= 1
        counts.running -= 1
        if result.code == 0:
            self.done += 1
            counts.done += 1
            retries = f", {result.attempts} attempts" if result.attempts > 1 else ""
            self.echo(f"[{result.step}/{result.task_id}] ok ({result.seconds:.1f}s{retries})")
        else:
            self.failed += 1
            counts.failed += 1
            if not self.failure:
                tail = (result.stderr_tail or "(no error output)").splitlines()[-5:]
                self.failure = [f"{result.step}/{result.task_id} failed (exit {result.code}):"] + tail
            self.echo(f"[{result.step}/{result.task_id}] FAILED (exit {result.code})")
        self._redraw()

    def finish(self, status: str, seconds: float) -> None:
        if self.tty:
            self._stop.set()
            self.status = status
            with _screen:
                self._redraw()
                self._leave()  # the last display stays on the screen, the summary goes below it
        reused = f", {self.cloned} reused" if self.cloned else ""
        self.echo(f"run {status}: {self.done} tasks done{reused}, {self.failed} failed in {seconds:.1f}s")

    # -- the live display ----------------------------------------------------------------

    def _counts(self, step: str) -> StepCounts:
        return self.steps.setdefault(step, StepCounts())

    def lines(self) -> list[str]:
        """The display's text, one entry a line (no escape codes)."""
        width = max((len(name) for name in self.steps), default=4)
        elapsed = time.monotonic() - self.started
        lines = [
            f"{self.status}  {elapsed:.1f}s elapsed  tasks: {self.done} done, {self.running} running, "
            f"{self.failed} failed" + (f", {self.cloned} reused" if self.cloned else "")
        ]
        for name, c in self.steps.items():
            parts = [f"{c.done} done", f"{c.running} running", f"{c.failed} failed"]
            if c.reused:
                parts.append(f"{c.reused} reused")
            waiting = not (c.done or c.running or c.failed or c.reused)
            lines.append(f"  {name:<{width}}  " + ("waiting" if waiting else ", ".join(parts)))
        lines += [f"  {line}" for line in self.failure]
        return lines

    def _go_live(self) -> None:
        global _live
        with _screen:
            _live = self
            self._draw()
        threading.Thread(target=self._tick, name="flowc-progress", daemon=True).start()

    def _leave(self) -> None:
        global _live
        with _screen:
            if _live is self:
                _live = None
            self.drawn = 0

    def _tick(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            self._redraw()

    def _redraw(self) -> None:
        if not self.tty:
            return
        with _screen:
            if _live is self:
                self._erase()
                self._draw()

    def _erase(self) -> None:
        if self.drawn:
            self.stream.write(ERASE_UP.format(self.drawn))
            self.drawn = 0

    def _draw(self) -> None:
        # Cut to the terminal: a wrapped line would move the cursor further than `drawn` says.
        try:
            columns, rows = os.get_terminal_size(self.stream.fileno())
        except (OSError, ValueError, AttributeError):
            columns, rows = 80, 24
        lines = [line[: max(columns - 1, 10)] for line in self.lines()][: max(rows - 2, 3)]
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()
        self.drawn = len(lines)
