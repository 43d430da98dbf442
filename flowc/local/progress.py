"""What a local run prints as tasks start and finish: a live line on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys


class Progress:
    """Steps done / running / failed: a live line on a terminal, plain lines otherwise."""

    def __init__(self, echo, total_steps: int):
        self.echo = echo
        self.tty = sys.stderr.isatty()
        self.done = self.running = self.failed = self.cloned = 0

    def task_started(self, step: str, task_id: str) -> None:
        self.running += 1
        if not self.tty:
            self.echo(f"[{step}/{task_id}] started")
        self._live()

    def task_done(self, result) -> None:
        """`result`: the runner's TaskResult of a finished (or reused) task."""
        if result.cloned:
            self.cloned += 1
            self.echo(f"[{result.step}/{result.task_id}] reused from the origin run")
            return
        self.running -= 1
        if result.code == 0:
            self.done += 1
            retries = f", {result.attempts} attempts" if result.attempts > 1 else ""
            self.echo(f"[{result.step}/{result.task_id}] ok ({result.seconds:.1f}s{retries})")
        else:
            self.failed += 1
            self.echo(f"[{result.step}/{result.task_id}] FAILED (exit {result.code})")
        self._live()

    def _live(self):
        if self.tty:
            sys.stderr.write(f"\rtasks: {self.done} done, {self.running} running, {self.failed} failed   ")
            sys.stderr.flush()

    def finish(self, status: str, seconds: float) -> None:
        if self.tty:
            sys.stderr.write("\n")
        reused = f", {self.cloned} reused" if self.cloned else ""
        self.echo(f"run {status}: {self.done} tasks done{reused}, {self.failed} failed in {seconds:.1f}s")
