"""Faults: SIGKILL a task while it writes a large artifact, then resume; nothing corrupt is ever read."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from conftest import ROOT, run_flowc

from flowc.runtime.client import Run

BIG = textwrap.dedent('''
    import hashlib, os
    from flowc import FlowSpec, step

    class FaultFlow(FlowSpec):
        @step
        def start(self):
            self.next(self.big)

        @step
        def big(self):
            self.blob = os.urandom(48 * 1024 * 1024)
            self.digest = hashlib.sha256(self.blob).hexdigest()
            self.next(self.end)

        @step
        def end(self):
            assert hashlib.sha256(self.blob).hexdigest() == self.digest
            self.size = len(self.blob)
''')


def runtime_pid(run_id: str, step: str) -> int | None:
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"flowc.runtime" in argv and step.encode() in argv and run_id.encode() in argv:
            return int(entry)
    return None


def kill_while_writing(flow: Path, store: Path, run_id: str, trial: int) -> tuple[int, bool]:
    """Start a run, SIGKILL the `big` task once its artifact write is under way. (run exit code, killed?)"""
    process = subprocess.Popen(
        [sys.executable, "-m", "flowc.cli", "run", str(flow), "--datastore", str(store), "--run-id", run_id, "--quiet"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    data = store / "FaultFlow" / "data"
    killed = False
    deadline = time.monotonic() + 30
    pid = None
    while process.poll() is None and time.monotonic() < deadline and not killed:
        pid = pid or runtime_pid(run_id, "big")
        if pid is None:
            time.sleep(0.005)
            continue
        temporaries = [p for p in data.glob(".tmp-*")] if data.exists() else []
        written = sum(p.stat().st_size for p in temporaries if p.exists())
        # Trial 0: as soon as the blob file appears; later trials: part way through it.
        if temporaries and written >= trial * 4 * 1024 * 1024:
            try:
                os.kill(pid, signal.SIGKILL)
                killed = True
            except ProcessLookupError:
                break
        else:
            time.sleep(0.0005)
    output, _ = process.communicate(timeout=60)
    return process.returncode, killed


def test_sigkill_during_a_large_write_then_resume(tmp_path):
    flow = tmp_path / "fault.py"
    flow.write_text(BIG)
    store = tmp_path / "ds"
    kills = 0
    for trial in range(3):
        run_id = f"k{trial}"
        code, killed = kill_while_writing(flow, store, run_id, trial)
        kills += killed
        task = store / "FaultFlow/runs" / run_id / "big" / "0"
        if code != 0:
            assert not (task / "DONE").exists() and not (task / "meta.json").exists()
        # Every blob that has a name is whole: its bytes hash to its name.
        for blob in (store / "FaultFlow/data").iterdir():
            if not blob.name.startswith(".tmp-"):
                assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name
    assert kills >= 1, "no trial managed to kill the task mid-write"
    failed = next(f"k{t}" for t in range(3) if Run(f"FaultFlow/k{t}", datastore=str(store)).status == "failed")
    result = run_flowc("resume", f"FaultFlow/{failed}", "--datastore", str(store), "--run-id", "healed", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    run = Run("FaultFlow/healed", datastore=str(store))
    assert run.data.size == 48 * 1024 * 1024
    assert run["start"].task.meta["origin_run_id"] == failed
