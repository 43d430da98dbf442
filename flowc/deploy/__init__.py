"""Deployers: one module per orchestrator, each `deploy(request)` (and optionally `trigger`).

A deployer packages the code to the datastore (flowc.package), then creates or
updates the compiled artifact on the orchestrator.  With `request.dry_run` it
prints what it would send and sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

DEPLOYERS: dict[str, str] = {
    "argo": "flowc.deploy.argo",
    "step-functions": "flowc.deploy.step_functions",
    "airflow": "flowc.deploy.airflow",
}


class DeployError(Exception):
    """A deploy that cannot go on, with a message that names the cause."""


@dataclass(frozen=True)
class DeployRequest:
    flow_path: str
    artifact: Any  # flowc.compiler.Artifact (text, suffix, flow IR)
    options: Any  # flowc.compiler.options.Options
    dry_run: bool = False
    argo_server: str | None = None
    argo_token: str | None = None
    role_arn: str | None = None
    job_queue: str | None = None
    dags_folder: str | None = None
    with_decorators: tuple[str, ...] = ()
    echo: Callable[[str], None] = print
