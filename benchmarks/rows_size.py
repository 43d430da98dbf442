"""Row 2: output bytes per step per target, and the largest linear flow under each platform's limit."""

from __future__ import annotations

import json
from pathlib import Path

from context import TARGETS, Context
from measure import Row, RunFailed, Stat, run, skipped
from rows_compile import ETCD_LIMIT_BYTES, SFN_LIMIT_BYTES

PROBES = Path(__file__).resolve().parent / "probes"

LIMITS = {
    "step-functions": (SFN_LIMIT_BYTES, "Step Functions 1 MiB definition", False),
    "argo": (ETCD_LIMIT_BYTES, "etcd 1.5 MiB object (compact JSON, as stored)", True),
}


def size_rows(ctx: Context, cells: dict) -> list[Row]:
    linear_sizes = sorted(size for (shape, size, _t) in cells if shape == "linear")
    small, large = linear_sizes[0], max(n for n in linear_sizes if n <= 100)
    rows = []
    per_step = {}
    for target in TARGETS:
        a, b = cells[("linear", small, target)], cells[("linear", large, target)]
        values = {}
        for which in ("ours", "theirs"):
            s_small, s_large = a.size_of(which), b.size_of(which)
            values[which] = None if s_small is None or s_large is None else (s_large - s_small) / (large - small)
            if which == "theirs" and values[which] is not None:
                c_small, c_large = a.size_of(which, True), b.size_of(which, True)
                per_step[target] = (
                    (c_large - c_small) / (large - small),
                    c_small - small * (c_large - c_small) / (large - small),
                )
        ours = Stat([values["ours"]]) if values["ours"] is not None else skipped(a.ours_skip() or "no output")
        theirs = Stat([values["theirs"]]) if values["theirs"] is not None else skipped(a.their_skip() or "no output")
        rows.append(
            Row(
                "2",
                f"output bytes per step → {target}",
                "B/step",
                ours,
                theirs,
                fmt="{:,.0f}",
                why=f"(bytes(linear {large}) − bytes(linear {small})) / {large - small}, as each tool writes it",
            )
        )
    for target, (limit, label, compact) in LIMITS.items():
        missing = ctx.target_missing(target)
        ours = skipped(missing) if missing else largest_fitting(ctx, target, limit, compact)
        if target in per_step:
            step_bytes, fixed = per_step[target]
            theirs = Stat([float(int((limit - fixed) // step_bytes))], "extrapolated from its bytes per step")
        else:
            theirs = skipped(ctx.peer_reason or "no Metaflow output")
        rows.append(
            Row(
                "2",
                f"largest linear flow under {label}",
                "steps",
                ours,
                theirs,
                higher_is_better=True,
                fmt="{:,.0f}",
                why="flowc: searched by compiling; Metaflow: extrapolated, not compiled",
            )
        )
    return rows


def largest_fitting(ctx: Context, target: str, limit: int, compact: bool) -> Stat:
    """Largest n whose linear-n flow compiles under `limit` bytes (probes/fit_search.py, its own process)."""
    budget = 4 if ctx.smoke else 120
    out = ctx.scratch("fit") / f"{target}.json"
    try:
        with open(out, "wb") as f:
            run(
                [
                    ctx.python,
                    str(PROBES / "fit_search.py"),
                    target,
                    str(limit),
                    "1" if compact else "0",
                    str(ctx.scratch("fit")),
                    str(budget),
                ],
                stdout=f,
                timeout_s=budget + 300,
            )
    except RunFailed as exc:
        return skipped(f"failed: {str(exc).strip().splitlines()[-1][:200]}")
    data = json.loads(out.read_text())
    return Stat([float(data["steps"])], data["note"])
