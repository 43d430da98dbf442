"""Rows 1 and 2: compile latency, compile memory, imports' share, output size and platform limits."""

from __future__ import annotations

import json
import re
from pathlib import Path

import flows
from context import PEER_SFN_CAP, PEER_SFN_MAX_STEPS, REPO, TARGETS, Context
from measure import Row, Stat, alternate, run, skipped

SFN_LIMIT_BYTES = 1024 * 1024  # Step Functions state machine definition
ETCD_LIMIT_BYTES = 1536 * 1024  # etcd's default request size, which bounds an Argo object


def flow_set(ctx: Context) -> list[tuple[str, str, int]]:
    """(label, shape, size) of the compiled flows; shape 'example' = examples/linear.py (3 steps)."""
    if ctx.smoke:
        return [("linear 3", "linear", 3), ("linear 10", "linear", 10), ("foreach 3", "foreach", 3)]
    return [
        ("example linear (3 steps)", "example", 3),
        ("linear 10", "linear", 10),
        ("linear 100", "linear", 100),
        ("linear 1000", "linear", 1000),
        ("foreach 20", "foreach", 20),
    ]


def write_pair(ctx: Context, shape: str, size: int) -> tuple[Path, Path]:
    """The flowc and Metaflow flavours of one flow, same text but the import line."""
    if shape == "example":
        example = REPO / "examples" / "linear.py"
        return (
            flows.copy_example(example, ctx.scratch("flows-flowc"), "flowc"),
            flows.copy_example(example, ctx.scratch("flows-metaflow"), "metaflow"),
        )
    return (
        flows.write(ctx.scratch("flows-flowc"), shape, size, "flowc"),
        flows.write(ctx.scratch("flows-metaflow"), shape, size, "metaflow"),
    )


class Cell:
    """One (flow, target) compile measured for both tools: times, peaks and output bytes."""

    def __init__(self, ctx: Context, label: str, shape: str, size: int, target: str):
        self.ctx, self.label, self.shape, self.size, self.target = ctx, label, shape, size, target
        self.ours_flow, self.their_flow = write_pair(ctx, shape, size)
        self.out_dir = ctx.scratch(f"out-{target}")
        self.ours_out = self.out_dir / f"{self.ours_flow.stem}.flowc"
        self.their_out = self.out_dir / f"{self.their_flow.stem}.metaflow"
        self.ours_peak: list[float] = []
        self.their_peak: list[float] = []

    def ours_skip(self) -> str:
        return self.ctx.target_missing(self.target)

    def their_skip(self) -> str:
        if self.ctx.peer is None:
            return self.ctx.peer_reason
        if self.target == "step-functions" and self.size > PEER_SFN_MAX_STEPS:
            return PEER_SFN_CAP
        return ""

    def ours(self) -> float:
        r = run([self.ctx.flowc, "compile", str(self.ours_flow), "--target", self.target, "-o", str(self.ours_out)])
        self.ours_peak.append(r.peak_mib)
        return r.wall_s

    def theirs(self) -> float:
        peer = self.ctx.peer
        argv, cwd = peer.compile_argv(self.target, self.their_flow, self.their_out)
        try:
            if self.target == "airflow":
                r = run(argv, env=peer.compile_env(), cwd=str(cwd))
            else:
                with open(self.their_out, "wb") as out:
                    r = run(argv, env=peer.compile_env(), cwd=str(cwd), stdout=out)
        finally:
            _rmtree(cwd)
        self.their_peak.append(r.peak_mib)
        return r.wall_s

    def measure(self, warm_up: bool) -> tuple[Stat, Stat]:
        ours_fn = None if self.ours_skip() else self.ours
        their_fn = None if self.their_skip() else self.theirs
        for fn in (ours_fn, their_fn):  # one unmeasured warm-up per target (page cache, .pyc)
            if fn and warm_up and not self.ctx.smoke:
                try:
                    fn()
                except Exception:  # noqa: BLE001 - the measured runs report it
                    pass
        self.ours_peak.clear()
        self.their_peak.clear()
        ours, theirs = alternate(self.ctx.runs, ours_fn, their_fn)
        if ours_fn is None:
            ours.note = self.ours_skip()
        if their_fn is None:
            theirs.note = self.their_skip()
        self.their_stat = theirs
        return ours, theirs

    def size_of(self, which: str, compact: bool = False) -> int | None:
        path = self.ours_out if which == "ours" else self.their_out
        if not path.exists():
            return None
        data = path.read_bytes()
        return len(compact_json(data, self.target)) if compact else len(data)


def compact_json(data: bytes, target: str) -> bytes:
    """The document as the API server stores it (argo: JSON without spaces); other targets unchanged."""
    if target != "argo":
        return data
    import yaml

    try:
        doc = json.loads(data)
    except ValueError:
        doc = yaml.safe_load(data)
    return json.dumps(doc, separators=(",", ":")).encode()


def _rmtree(path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def compile_rows(ctx: Context) -> tuple[list[Row], dict]:
    rows, cells = [], {}
    for i, (label, shape, size) in enumerate(flow_set(ctx)):
        for target in TARGETS:
            ctx.log(f"compile {label} -> {target}")
            cell = Cell(ctx, label, shape, size, target)
            ours, theirs = cell.measure(warm_up=i == 0)
            cells[(shape, size, target)] = cell
            why = "whole process"
            if target == "step-functions" and theirs.ok:
                why += "; Metaflow calls Batch (moto on loopback) for every step"
            if "RecursionError" in theirs.note:
                theirs.note = (
                    f"Metaflow fails on {label}: RecursionError in its graph walk (Python's default recursion limit)"
                )
            rows.append(Row("1", f"compile {label} → {target}", "s", ours, theirs, why=why))
    big = max(size for _, shape, size in flow_set(ctx) if shape == "linear")
    for target in TARGETS:
        cell = cells[("linear", big, target)]
        rows.append(
            Row(
                "1",
                f"compile peak RSS, linear {big} → {target}",
                "MiB",
                Stat(list(cell.ours_peak)),
                Stat(list(cell.their_peak)),
                fmt="{:.0f}",
                why="largest single process (/usr/bin/time %M)",
            )
        )
    rows += many_flows_rows(ctx, cells)
    rows += import_rows(ctx)
    return rows, cells


def many_flows_rows(ctx: Context, cells: dict) -> list[Row]:
    """flowc compiling 50 flows in one process; Metaflow has no such mode (50 × its per-flow median)."""
    count = 3 if ctx.smoke else 50
    folder = ctx.scratch("many")
    paths = [flows.write(folder, "linear", 10, "flowc", stem=f"many{i:02d}") for i in range(count)]
    rows = []
    for target in TARGETS:
        missing = ctx.target_missing(target)
        if missing:
            ours = skipped(missing)
        else:
            out = ctx.scratch(f"many-out-{target}")
            (ours,) = alternate(
                ctx.runs,
                # --no-cache: every sample compiles all of them (row 8 measures the cache)
                lambda: (
                    run(
                        [ctx.flowc, "compile", *map(str, paths), "--target", target, "-o", str(out) + "/", "--no-cache"]
                    ).wall_s
                ),
            )
        their_single = cells[("linear", 10, target)].their_stat
        theirs = (
            Stat([count * v for v in their_single.samples], f"= {count} × one linear-10 compile (no multi-flow mode)")
            if their_single.ok
            else skipped(their_single.note or "no Metaflow sample")
        )
        rows.append(
            Row(
                "1",
                f"compile {count} linear-10 flows, one process → {target}",
                "s",
                ours,
                theirs,
                why=f"flowc: one `flowc compile ... -o DIR --no-cache`; Metaflow: {count} processes, extrapolated",
            )
        )
    return rows


IMPORT_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def import_seconds(stderr: str) -> tuple[float, float, list[tuple[float, str]]]:
    """From -X importtime: (all top-level imports s, flowc's own modules' self time s, top 5 cumulative)."""
    total, own, top = 0.0, 0.0, []
    for line in stderr.splitlines():
        m = IMPORT_LINE.match(line)
        if not m:
            continue
        self_us, cumulative_us, indent, name = int(m[1]), int(m[2]), len(m[3]), m[4]
        if indent == 1:  # top level (importtime indents children by two more spaces)
            total += cumulative_us / 1e6
            top.append((cumulative_us / 1e6, name))
        if name.split(".")[0] == "flowc":
            own += self_us / 1e6
    return total, own, sorted(top, reverse=True)[:5]


def import_rows(ctx: Context) -> list[Row]:
    """How much of a small compile (the example) is imports, per target, both tools (-X importtime)."""
    rows = []
    example_ours, example_theirs = write_pair(ctx, "example", 3)
    findings = ctx.findings
    for target in TARGETS:
        missing = ctx.target_missing(target)
        ours_share, their_share = [], []

        def ours():
            r = run(
                [
                    ctx.python,
                    "-X",
                    "importtime",
                    "-m",
                    "flowc.cli",
                    "compile",
                    str(example_ours),
                    "--target",
                    target,
                    "-o",
                    str(ctx.scratch("imports") / f"x.{target}"),
                ]
            )
            total, own, top = import_seconds(r.stderr)
            ours_share.append((total / r.wall_s, own, top, r.wall_s))
            return total

        def theirs():
            peer = ctx.peer
            argv, cwd = peer.compile_argv(target, example_theirs, ctx.scratch("imports") / f"mf.{target}")
            argv = [argv[0], "-X", "importtime", *argv[1:]]
            try:
                r = run(argv, env=peer.compile_env(), cwd=str(cwd))
            finally:
                _rmtree(cwd)
            total, _, top = import_seconds(r.stderr)
            their_share.append((total / r.wall_s, 0, top, r.wall_s))
            return total

        runs = 1 if ctx.smoke else 3
        o, t = alternate(runs, None if missing else ours, None if ctx.peer is None else theirs)
        if missing:
            o.note = missing
        if ctx.peer is None:
            t.note = ctx.peer_reason
        why = ""
        if ours_share:
            share, own, top, wall = sorted(ours_share)[len(ours_share) // 2]
            why = (
                f"flowc: imports {share:.0%} of the compile (under -X importtime), flowc's own modules "
                f"{own * 1000:.0f} ms; heaviest: " + ", ".join(f"{n} {s * 1000:.0f} ms" for s, n in top[:3])
            )
            findings.append(f"imports, example → {target}: " + why)
        if their_share:
            share, _, top, _ = sorted(their_share)[len(their_share) // 2]
            why += f"; Metaflow: imports {share:.0%} (" + ", ".join(f"{n} {s * 1000:.0f} ms" for s, n in top[:2]) + ")"
        rows.append(Row("1", f"imports inside a small compile (example → {target})", "s", o, t, why=why))
    return rows
