"""`flowc run --skypilot`: the local runner launches @skypilot steps through SkyPilot.

Every other step stays a local process (flowc/local/runner.py).  A @skypilot step's
task runs the launcher the orchestrators run (`python -m flowc.runtime.skypilot_launch`,
flowc/runtime/skypilot_launch.py) on the same task YAML (flowc/compiler/lower/skypilot.py),
as an argv list: `--env FLOWC_RUN_ID=... --env FLOWC_TASK_ID=...` (in a
foreach), parameters on `start`, and `--env FLOWC_PACKAGE=<url>`, the code
package built and uploaded once per run.  The VM runs the step from that
package and commits it to the run's s3:// datastore, where the runner finds
its DONE (and a foreach's split list) as for a local task.

Retries match the orchestrators: a managed job restarts inside SkyPilot
(`@retry` -> max_restarts_on_errors), so the runner launches it once; a step
on a named or fresh cluster is retried by the runner like a local one.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from dataclasses import replace

from flowc.compiler.lower.skypilot import (
    BACKEND,
    launch_mode,
    launcher_argv,
    restarts_in_skypilot,
    settings,
    skypilot_steps,
    step_problems,
)

LAUNCH_FLAG = "--skypilot"


def requested(skypilot_flag: bool, with_decorators=()) -> bool:
    """--skypilot, or --with skypilot[:...] (which attaches @skypilot to every step lacking it)."""
    return bool(skypilot_flag) or any(spec.partition(":")[0].strip() == BACKEND for spec in with_decorators)


def local_note(step) -> str:
    """What `flowc run` says, once per @skypilot step, when it runs the step locally."""
    return (
        f"note: step '{step.name}' has @skypilot: running it locally (pass {LAUNCH_FLAG} to launch it through SkyPilot)"
    )


def sky_executable() -> str:
    return os.environ.get("FLOWC_SKY", "sky")  # what the launcher calls (flowc/runtime/skypilot_launch.py)


def launch_problems(flow, datastore: str) -> list[str]:
    """Why the run cannot launch its @skypilot steps from here (usage errors); [] when it can."""
    steps = skypilot_steps(flow)
    problems = []
    if not steps:
        problems.append(
            f"{LAUNCH_FLAG}: no step of {flow.name} has @skypilot; add it to the steps to launch, "
            "or pass --with skypilot to launch every step"
        )
    if not datastore.startswith("s3://"):
        problems.append(
            f"{LAUNCH_FLAG} needs an s3:// datastore that both this machine and the SkyPilot VMs can "
            f"reach (--datastore s3://bucket/prefix); {datastore!r} is a local folder a cloud VM "
            "cannot read"
        )
    if steps and shutil.which(sky_executable()) is None:
        problems.append(
            f"{LAUNCH_FLAG}: SkyPilot's `{sky_executable()}` command was not found "
            "(pip install skypilot, then `sky check` for cloud credentials)"
        )
    problems += [d.message for step in steps for d in step_problems(step)]
    return problems


class SkyPilotSteps:
    """The @skypilot steps of one run: which tasks launch, with what argv, how many attempts."""

    def __init__(self, flow, flow_path: str, datastore: str, options):
        self.flow, self.flow_path = flow, flow_path
        # The VM's side: its interpreter and settings come from `options` (flowc settings for target
        # skypilot); the datastore is the run's.  The package URL travels as --env, so the task YAML is
        # exactly what `flowc compile --target skypilot` writes.
        self.options = replace(options, datastore=datastore, package_url=None)
        self.package_url: str | None = None
        self._lock = threading.Lock()

    def launches(self, step) -> bool:
        return step.compute.backend == BACKEND

    def attempts(self, step, local_attempts: int) -> int:
        """A managed job is restarted by SkyPilot, so the runner does not retry its launcher too."""
        return 1 if restarts_in_skypilot(step) else local_attempts

    def describe(self, step) -> str:
        mode = launch_mode(step)
        if mode == "cluster":
            return f"on cluster {settings(step).cluster_name}"
        return "as a managed job" if mode == "managed" else "on a cluster of its own"

    def upload_package(self, echo) -> str:
        """Build and upload the code package, once per run; its URL."""
        from flowc.deploy.package import build_package, upload_package

        with self._lock:
            if self.package_url is None:
                data, sha = build_package(self.flow_path)
                self.package_url = upload_package(self.options.datastore, self.flow.name, data, sha)
                echo(f"code package for SkyPilot: {self.package_url}")
            return self.package_url

    def argv(self, step, fill) -> list[str]:
        """The launcher's argv for one task; `fill(placeholder)` gives the run-time values."""
        from flowc.compiler.command import render

        if self.package_url is None:
            raise RuntimeError("upload_package() before argv()")
        argv = render(launcher_argv(self.flow, step, self.options), fill)
        argv[0] = sys.executable  # the launcher runs here; options.python is the VM's interpreter
        return argv + ["--env", f"FLOWC_PACKAGE={self.package_url}"]
