"""Peak memory of loading one large bytes artifact from a local datastore (issue 17: <= 1.1x the value).

    python benchmarks/probes/large_bytes.py SIZE_MIB [FOLDER]   -> {"size_mib", "peak_rss_mib", "ratio", "load_s"}

The blob is written by a first process; a second, fresh one loads it and reports its own peak
RSS (ru_maxrss) against the value's size, so the writer's memory does not count.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time


def write(folder: str, size: int) -> str:
    from flowc.runtime.artifacts import dump
    from flowc.runtime.datastore import LocalDatastore

    value = os.urandom(1 << 20) * (size >> 20)  # bytes, not random all through: writing stays fast
    return LocalDatastore(folder).put_blob("F", dump("x", "start", value))


def load(folder: str, sha: str) -> dict:
    from flowc.runtime.artifacts import ArtifactSource
    from flowc.runtime.datastore import LocalDatastore

    started = time.perf_counter()
    value = ArtifactSource(LocalDatastore(folder), "F", {"x": sha}).load("x")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "size_mib": len(value) >> 20,
        "type": type(value).__name__,
        "peak_rss_mib": round(peak),
        "ratio": round(peak / (len(value) / (1 << 20)), 3),
        "load_s": round(seconds, 2),
    }


if __name__ == "__main__":
    if sys.argv[1] == "--load":
        print(json.dumps(load(sys.argv[2], sys.argv[3])))
        sys.exit(0)
    size = int(sys.argv[1]) << 20
    with tempfile.TemporaryDirectory(dir=sys.argv[2] if len(sys.argv) > 2 else None) as folder:
        sha = write(folder, size)
        print(
            subprocess.run(
                [sys.executable, __file__, "--load", folder, sha], capture_output=True, text=True, check=True
            ).stdout.strip()
        )
