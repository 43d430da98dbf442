"""Bytes of Argo Workflow status per foreach item, and the widest foreach whose run fits MAX_WORKFLOW_SIZE.

    python argo_status.py ARGO_SIM MANIFEST LIMIT_BYTES MODE     (MODE: search | extrapolate)

Uses argo_sim's own size model (the code behind `argo_sim --size-only WIDTH`): the Workflow object
`argo submit --from` creates, holding the stored template spec and one status per node of a run in
which every pod succeeds and every withParam list has WIDTH items, measured as compact JSON with the
node list plain and gzip+base64 compressed (Argo compresses it once the object outgrows the limit).
The functions are called directly so that Metaflow's template, which argo_sim refuses to run (its
onExit hook), is sized by the same model; flowc's answer is also checked with the CLI by the caller.
One correction to the model: it gives every output parameter a WIDTH-long list, which only a parameter
read by a withParam holds; the others (Metaflow's task-id on every foreach pod) get a short value.

search: the widest WIDTH (to ±0.2%) with min(plain, compressed) <= LIMIT.  extrapolate (smoke): widths
1 and 10 only, widest = (LIMIT - size(1)) / compressed bytes per item.  Prints one JSON line.
"""

from __future__ import annotations

import json
import re
import sys
import time


def fan_out_outputs(wft: dict) -> set[str]:
    """Output parameters some withParam reads: the only ones whose value is a WIDTH-long list."""
    found = set()
    for template in wft["spec"]["templates"]:
        for task in (template.get("dag") or {}).get("tasks") or []:
            found.update(re.findall(r"outputs\.parameters\.([\w-]+)", str(task.get("withParam") or "")))
    return found


def shorten(node, fan_out: set[str]) -> None:
    """argo_sim's model gives every output parameter the WIDTH-long list; a task id is a short string."""
    node.outputs = {k: (v if k in fan_out else "t-0123abcd") for k, v in node.outputs.items()}
    for child in node.children:
        shorten(child, fan_out)


def search(size, limit: int, at_1: int, per_item: float) -> tuple[int, int]:
    """(widest width that fits, tolerance): secant steps from the linear estimate, a few sizes only.

    Each size of a ~10,000-item run costs seconds (the node tree, its JSON and gzip), so no plain bisection.
    """
    guess = max(1, int((limit - at_1) // per_item))
    tol = max(1, guess // 500)
    lo, hi, width = 1, None, guess
    for _ in range(16):
        total = min(size(width)[:2])
        fits = total <= limit
        lo, hi = (max(lo, width), hi) if fits else (lo, width if hi is None else min(hi, width))
        if hi is not None and hi - lo <= tol:
            break
        step = round((limit - total) / per_item)
        width = width + max(step, tol) if fits else width + min(step, -tol)
        if hi is not None and not lo < width < hi:
            width = (lo + hi) // 2
    return lo, tol


def main() -> int:
    sim_path, manifest, limit, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    sys.path.insert(0, str(__import__("pathlib").Path(sim_path).parent))
    import argo_sim

    wft, _ = argo_sim.load_documents(manifest)
    declared = (wft["spec"].get("arguments") or {}).get("parameters") or []
    params = {p["name"]: str(p.get("value", "")) for p in declared}
    name = wft["metadata"]["name"] + "-bench1"  # fixed: the same names (and gzip input) on every run

    fan_out = fan_out_outputs(wft)

    def size(width: int) -> tuple[int, int, int]:
        tree = argo_sim.static_nodes(wft, width, name)
        shorten(tree, fan_out)
        nodes = argo_sim.node_statuses(tree, name)
        plain, packed = argo_sim.workflow_size(wft, params, name, nodes)
        return plain, packed, len(nodes)

    started = time.perf_counter()
    p1, c1, n1 = size(1)
    probe = 10 if mode == "extrapolate" else 1000
    pw, cw, nw = size(probe)
    per_plain, per_packed = (pw - p1) / (probe - 1), (cw - c1) / (probe - 1)
    nodes_per_item = (nw - n1) / (probe - 1)
    if mode == "extrapolate":
        widest, tol, how = int((limit - c1) // per_packed) + 1, 0, "extrapolated from widths 1 and 10"
    else:
        widest, tol = search(size, limit, c1, per_packed)
        how = f"searched with the size model (±{tol})"
    fits_at_1 = min(p1, c1) <= limit
    print(
        json.dumps(
            {
                "bytes_at_1": min(p1, c1),
                "per_item_plain": per_plain,
                "per_item_compressed": per_packed,
                "nodes_per_item": nodes_per_item,
                "widest": widest if fits_at_1 else 0,
                "tolerance": tol,
                "how": how,
                "seconds": time.perf_counter() - started,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
