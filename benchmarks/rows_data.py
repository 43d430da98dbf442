"""Rows 5 and 6: a large artifact through each local datastore vs `cp`, and Airflow's DagBag parse time."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import flows
from context import Context
from measure import Row, Stat, alternate, run, skipped

PROBES = Path(__file__).resolve().parent / "probes"


def artifact_rows(ctx: Context) -> list[Row]:
    size = ctx.artifact_bytes
    folder = ctx.scratch("artifacts")
    free = shutil.disk_usage(folder).free
    mib = size / 2**20
    label = f"{mib / 1024:.0f} GiB" if mib >= 1024 else f"{mib:.0f} MiB"
    if free < 6 * size:
        reason = f"not measured: {free / 2**30:.1f} GiB free on {folder}, need {6 * size / 2**30:.1f}"
        return [Row("5", f"store {label} bytearray", "MB/s", skipped(reason), skipped(reason), higher_is_better=True)]
    ctx.log(f"artifacts: writing a {label} source file of random bytes")
    source = folder / "source.bin"
    with open(source, "wb") as f:  # random: neither tool (nor the disk) gets to compress it away
        chunk = 64 * 2**20
        for offset in range(0, size, chunk):
            f.write(os.urandom(min(chunk, size - offset)))
    results = {"ours": [], "theirs": []}

    def probe(which: str, python: str, script: str, env=None):
        def measure() -> float:
            root = folder / f"root-{which}"
            shutil.rmtree(root, ignore_errors=True)
            try:
                r = run(
                    [python, str(PROBES / script), str(root), str(source)],
                    env=env,
                    stdout=open(folder / "probe.json", "wb"),
                )
            finally:
                shutil.rmtree(root, ignore_errors=True)
            data = json.loads((folder / "probe.json").read_text())
            results[which].append((data, r.peak_mib))
            return data["store_s"]

        return measure

    def cp() -> float:
        target = folder / "copy.bin"
        try:
            return run(["cp", str(source), str(target)]).wall_s
        finally:
            target.unlink(missing_ok=True)

    missing_theirs = ctx.peer_missing()
    ours_fn = probe("ours", ctx.python, "flowc_datastore.py")
    their_fn = (
        None
        if missing_theirs
        else probe(
            "theirs",
            str(ctx.peer.python) if ctx.peer else "",
            "metaflow_datastore.py",
            ctx.peer.run_env() if ctx.peer else None,
        )
    )
    ctx.log(f"artifacts: {ctx.runs} rounds of flowc / Metaflow / cp")
    store_o, store_t, cp_s = alternate(ctx.runs, ours_fn, their_fn, cp)
    source.unlink(missing_ok=True)
    mb = size / 1e6

    def rate(seconds: Stat) -> Stat:
        return Stat([mb / s for s in seconds.samples], seconds.note)

    load_o = Stat([d["load_s"] for d, _ in results["ours"]], store_o.note)
    load_t = Stat([d["load_s"] for d, _ in results["theirs"]], store_t.note or missing_theirs)
    store_t.note = store_t.note or missing_theirs
    peak_o = Stat([p for _, p in results["ours"]], store_o.note)
    peak_t = Stat([p for _, p in results["theirs"]], store_t.note)
    cp_rate = rate(cp_s)
    why_cp = "cp of the same file on the same disk (page cache warm for both; no fsync anywhere)"
    rows = [
        Row(
            "5",
            f"store {label} bytearray",
            "MB/s",
            rate(store_o),
            cp_rate,
            True,
            "cp",
            "{:,.0f}",
            why_cp + "; flowc: pickle + sha256 + write (target ≥ 0.5x)",
        ),
        Row(
            "5",
            f"load {label} bytearray",
            "MB/s",
            rate(load_o),
            cp_rate,
            True,
            "cp",
            "{:,.0f}",
            "flowc: read + sha256 check + unpickle (target ≥ 0.5x)",
        ),
        Row(
            "5",
            f"store {label} bytearray",
            "MB/s",
            rate(store_o),
            rate(store_t),
            True,
            fmt="{:,.0f}",
            why="Metaflow: pickle + gzip + sha1 + write (its TaskDataStore.save_artifacts)",
        ),
        Row(
            "5",
            f"load {label} bytearray",
            "MB/s",
            rate(load_o),
            rate(load_t),
            True,
            fmt="{:,.0f}",
            why="Metaflow: read + gunzip + unpickle",
        ),
        Row(
            "5",
            f"store+load {label}: peak RSS",
            "MiB",
            peak_o,
            peak_t,
            fmt="{:,.0f}",
            why=f"the probe process, which holds the {label} value itself",
        ),
    ]
    try:
        import numpy  # noqa: F401
    except ImportError:
        rows.append(
            Row(
                "5",
                f"store {label} numpy array",
                "MB/s",
                skipped("not measured: numpy not installed in flowc's venv"),
                skipped(""),
                True,
            )
        )
    return rows


WARMUP_DAG = '''"""A minimal DAG parsed first, so Airflow's own first-parse costs are not charged to either tool."""
import datetime
try:
    from airflow.sdk import DAG
except ImportError:
    from airflow import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("bench_warmup", start_date=datetime.datetime(2024, 1, 1), schedule=None):
    EmptyOperator(task_id="noop")
'''


def airflow_rows(ctx: Context) -> list[Row]:
    """DagBag parse of the DAG each tool generates for the same flow: cold (first) and warm (copies)."""
    size = 3 if ctx.smoke else 10
    label = f"linear {size}"
    folder = ctx.scratch("airflow")
    home = ctx.scratch("airflow-home")
    (folder / "warmup.py").write_text(WARMUP_DAG)
    ours_flow = flows.write(ctx.scratch("af-flowc"), "linear", size, "flowc")
    their_flow = flows.write(ctx.scratch("af-metaflow"), "linear", size, "metaflow")
    copies = 1 if ctx.smoke else 3
    missing_ours = ctx.target_missing("airflow")
    missing_theirs = ctx.peer_missing()
    files = {"ours": [], "theirs": []}
    if not missing_ours:
        out = folder / "flowc_dag.py"
        run([ctx.flowc, "compile", str(ours_flow), "--target", "airflow", "-o", str(out)])
        files["ours"] = _copies(out, copies)
    if not missing_theirs:
        out = folder / "metaflow_dag.py"
        argv, cwd = ctx.peer.compile_argv("airflow", their_flow, out)
        try:
            run(argv, env=ctx.peer.compile_env(), cwd=str(cwd))
            files["theirs"] = _copies(out, copies)
        except Exception as exc:  # noqa: BLE001
            missing_theirs = f"Metaflow's airflow compile failed: {exc}"
        finally:
            shutil.rmtree(cwd, ignore_errors=True)
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(folder),
        AIRFLOW__LOGGING__LOGGING_LEVEL="ERROR",
    )
    found = {"ours": [], "theirs": []}

    def parse(which):
        def measure() -> float:
            out = folder / f"parse-{which}.json"
            with open(out, "wb") as f:
                run(
                    [ctx.python, str(PROBES / "airflow_parse.py"), str(folder / "warmup.py"), *map(str, files[which])],
                    env=env,
                    stdout=f,
                    timeout_s=300,
                )
            # Airflow's logger writes to the stdout it saw at start-up; the result is the last line
            data = json.loads(out.read_text().strip().splitlines()[-1])
            found[which].append(data)
            return data["first_s"]

        return measure

    ctx.log(f"airflow: {ctx.runs} DagBag processes per tool")
    ran = alternate(ctx.runs, None if missing_ours else parse("ours"), None if missing_theirs else parse("theirs"))
    missing_ours = missing_ours or ran[0].note
    missing_theirs = missing_theirs or ran[1].note

    def stats(which, key, miss) -> Stat:
        values = [key(d) for d in found[which] if key(d) is not None]
        return Stat(values) if values else skipped(miss or "no samples")

    errors = {k: v for d in found["theirs"] for k, v in d.get("errors", {}).items()}
    ours_errors = {k: v for d in found["ours"] for k, v in d.get("errors", {}).items()}
    why = ""
    if errors:
        last = next(iter(errors.values())).strip().splitlines()[-1]
        why = (
            f"Metaflow's DAG does not load under this Airflow ({_airflow_version(ctx)}): `{last[:120]}`; "
            "its number is the time until that error, a lower bound"
        )
    if ours_errors:
        why += f"; flowc's DAG failed to load: {next(iter(ours_errors.values())).strip().splitlines()[-1][:120]}"
    cold = lambda d: d["first_s"]  # noqa: E731
    warm = lambda d: d["rest_s"]  # noqa: E731
    cold_t, warm_t = stats("theirs", cold, missing_theirs), stats("theirs", warm, missing_theirs)
    cold_t.bound = warm_t.bound = bool(errors)
    return [
        Row(
            "6",
            f"DagBag parse, {label} DAG, first in process",
            "s",
            stats("ours", cold, missing_ours),
            cold_t,
            fmt="{:.4f}",
            why=(why or "after a warm-up DAG; pays what the DAG file imports") + " (target ≥ 2x)",
        ),
        Row(
            "6",
            f"DagBag parse, {label} DAG, again (copy)",
            "s",
            stats("ours", warm, missing_ours),
            warm_t,
            fmt="{:.4f}",
            why="median over renamed copies in the same process",
        ),
    ]


def _copies(path: Path, n: int) -> list[Path]:
    out = [path]
    for i in range(n):
        copy = path.with_name(f"{path.stem}_copy{i}.py")
        shutil.copy(path, copy)
        out.append(copy)
    return out


def _airflow_version(ctx: Context) -> str:
    from importlib.metadata import version

    try:
        return "Airflow " + version("apache-airflow")
    except Exception:  # noqa: BLE001
        return "Airflow ?"
