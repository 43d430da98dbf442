"""Timing primitives: whole-process runs, samples, and the table's rows.

A run is an argv list (no shell) started with Popen and reaped with wait4, so
wall time and user+sys CPU of the whole tree come from the kernel.  The peak RSS
of the largest single process comes from /usr/bin/time (%M), started in front of
the command: Linux carries a process's high-water RSS across exec, so ru_maxrss
of a child forked straight from this (large) harness would report at least the
harness's own size.  When
`sample_tree` is set, the summed RSS of the whole process tree is also sampled
(psutil, 20 Hz), for runs that fork many tasks at once.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field


GNU_TIME = "/usr/bin/time"


@dataclass
class Run:
    wall_s: float
    cpu_s: float
    peak_mib: float  # largest single process
    rc: int
    tree_peak_mib: float = 0.0  # sum over the process tree, sampled
    stderr: str = ""


class RunFailed(Exception):
    pass


def run(
    argv: list[str],
    env: dict | None = None,
    cwd: str | None = None,
    stdout=subprocess.DEVNULL,
    sample_tree: bool = False,
    timeout_s: float = 600.0,
    check: bool = True,
) -> Run:
    """Run argv to completion; RunFailed (with stderr's tail) on a non-zero exit when check."""
    env = clean_env(env)
    peak_file = None
    if os.path.exists(GNU_TIME):
        fd, peak_file = tempfile.mkstemp(prefix="bench-peak-")
        os.close(fd)
        argv = [GNU_TIME, "-f", "%M", "-o", peak_file, *argv]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=stdout, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    tree_peak = [0]
    stop = threading.Event()
    sampler = None
    if sample_tree:
        sampler = threading.Thread(target=_sample_tree, args=(proc.pid, stop, tree_peak), daemon=True)
        sampler.start()
    stderr_chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: stderr_chunks.append(proc.stderr.read()), daemon=True)
    reader.start()
    timer = threading.Timer(timeout_s, proc.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    stop.set()
    reader.join()
    if sampler:
        sampler.join()
    err = b"".join(stderr_chunks).decode("utf-8", "replace")
    peak_kib = usage.ru_maxrss
    if peak_file:
        try:
            with open(peak_file) as f:
                peak_kib = int(f.read().split()[-1])
        except (OSError, ValueError, IndexError):
            pass  # killed before time wrote it
        os.unlink(peak_file)
    result = Run(wall, usage.ru_utime + usage.ru_stime, peak_kib / 1024, proc.returncode, tree_peak[0] / 2**20, err)
    if check and proc.returncode != 0:
        tail = "\n".join(err.strip().splitlines()[-6:])
        raise RunFailed(f"exit {proc.returncode}: {' '.join(argv[:6])}...\n{tail}")
    return result


def clean_env(env: dict | None) -> dict:
    """The environment for a measured process: bytecode caching on, as for any installed package.

    With PYTHONDONTWRITEBYTECODE set (as in some shells here), flowc's editable checkout would
    be compiled from source in every process, while Metaflow's venv has pip's .pyc files.
    """
    env = dict(os.environ if env is None else env)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _sample_tree(pid: int, stop: threading.Event, peak: list[int]) -> None:
    import psutil

    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    while not stop.is_set():
        total = 0
        try:
            for p in [root] + root.children(recursive=True):
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            break
        peak[0] = max(peak[0], total)
        stop.wait(0.05)


@dataclass
class Stat:
    """Samples of one measurement (seconds, bytes, MiB, MB/s: see the row's unit)."""

    samples: list[float] = field(default_factory=list)
    note: str = ""  # why there are no samples, or a remark ("extrapolated")
    bound: bool = False  # the samples are only a lower bound (the tool failed part-way): no ratio

    @property
    def ok(self) -> bool:
        return bool(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def cell(self, fmt: str) -> str:
        if not self.samples:
            return "—"
        med = ("≥ " if self.bound else "") + fmt.format(self.median)
        if len(self.samples) == 1 or min(self.samples) == max(self.samples):
            return med + (f" ({self.note})" if self.note else "")
        return f"{med} ({fmt.format(min(self.samples))}–{fmt.format(max(self.samples))})" + (
            f" {self.note}" if self.note else ""
        )


def skipped(reason: str) -> Stat:
    return Stat([], reason)


@dataclass
class Row:
    section: str
    name: str
    unit: str  # "s", "ms", "B", "B/step", "MiB", "MB/s", "steps"
    ours: Stat
    theirs: Stat
    higher_is_better: bool = False
    peer_label: str = "Metaflow"  # or "cp"
    fmt: str = "{:.3f}"
    why: str = ""  # what limits it / why not measured

    def ratio(self) -> str:
        """How many times better flowc is than the peer (>1: flowc wins)."""
        if not (self.ours.ok and self.theirs.ok) or self.ours.median == 0 or self.theirs.median == 0:
            return "—"
        if self.ours.bound or self.theirs.bound:
            return "n/a (bound)"
        r = self.ours.median / self.theirs.median if self.higher_is_better else self.theirs.median / self.ours.median
        return f"{r:.2f}x" if r < 10 else f"{r:.0f}x"

    def markdown(self) -> str:
        notes = "; ".join(
            n
            for n in (
                self.why,
                self.ours.note if not self.ours.ok else "",
                self.theirs.note if not self.theirs.ok else "",
            )
            if n
        )
        theirs = self.theirs.cell(self.fmt) if self.theirs.ok else "—"
        label = f"{self.name}" + (f" (vs {self.peer_label})" if self.peer_label != "Metaflow" else "")
        return f"| {self.section} | {label} | {self.unit} | {self.ours.cell(self.fmt)} | {theirs} | {self.ratio()} | {notes} |"


HEADER = (
    "| # | measurement | unit | flowc median (min–max) | Metaflow median (min–max) | flowc advantage | notes |\n"
    "|---|---|---|---|---|---|---|"
)


def alternate(n: int, *fns) -> list[Stat]:
    """n samples of each callable (returning a float), the order rotating every round.

    A callable that is None, or that raised once, is skipped from then on; its Stat's
    note says why.
    """
    stats = [Stat() for _ in fns]
    for i in range(n):
        k = i % len(fns)
        for fn, stat in list(zip(fns, stats))[k:] + list(zip(fns, stats))[:k]:
            if fn is None or stat.note:
                continue
            try:
                value = fn()
            except Exception as exc:  # noqa: BLE001 - a failing cell is reported, the table goes on
                text = str(exc).strip()
                stat.note = "failed: " + (text.splitlines()[-1][:200] if text else type(exc).__name__)
                stat.samples.clear()
                continue
            stat.samples.append(value)
    return stats
