"""flowc vs Metaflow 2.19.39, side by side in one run: one markdown table of medians, spreads and ratios.

    .venv/bin/python benchmarks/bench.py                 # everything (~15 min; installs Metaflow once)
    .venv/bin/python benchmarks/bench.py --smoke         # every row once, tiny sizes, no Metaflow (< 60 s)
    .venv/bin/python benchmarks/bench.py --rows compile,size --runs 5 --results benchmarks/RESULTS.md

Metaflow lives in its own venv (benchmarks/.peer-venv, created on first use) and compiles
against a moto server on 127.0.0.1 (peer.py).  A row whose part of flowc is not built yet,
or whose Metaflow cell is capped, prints the reason instead of a number.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from context import REPO, Context  # noqa: E402
from measure import HEADER, clean_env  # noqa: E402

ROWS = ["compile", "size", "run", "startup", "artifacts", "airflow", "cost", "scale", "envs"]
PEER_VENV = Path(__file__).resolve().parent / ".peer-venv"


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="every row once, tiny sizes, no Metaflow")
    ap.add_argument("--runs", type=int, default=None, help="samples per cell (default 5; smoke 1)")
    ap.add_argument("--rows", default=",".join(ROWS), help=f"comma list of {','.join(ROWS)}")
    ap.add_argument("--no-peer", action="store_true", help="skip Metaflow (flowc cells only)")
    ap.add_argument("--with-peer", action="store_true", help="with --smoke: tiny sizes, but Metaflow too")
    ap.add_argument("--peer-venv", type=Path, default=PEER_VENV)
    ap.add_argument("--artifact-mib", type=int, default=None, help="artifact size (default 1024; smoke 8)")
    ap.add_argument("--results", type=Path, help="also write the dated run to this markdown file")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = ap.parse_args(argv)
    args.rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = set(args.rows) - set(ROWS)
    if unknown:
        ap.error(f"unknown rows: {', '.join(sorted(unknown))}")
    args.runs = args.runs or (1 if args.smoke else 5)
    args.artifact_mib = args.artifact_mib or (8 if args.smoke else 1024)
    return args


def machine() -> dict:
    def out(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, cwd=REPO).stdout.strip()
        except OSError:
            return "?"

    mem_kib = next((int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal:")), 0)
    dirty = " (+ uncommitted changes)" if out(["git", "status", "--porcelain", "--", "flowc"]) else ""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "memory": f"{mem_kib / 2**20:.1f} GiB",
        "python": platform.python_version(),
        "flowc": out(["git", "rev-parse", "--short", "HEAD"]) + dirty,
        "peer": "Metaflow 2.19.39",
        "platform": platform.platform(),
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    # SIGTERM unwinds like Ctrl-C, so the moto server and the scratch directory go too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # byte-compile flowc's checkout once: an installed package has its .pyc files, as Metaflow's venv does
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "flowc")], env=clean_env(None), stdout=subprocess.DEVNULL
    )
    tmp = Path(tempfile.mkdtemp(prefix="flowc-bench-"))
    rows = []
    with ExitStack() as stack:
        peer_obj, reason = None, ""
        if (args.smoke and not args.with_peer) or args.no_peer:
            reason = "not measured: Metaflow skipped (--smoke)" if args.smoke else "not measured: --no-peer"
        else:
            peer_obj, reason = start_peer(args, tmp, stack)
        ctx = Context(tmp=tmp, runs=args.runs, smoke=args.smoke, peer=peer_obj, peer_reason=reason)
        ctx.artifact_bytes = args.artifact_mib * 2**20
        cells = {}
        for name, part in row_groups(args.rows):
            try:
                produced = part(ctx, cells)
            except Exception as exc:  # noqa: BLE001 - one broken group must not lose the others' numbers
                import traceback

                traceback.print_exc()
                produced = [failed_row(name, exc)]
            rows += produced
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    info = machine()
    elapsed = time.monotonic() - started
    table = "\n".join([HEADER] + [r.markdown() for r in rows])
    head = (
        f"{info['date']} · {info['cpus']} CPUs · {info['memory']} · Python {info['python']} · "
        f"flowc {info['flowc']} · {info['peer']} · {args.runs} runs per cell · took {elapsed:.0f} s"
    )
    print(
        f"\n{head}\n\nflowc advantage = Metaflow ÷ flowc for times, sizes and memory; flowc ÷ peer for "
        "throughput and step counts (> 1: flowc better).\n"
    )
    print(table)
    findings = ctx.findings
    if findings:
        print("\nNotes:\n" + "\n".join(f"- {f}" for f in findings))
    if args.results:
        write_results(args.results, head, info, table, findings)
    return 0


def row_groups(wanted: list[str]):
    """(name, callable(ctx, cells) -> rows) in table order; compile fills `cells` for size."""

    def compile_part(ctx, cells):
        from rows_compile import compile_rows

        rows, found = compile_rows(ctx)
        cells.update(found)
        return rows if "compile" in wanted else []

    def size_part(ctx, cells):
        from rows_size import size_rows

        return size_rows(ctx, cells)

    def run_part(ctx, cells):
        from rows_run import run_rows

        return run_rows(ctx, "run" in wanted, "startup" in wanted)

    def artifacts_part(ctx, cells):
        from rows_data import artifact_rows

        return artifact_rows(ctx)

    def airflow_part(ctx, cells):
        from rows_data import airflow_rows

        return airflow_rows(ctx)

    def cost_part(ctx, cells):
        from rows_cost import cost_rows

        return cost_rows(ctx)

    def scale_part(ctx, cells):
        from rows_scale import scale_rows

        return scale_rows(ctx)

    def envs_part(ctx, cells):
        from rows_envs import env_rows

        return env_rows(ctx)

    if "compile" in wanted or "size" in wanted:
        yield "compile", compile_part
    if "size" in wanted:
        yield "size", size_part
    if "run" in wanted or "startup" in wanted:
        yield "run", run_part
    if "artifacts" in wanted:
        yield "artifacts", artifacts_part
    if "airflow" in wanted:
        yield "airflow", airflow_part
    if "cost" in wanted:
        yield "cost", cost_part
    if "scale" in wanted:
        yield "scale", scale_part
    if "envs" in wanted:
        yield "envs", envs_part


def failed_row(name: str, exc: Exception):
    from measure import Row, skipped

    reason = f"failed: {type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else ''}"
    return Row("-", f"{name} rows", "", skipped(reason), skipped(""))


def start_peer(args, tmp: Path, stack: ExitStack):
    """(peer.Peer, '') with moto running, or (None, reason)."""
    import peer

    try:
        python = peer.ensure_venv(args.peer_venv, log=lambda m: print(f"  .. {m}", file=sys.stderr))
    except (OSError, subprocess.CalledProcessError) as exc:
        return None, f"not measured: Metaflow venv could not be created ({exc})"
    state = tmp / "peer"
    needs_moto = any(r in args.rows for r in ("compile", "size", "airflow", "cost"))
    moto = None
    if needs_moto:
        try:
            moto = stack.enter_context(peer.Moto(state))
        except Exception as exc:  # noqa: BLE001 - no moto: compile cells say why
            return None, f"not measured: moto server did not start ({exc})"
    return peer.Peer(python, state, moto), ""


def write_results(path: Path, head: str, info: dict, table: str, findings: list) -> None:
    """Prepend this run to the results file (newest first), keeping older runs below."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    marker = "<!-- runs below -->"
    intro, _, older = old.partition(marker) if marker in old else ("", "", old)
    intro = intro or "# Benchmark results\n\nEach run: `make bench` (benchmarks/bench.py). Newest first.\n\n"
    block = [f"## Run {info['date']}\n", f"{head}\n", f"Machine: {info['platform']}\n", table, ""]
    if findings:
        block += ["Notes:\n"] + [f"- {f}" for f in findings] + [""]
    path.write_text(
        intro.rstrip() + "\n\n" + marker + "\n\n" + "\n".join(block) + "\n" + older.lstrip(), encoding="utf-8"
    )


if __name__ == "__main__":
    sys.exit(main())
