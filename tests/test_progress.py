"""`flowc run`'s progress: a live display under a terminal (read back from tmux's screen), plain lines without one."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, need, run_flowc
from flowc.local.progress import Progress
from flowc.local.runner import TaskResult

FAILING_FLOW = textwrap.dedent('''
    from flowc import FlowSpec, step


    class Breaks(FlowSpec):
        @step
        def start(self):
            self.items = [1, 2]
            self.next(self.work, foreach="items")

        @step
        def work(self):
            if self.input == 2:
                raise ValueError("item two is bad")
            self.next(self.join)

        @step
        def join(self, inputs):
            self.next(self.end)

        @step
        def end(self):
            pass
''')


def run_in_tmux(args: list[str], cwd: Path, timeout: float = 90) -> str:
    """The final screen of `flowc ARGS` run in a 120x40 tmux terminal, then its exit code line."""
    need(shutil.which("tmux") is not None, "tmux is not installed (Debian package tmux)")
    server = f"flowc-test-{uuid.uuid4().hex[:8]}"  # a private tmux server: never touches anyone's sessions
    command = " ".join([sys.executable, "-m", "flowc.cli", *args]) + "; echo EXIT=$?; sleep 60"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        ["tmux", "-L", server, "new-session", "-d", "-x", "120", "-y", "40", "-c", str(cwd), command],
        check=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = subprocess.run(
                ["tmux", "-L", server, "capture-pane", "-p", "-t", "0"], capture_output=True, text=True, check=True
            ).stdout
            if "EXIT=" in screen:
                return screen
            time.sleep(0.3)
        pytest.fail(f"flowc did not finish in {timeout}s; screen:\n{screen}")
    finally:
        subprocess.run(["tmux", "-L", server, "kill-server"], capture_output=True)


def test_terminal_shows_every_step_with_its_counts(tmp_path):
    screen = run_in_tmux(["run", str(EXAMPLES / "foreach.py"), "--datastore", str(tmp_path / "ds")], tmp_path)
    lines = screen.splitlines()
    assert "EXIT=0" in screen
    assert any(
        line.startswith("ok ") and "elapsed" in line and "6 done, 0 running, 0 failed" in line for line in lines
    ), screen
    for step, done in (("start", 1), ("train", 3), ("pick", 1), ("end", 1)):
        assert any(
            line.split()[:3] == [step, str(done), "done,"] and "0 running, 0 failed" in line for line in lines
        ), f"no line for {step} with {done} done:\n{screen}"
    # The display is redrawn in place: one copy of it is left, not one per update.
    assert sum(line.strip().startswith("train ") for line in lines) == 1, screen
    assert "started" not in screen  # the plain "[step/task] started" lines are the display's job here
    assert "run ok: 6 tasks done, 0 failed" in screen


def test_terminal_shows_the_failing_tasks_last_lines(tmp_path):
    (tmp_path / "breaks.py").write_text(FAILING_FLOW)
    screen = run_in_tmux(["run", "breaks.py", "--datastore", str(tmp_path / "ds")], tmp_path)
    lines = [line.strip() for line in screen.splitlines()]
    assert "EXIT=1" in screen
    assert any(line.startswith("failed ") and "elapsed" in line for line in lines), screen
    assert any(line.split()[:1] == ["work"] and "1 failed" in line for line in lines), screen
    assert any(line.split()[:2] == ["join", "waiting"] for line in lines), screen
    assert "work/1 failed (exit 1):" in screen
    assert "item two is bad" in screen


def test_without_a_terminal_the_plain_lines_are_unchanged(tmp_path):
    result = run_flowc("run", str(EXAMPLES / "foreach.py"), "--datastore", str(tmp_path / "ds"))
    assert result.returncode == 0, result.stderr
    assert "[start/0] started" in result.stdout
    assert "[start/0] ok (" in result.stdout
    assert "\x1b[" not in result.stdout + result.stderr  # no escape codes in a CI log
    assert "elapsed" not in result.stdout + result.stderr


def test_plain_lines_of_progress_without_a_terminal():
    printed = []
    progress = Progress(printed.append, ["start", "end"], stream=io.StringIO())
    progress.task_started("start", "0")
    progress.task_done(TaskResult("start", "0", 0, 2, 1.25))
    progress.task_started("end", "0")
    progress.task_done(TaskResult("end", "0", 1, 1, 0.5, "boom"))
    progress.finish("failed", 2.0)
    assert printed == [
        "[start/0] started",
        "[start/0] ok (1.2s, 2 attempts)",
        "[end/0] started",
        "[end/0] FAILED (exit 1)",
        "run failed: 1 tasks done, 1 failed in 2.0s",
    ]
