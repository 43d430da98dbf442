"""Faults with nothing lost: SIGKILL a task at a random point, check the datastore, resume, compare.

    python benchmarks/faults.py                 # 100 trials (make faults)
    python benchmarks/faults.py --trials 5 --seed 3 --keep /tmp/faults

Each trial runs a flow that writes several artifacts, one of them 32 MiB,
through a foreach and a join (`flowc run`, 4 workers).  A watcher finds the
process of a randomly chosen step and SIGKILLs it after a random delay within
that step's lifetime (measured by a clean calibration run), so kills land
during start-up, inside the step, while blobs, meta.json, DONE or the logs
are being written.  After every trial:

- every blob in ROOT/<Flow>/data has bytes hashing to its name (nothing half
  written is ever visible under a blob's name);
- every task with DONE has a meta.json whose artifacts are all present;
- `flowc resume` completes the run, and every task of the resumed run has the
  same artifacts (sha256 for sha256) as the clean run.

Prints a table; exit code 1 when any check failed.  Linux only (/proc).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOW_NAME = "FaultsFlow"
STEPS = ("start", "big", "fan", "join", "end")

FLOW = '''
import hashlib, random
from flowc import FlowSpec, step


class FaultsFlow(FlowSpec):
    @step
    def start(self):
        self.seed = 7
        self.items = [0, 1, 2]
        self.next(self.big)

    @step
    def big(self):
        self.large = random.Random(self.seed).randbytes(32 * 1024 * 1024)
        self.digest = hashlib.sha256(self.large).hexdigest()
        self.small = {"a": 1, "b": [1, 2, 3]}
        self.text = "flowc " * 20000
        self.next(self.fan, foreach="items")

    @step
    def fan(self):
        self.part = random.Random(self.input).randbytes(2 * 1024 * 1024)
        self.square = self.input ** 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.squares = [task.square for task in inputs]
        self.parts = hashlib.sha256(b"".join(task.part for task in inputs)).hexdigest()
        self.merge_artifacts(inputs, exclude=["part", "square"])
        self.next(self.end)

    @step
    def end(self):
        assert hashlib.sha256(self.large).hexdigest() == self.digest
        self.size = len(self.large)
'''


@dataclass
class Report:
    trials: int = 0
    kills: int = 0  # SIGKILL delivered to a live task
    missed: int = 0  # the chosen task had already exited
    kills_by_step: dict = field(default_factory=lambda: {s: 0 for s in STEPS})
    runs_failed: int = 0
    resumed: int = 0
    leftover_temporaries: int = 0
    blobs_checked: int = 0
    done_tasks_checked: int = 0
    failures: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures


class Watcher(threading.Thread):
    """Polls /proc for the runtime processes of one run: {pid: step}, first and last time seen."""

    def __init__(self, run_id: str):
        super().__init__(daemon=True)
        self.run_id = run_id.encode()
        self.seen: dict[int, dict] = {}
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def scan(self) -> None:
        now = time.monotonic()
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            with self.lock:
                if pid in self.seen:
                    self.seen[pid]["last"] = now
                    continue
            try:
                argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"flowc.runtime" not in argv or b"step" not in argv or self.run_id not in argv:
                continue
            step = argv[argv.index(b"step") + 2].decode()
            with self.lock:
                self.seen[pid] = {"step": step, "first": now, "last": now}

    def run(self) -> None:
        while not self.stop.is_set():
            self.scan()
            time.sleep(0.001)

    def first_of(self, step: str):
        with self.lock:
            found = [(info["first"], pid) for pid, info in self.seen.items() if info["step"] == step]
        return min(found)[1] if found else None


def flowc(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flowc.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def run_flow(flow: Path, store: Path, run_id: str, target: str | None = None, delay: float = 0.0):
    """Run the flow; kill the first task of `target` `delay` seconds after it appears. (code, killed, lifetimes)"""
    watcher = Watcher(run_id)
    watcher.start()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flowc.cli",
            "run",
            str(flow),
            "--datastore",
            str(store),
            "--run-id",
            run_id,
            "--quiet",
            "--max-workers",
            "4",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    killed = None
    if target is not None:
        deadline = time.monotonic() + 120
        pid = None
        while pid is None and process.poll() is None and time.monotonic() < deadline:
            pid = watcher.first_of(target)
            time.sleep(0.0005)
        if pid is not None:
            time.sleep(delay)
            try:
                os.kill(pid, signal.SIGKILL)
                killed = True
            except ProcessLookupError:
                killed = False
    output, _ = process.communicate(timeout=300)
    watcher.stop.set()
    watcher.join()
    lifetimes: dict[str, float] = {}
    for info in watcher.seen.values():
        lifetimes[info["step"]] = max(lifetimes.get(info["step"], 0.0), info["last"] - info["first"])
    return process.returncode, killed, lifetimes, output


def task_metas(store: Path, run_id: str) -> dict[tuple[str, str], dict]:
    found = {}
    base = store / FLOW_NAME / "runs" / run_id
    for done in base.glob("*/*/DONE"):
        meta = json.loads((done.parent / "meta.json").read_text())
        found[(done.parent.parent.name, done.parent.name)] = meta
    return found


def check_datastore(store: Path, report: Report) -> list[str]:
    """The invariants that hold whenever a writer may have been killed."""
    problems = []
    data = store / FLOW_NAME / "data"
    names = set()
    temporaries = 0
    for blob in data.iterdir() if data.exists() else []:
        if blob.name.startswith(".tmp-"):
            temporaries += 1
            continue
        names.add(blob.name)
        report.blobs_checked += 1
        digest = hashlib.sha256()
        with blob.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != blob.name:
            problems.append(f"blob {blob.name} does not hash to its name")
    report.leftover_temporaries = temporaries
    for done in (store / FLOW_NAME / "runs").glob("*/*/*/DONE"):
        report.done_tasks_checked += 1
        task = done.parent
        meta_path = task / "meta.json"
        if not meta_path.exists():
            problems.append(f"{task} has DONE but no meta.json")
            continue
        meta = json.loads(meta_path.read_text())
        missing = [n for n, sha in meta["artifacts"].items() if sha not in names]
        if missing:
            problems.append(f"{task} has DONE but its artifacts {missing} are missing")
        if meta.get("foreach") and not (task / "foreach.json").exists():
            problems.append(f"{task} has DONE but no foreach.json")
    return problems


def run_trials(trials: int = 100, seed: int = 1, workdir: str | None = None, echo=print) -> Report:
    report = Report()
    rng = random.Random(seed)
    folder = Path(workdir or tempfile.mkdtemp(prefix="flowc-faults-"))
    folder.mkdir(parents=True, exist_ok=True)
    flow = folder / "faults_flow.py"
    flow.write_text(FLOW)
    store = folder / "ds"
    started = time.monotonic()
    code, _, lifetimes, output = run_flow(flow, store, "clean")
    if code != 0:
        raise RuntimeError(f"the clean run failed:\n{output}")
    clean = {key: meta["artifacts"] for key, meta in task_metas(store, "clean").items()}
    for trial in range(trials):
        report.trials += 1
        step = rng.choice(STEPS)
        delay = rng.uniform(0, max(0.05, lifetimes.get(step, 0.3)))
        run_id = f"t{trial}"
        code, killed, _, output = run_flow(flow, store, run_id, step, delay)
        if killed:
            report.kills += 1
            report.kills_by_step[step] += 1
        else:
            report.missed += 1
        problems = check_datastore(store, report)
        if code != 0:
            report.runs_failed += 1
            if not killed:
                problems.append(f"run failed without a kill:\n{output}")
            resumed = flowc(
                "resume", f"{FLOW_NAME}/{run_id}", "--datastore", str(store), "--run-id", f"{run_id}-resumed", "--quiet"
            )
            if resumed.returncode != 0:
                problems.append(f"resume failed (exit {resumed.returncode}):\n{resumed.stdout}{resumed.stderr}")
            else:
                report.resumed += 1
                run_id = f"{run_id}-resumed"
            problems += check_datastore(store, report)
        final = {key: meta["artifacts"] for key, meta in task_metas(store, run_id).items()}
        if not problems and final != clean:
            differing = sorted(k for k in set(final) | set(clean) if final.get(k) != clean.get(k))
            problems.append(f"artifacts differ from the clean run in tasks {differing}")
        for problem in problems:
            report.failures.append(f"trial {trial} (kill {step} after {delay:.3f}s): {problem}")
        echo(
            f"trial {trial:3d}: kill {step:5s} at +{delay:.3f}s -> "
            f"{'killed' if killed else 'missed'}, run exit {code}, {'FAIL' if problems else 'ok'}"
        )
    report.seconds = time.monotonic() - started
    if workdir is None and report.ok:
        shutil.rmtree(folder, ignore_errors=True)
    return report


def table(report: Report) -> str:
    rows = [
        ("trials", report.trials),
        ("SIGKILLs delivered", report.kills),
        ("  by step", ", ".join(f"{s} {n}" for s, n in report.kills_by_step.items())),
        ("task already gone (missed)", report.missed),
        ("runs failed by a kill", report.runs_failed),
        ("resumes completed", report.resumed),
        ("blobs hash-checked", report.blobs_checked),
        ("DONE tasks checked", report.done_tasks_checked),
        ("leftover .tmp- files (ignored by readers)", report.leftover_temporaries),
        ("check failures", len(report.failures)),
        ("seconds", f"{report.seconds:.1f}"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", metavar="DIR", default=None, help="work in DIR and keep it")
    args = parser.parse_args(argv)
    report = run_trials(args.trials, args.seed, args.keep)
    print()
    print(table(report))
    for failure in report.failures:
        print("FAIL", failure)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
