"""Largest linear-n flow whose compiled output stays under a byte limit (run with flowc's venv python).

    python fit_search.py TARGET LIMIT_BYTES COMPACT(0|1) SCRATCH DEADLINE_S
      -> {"steps": n, "exact": bool, "note": ".."}

Grows n ×2 from 1000, then bisects to within 0.5%, compiling in this one process
(through flowc.compiler.compile_flow, the function `flowc compile` calls).  A flow the
emitter refuses (its own size check) counts as not fitting.
"""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flows  # noqa: E402
from flowc.compiler import CompileError, compile_flow  # noqa: E402


def compact_json(data: bytes, target: str) -> bytes:
    if target != "argo":
        return data
    import yaml

    try:
        doc = json.loads(data)
    except ValueError:
        doc = yaml.safe_load(data)
    return json.dumps(doc, separators=(",", ":")).encode()


target, limit, compact, scratch, budget = (
    sys.argv[1],
    int(sys.argv[2]),
    sys.argv[3] == "1",
    Path(sys.argv[4]),
    float(sys.argv[5]),
)
deadline = time.monotonic() + budget


def size(n: int) -> int:
    path = flows.write(scratch, "linear", n, "flowc")
    try:
        text = compile_flow(path.read_bytes(), str(path), target).text.encode()
    except CompileError:
        return limit + 1
    finally:
        path.unlink()
    return len(compact_json(text, target)) if compact else len(text)


low, high, note = 2, 1000, ""
while size(high) <= limit:
    low, high = high, high * 2
    if high > 200_000 or time.monotonic() > deadline:
        note = f"≥ (search stopped at {low:,})"
        break
if not note:
    while high - low > max(1, low // 200):
        mid = (low + high) // 2
        if size(mid) <= limit:
            low = mid
        else:
            high = mid
        if time.monotonic() > deadline:
            break
    note = "" if high - low <= 1 else f"±{high - low}"
print(json.dumps({"steps": low, "note": note}))
