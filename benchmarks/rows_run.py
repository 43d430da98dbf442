"""Rows 3 and 4: local runs (wall, per-task cost, memory) and task start-up (process start to user code)."""

from __future__ import annotations

import os
import shutil
import statistics
from pathlib import Path

import flows
from context import Context
from measure import Row, Stat, alternate, run, skipped


def run_set(ctx: Context) -> list[tuple[str, str, int, int]]:
    """(label, shape, size, user tasks)."""
    if ctx.smoke:
        return [("linear 3", "linear", 3, 3), ("foreach 3", "foreach", 3, 6)]
    return [("linear 10", "linear", 10, 10), ("foreach 20", "foreach", 20, 23), ("foreach 200", "foreach", 200, 203)]


class LocalRun:
    """One flow run by `flowc run` and by Metaflow's `python flow.py run`, with probes on."""

    def __init__(self, ctx: Context, shape: str, size: int):
        self.ctx = ctx
        self.ours_flow = flows.write(ctx.scratch("run-flowc"), shape, size, "flowc")
        self.their_flow = flows.write(ctx.scratch("run-metaflow"), shape, size, "metaflow")
        self.samples = {"ours": [], "theirs": []}  # measure.Run per run
        self.marks = {"ours": [], "theirs": []}  # (since process start s, VmHWM KiB) per task
        self.count = 0

    def _marks_dir(self) -> Path:
        self.count += 1
        return self.ctx.scratch(f"marks/{self.count}")

    def _collect(self, which: str, folder: Path) -> None:
        for name in os.listdir(folder):
            if name == "load_seconds":
                continue
            _, since, hwm = open(folder / name).read().split()
            self.marks[which].append((float(since), int(hwm)))
        shutil.rmtree(folder, ignore_errors=True)

    def ours(self) -> float:
        marks = self._marks_dir()
        store = self.ctx.scratch(f"ds-{self.count}")
        env = dict(os.environ, BENCH_MARK_DIR=str(marks))
        r = run([self.ctx.flowc, "run", str(self.ours_flow), "--datastore", str(store)], env=env, sample_tree=True)
        shutil.rmtree(store, ignore_errors=True)
        self._collect("ours", marks)
        self.samples["ours"].append(r)
        return r.wall_s

    def theirs(self) -> float:
        peer = self.ctx.peer
        marks = self._marks_dir()
        argv, cwd = peer.run_argv(self.their_flow)
        env = dict(peer.run_env(), BENCH_MARK_DIR=str(marks))
        try:
            r = run(argv, env=env, cwd=str(cwd), sample_tree=True)
        finally:
            shutil.rmtree(cwd, ignore_errors=True)
        self._collect("theirs", marks)
        self.samples["theirs"].append(r)
        return r.wall_s

    def stat(self, which: str, key) -> Stat:
        return Stat([key(r) for r in self.samples[which]])


def run_rows(ctx: Context, want_run: bool, want_startup: bool) -> list[Row]:
    missing_ours = ctx.run_missing()
    missing_theirs = ctx.peer_missing()
    rows: list[Row] = []
    startup_source = None
    for label, shape, size, tasks in run_set(ctx):
        ctx.log(f"local run {label}")
        lr = LocalRun(ctx, shape, size)
        runs = ctx.runs if size < 200 else max(3, ctx.runs - 2)
        if not ctx.smoke:  # warm-up: .pyc, page cache
            for fn, miss in ((lr.ours, missing_ours), (lr.theirs, missing_theirs)):
                if not miss:
                    try:
                        fn()
                    except Exception:  # noqa: BLE001 - the measured runs report it
                        pass
            lr.samples = {"ours": [], "theirs": []}
            lr.marks = {"ours": [], "theirs": []}
        wall_o, wall_t = alternate(runs, None if missing_ours else lr.ours, None if missing_theirs else lr.theirs)
        wall_o.note = wall_o.note or missing_ours
        wall_t.note = wall_t.note or missing_theirs
        if startup_source is None or shape == "linear":
            startup_source = lr if shape == "linear" else startup_source
        if not want_run:
            continue
        cpus = os.cpu_count()
        rows.append(
            Row(
                "3",
                f"local run {label} ({tasks} tasks): wall",
                "s",
                wall_o,
                wall_t,
                why=f"both with default parallelism on {cpus} CPUs" + (f"; {runs} runs" if runs != ctx.runs else ""),
            )
        )
        per_task_o = _keep_note(lr.stat("ours", lambda r: r.cpu_s / tasks * 1000), wall_o)
        per_task_t = _keep_note(lr.stat("theirs", lambda r: r.cpu_s / tasks * 1000), wall_t)
        rows.append(
            Row(
                "3",
                f"local run {label}: CPU per task",
                "ms",
                per_task_o,
                per_task_t,
                fmt="{:.0f}",
                why="user+sys of the whole process tree ÷ tasks (target < 100 ms)",
            )
        )
        if shape == "foreach" and (size >= 200 or ctx.smoke):
            rows.append(
                Row(
                    "3",
                    f"local run {label}: peak RSS of all processes",
                    "MiB",
                    _keep_note(lr.stat("ours", lambda r: r.tree_peak_mib), wall_o),
                    _keep_note(lr.stat("theirs", lambda r: r.tree_peak_mib), wall_t),
                    fmt="{:.0f}",
                    why="sum of RSS over the process tree, sampled at 20 Hz",
                )
            )
    if want_startup:
        rows += startup_rows(ctx, startup_source, missing_ours, missing_theirs)
    return rows


def _keep_note(stat: Stat, wall: Stat) -> Stat:
    if not stat.ok:
        stat.note = wall.note
    return stat


def startup_rows(ctx: Context, lr: LocalRun | None, missing_ours: str, missing_theirs: str) -> list[Row]:
    rows = []
    if lr is not None:

        def since(which, miss):
            values = [m[0] * 1000 for m in lr.marks[which]]
            return Stat(values) if values else skipped(miss or "no probe marks (step bodies did not run?)")

        def hwm(which, miss):
            values = [m[1] / 1024 for m in lr.marks[which]]
            return Stat(values) if values else skipped(miss or "no probe marks")

        rows.append(
            Row(
                "4",
                "task process start → user step code",
                "ms",
                since("ours", missing_ours),
                since("theirs", missing_theirs),
                fmt="{:.0f}",
                why="every task of the linear runs; /proc start time (10 ms ticks) to the first line of the step",
            )
        )
        rows.append(
            Row(
                "4",
                "task peak RSS at user code",
                "MiB",
                hwm("ours", missing_ours),
                hwm("theirs", missing_theirs),
                fmt="{:.1f}",
                why="VmHWM of the task process, every task",
            )
        )
    imports_o = [ctx.python, "-c", "import flowc.runtime.task, flowc.runtime.execute, flowc.runtime.loader"]

    def ours():
        return run(imports_o).wall_s

    def theirs():
        return run([str(ctx.peer.python), "-c", "import metaflow, metaflow.cli"], env=ctx.peer.run_env()).wall_s

    def bare():
        return run([ctx.python, "-c", "pass"]).wall_s

    o, t, b = alternate(ctx.runs if ctx.smoke else max(ctx.runs, 7), ours, None if missing_theirs else theirs, bare)
    t.note = t.note or missing_theirs
    rows.append(
        Row(
            "4",
            "import the task runtime (whole process)",
            "s",
            o,
            t,
            why=f"flowc.runtime.task+execute+loader vs metaflow+metaflow.cli; bare `python -c pass` "
            f"{statistics.median(b.samples):.3f} s"
            if b.ok
            else "",
        )
    )
    return rows
