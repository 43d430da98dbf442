"""Row 9: @pypi environments: resolve (lock) and build+publish time with uv, and a cache hit.

Offline, as the tests: tiny wheels made on the fly are uv's only source
(tests/environments_support.py, the same wheels), each sample with a fresh uv
cache and datastore.  Timed in process around flowc's own calls (they run uv
as a subprocess), without the CLI's start-up.
"""

from __future__ import annotations

import os
import sys
import time

from context import REPO, Context
from measure import Row, Stat, skipped

PEER_REASON = (
    "not measured: Metaflow's @pypi path bootstraps micromamba and resolves against PyPI/conda-forge "
    "over the network (with --environment=pypi on every command); this benchmark is offline"
)


def env_rows(ctx: Context) -> list[Row]:
    sys.path.insert(0, str(REPO / "tests"))  # the tests' wheel maker: the same packages they use
    from environments_support import TWO_VERSIONS_FLOW, offline_uv_env, wheel_folder

    from flowc.compiler import load_flow
    from flowc.contract.platforms import current_platform
    from flowc.environments.build import publish_flow
    from flowc.environments.prepare import named_environments

    samples = {"lock": [], "build": [], "hit": []}
    saved = dict(os.environ)
    try:
        for i in range(1 if ctx.smoke else max(ctx.runs, 3)):
            folder = ctx.scratch(f"envs-{i}")
            os.environ.update(offline_uv_env(wheel_folder(folder / "wheels"), folder / "uv-cache"))
            flow_file = folder / "flow.py"
            flow_file.write_text(TWO_VERSIONS_FLOW)
            flow, _ = load_flow(TWO_VERSIONS_FLOW, str(flow_file))
            started = time.perf_counter()
            named = named_environments(flow, str(flow_file))  # uv pip compile, two environments
            samples["lock"].append(time.perf_counter() - started)
            started = time.perf_counter()
            built = publish_flow(named, str(flow_file), str(folder / "ds"), current_platform())
            samples["build"].append(time.perf_counter() - started)
            assert all(p.built for p in built) and len(built) == 2
            started = time.perf_counter()
            again = publish_flow(named, str(flow_file), str(folder / "ds"), current_platform())
            samples["hit"].append((time.perf_counter() - started) * 1000)
            assert not any(p.built for p in again)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    why = "2 environments (tinypkg 1.0; tinypkg 2.0 + uses + helper), pure-Python wheels, fresh uv cache"
    return [
        Row(
            "9",
            "resolve 2 @pypi environments (flowc lock, uv)",
            "s",
            Stat(samples["lock"]),
            skipped(PEER_REASON),
            why=why,
        ),
        Row(
            "9",
            "build + archive + publish 2 environments (uv pip install --target)",
            "s",
            Stat(samples["build"]),
            skipped(PEER_REASON),
            why="local datastore; the archives are deterministic tar.gz named by sha256",
        ),
        Row(
            "9",
            "same environments again (cache hit: nothing built)",
            "ms",
            Stat(samples["hit"]),
            skipped(PEER_REASON),
            why="the datastore's envs/<lock sha>/<platform>.json record is found",
        ),
    ]
