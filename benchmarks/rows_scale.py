"""Row 8: where flowc stops scaling (issue 17), each against its target.

- the local runner's scheduling CPU for a very wide foreach of stub tasks (probes/scheduler.py);
- the marginal CPU of one more local task, warm zygote against plain processes (probes/task_start.py);
- Airflow's first DagBag parse of a 1,000- and a 5,000-step DAG (probes/airflow_parse.py);
- peak memory loading one bytes artifact over 2 GiB (probes/large_bytes.py);
- recompiling a folder of 50 flows after one changed (probes/incremental_compile.py).

Each probe runs in its own process.  Metaflow has no counterpart for most of these (no stub
tasks, no zygote, its DAG does not load under Airflow 3, no compile cache): the peer cell says
which; row 3 holds the whole-run comparison with Metaflow.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import flows
from context import Context
from measure import Row, Stat, run, skipped
from rows_data import WARMUP_DAG

PROBES = Path(__file__).resolve().parent / "probes"


def scale_rows(ctx: Context) -> list[Row]:
    return [
        *scheduler_rows(ctx),
        *task_start_rows(ctx),
        *airflow_size_rows(ctx),
        *large_bytes_rows(ctx),
        *incremental_rows(ctx),
    ]


def _probe_lines(ctx: Context, name: str, argv: list[str], env=None, timeout_s: float = 900) -> list[dict]:
    """Run one probe; its JSON lines (Airflow's logger may print other lines to the same stdout)."""
    out = ctx.scratch("scale") / f"{name}.jsonl"
    with open(out, "wb") as f:
        run([ctx.python, str(PROBES / argv[0]), *argv[1:]], env=env, stdout=f, timeout_s=timeout_s)
    return [json.loads(line) for line in out.read_text().splitlines() if line.startswith("{")]


def _no_peer(reason: str) -> Stat:
    return skipped(reason)


def scheduler_rows(ctx: Context) -> list[Row]:
    width = 500 if ctx.smoke else 100_000
    samples = []
    for _ in range(1 if ctx.smoke else ctx.runs):
        (line,) = _probe_lines(ctx, "scheduler", ["scheduler.py", str(width)])
        samples.append(line["runner_cpu_s"])
    return [
        Row(
            "8",
            f"runner CPU scheduling a {width:,}-item foreach (stub tasks)",
            "s",
            Stat(samples),
            _no_peer("no stub-task mode in Metaflow"),
            why="tasks commit DONE to an in-memory datastore without a process; target ≤ 5 s for 100,000",
        )
    ]


def task_start_rows(ctx: Context) -> list[Row]:
    small, big = (3, 13) if ctx.smoke else (20, 200)
    marginal = {"zygote": [], "subprocess": []}
    for _ in range(1 if ctx.smoke else max(1, ctx.runs // 2)):
        for line in _probe_lines(ctx, "task_start", ["task_start.py", "1", str(small), str(big)]):
            if line["flow"] == "marginal":
                marginal[line["mode"]].append(line["per_task_cpu_ms"])
    return [
        Row(
            "8",
            "CPU of one more local task: warm zygote",
            "ms",
            Stat(marginal["zygote"]),
            Stat(marginal["subprocess"]),
            peer_label="plain processes (FLOWC_NO_ZYGOTE=1)",
            fmt="{:.1f}",
            why=f"(cpu(foreach-{big}) − cpu(foreach-{small})) / {big - small}, runner + zygote + tasks; target ≤ 25 ms; "
            "Metaflow's per-task CPU is in row 3",
        )
    ]


def airflow_size_rows(ctx: Context) -> list[Row]:
    missing = ctx.target_missing("airflow")
    sizes = [20, 50] if ctx.smoke else [1000, 5000]
    folder = ctx.scratch("airflow-scale")
    (folder / "warmup.py").write_text(WARMUP_DAG)
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(ctx.scratch("airflow-scale-home")),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(folder),
        AIRFLOW__LOGGING__LOGGING_LEVEL="ERROR",
    )
    rows = []
    for size, target in zip(sizes, ("1", "5")):
        samples, note = [], missing
        if not missing:
            flow = flows.write(ctx.scratch("airflow-scale-flows"), "linear", size, "flowc")
            dag = folder / f"linear{size}_dag.py"
            run([ctx.flowc, "compile", str(flow), "--target", "airflow", "-o", str(dag)], timeout_s=300)
            for _ in range(1 if ctx.smoke else ctx.runs):
                (line,) = _probe_lines(
                    ctx, f"airflow{size}", ["airflow_parse.py", str(folder / "warmup.py"), str(dag)], env=env
                )
                if line.get("errors") or not line.get("dags"):
                    note = f"failed: the DAG did not load: {str(line.get('errors'))[-200:]}"
                    samples = []
                    break
                samples.append(line["first_s"])
        rows.append(
            Row(
                "8",
                f"DagBag first parse, linear {size:,} DAG",
                "s",
                Stat(samples, "" if samples else note),
                _no_peer("Metaflow's DAG does not load under Airflow 3 (row 6)"),
                why=f"fresh process, Airflow imported first; target ≤ {target} s; Airflow's dagbag_import_timeout is 30 s",
            )
        )
    return rows


def large_bytes_rows(ctx: Context) -> list[Row]:
    size_mib = 16 if ctx.smoke else 2600
    folder = ctx.scratch("large-bytes")
    free = shutil.disk_usage(folder).free
    label = f"{size_mib:,} MiB"
    if free < 2 * size_mib * 2**20:
        reason = f"not measured: {free / 2**30:.1f} GiB free on {folder}, need {2 * size_mib / 1024:.1f}"
        return [Row("8", f"load a {label} bytes artifact: peak RSS ÷ value", "x", skipped(reason), skipped(""))]
    ratios, seconds = [], []
    for _ in range(1 if ctx.smoke else max(1, ctx.runs // 2)):
        (line,) = _probe_lines(ctx, "large_bytes", ["large_bytes.py", str(size_mib), str(folder)])
        ratios.append(line["ratio"])
        seconds.append(line["load_s"])
    return [
        Row(
            "8",
            f"load a {label} bytes artifact: peak RSS ÷ value",
            "x",
            Stat(ratios),
            _no_peer("not measured for Metaflow (row 5 has its 1 GiB store+load peak)"),
            fmt="{:.3f}",
            why=f"local datastore, fresh process; load {Stat(seconds).cell('{:.1f}')} s; target ≤ 1.1x "
            "(a fixed ~20 MiB interpreter is in the numerator)",
        )
    ]


def incremental_rows(ctx: Context) -> list[Row]:
    count = 5 if ctx.smoke else 50
    targets = ["argo"] if ctx.smoke else ["argo", "step-functions", "airflow"]
    lines = _probe_lines(ctx, "incremental", ["incremental_compile.py", str(count), *targets], timeout_s=1200)
    rows = []
    for line in lines:
        rows.append(
            Row(
                "8",
                f"recompile {count} flows, one changed → {line['target']}",
                "s",
                Stat([line["one_changed_s"]]),
                Stat([line["cold_s"]]),
                peer_label="compiling all of them",
                why=f"whole `flowc compile` process; nothing changed: {line['unchanged_s']:.3f} s; target ≤ 1 s; "
                "Metaflow has no compile cache (one process per flow, row 1)",
            )
        )
    return rows
