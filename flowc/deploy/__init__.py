"""Deployers: one module per orchestrator, each `deploy(request)` (and optionally `trigger`).

A deployer packages the code to the datastore (flowc.deploy.package), then creates or
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


def package_code(request: DeployRequest) -> tuple[str, str]:
    """Build the flow's code package and upload it to the datastore: (url, sha256).

    With `request.dry_run` nothing is uploaded; the URL it would have is returned.
    """
    from flowc.deploy.package import build_package, upload_package

    try:
        data, sha = build_package(request.flow_path)
    except (OSError, ValueError) as exc:
        raise DeployError(f"cannot package {request.flow_path}: {exc}") from None
    root, flow_name = request.options.datastore.rstrip("/"), request.artifact.flow.name
    if request.dry_run:
        url = f"{root}/{flow_name}/packages/{sha}.tar.gz"
        request.echo(f"would upload the code package ({len(data):,} bytes) to {url}")
        return url, sha
    try:
        return upload_package(root, flow_name, data, sha), sha
    except Exception as exc:  # local and S3 failures both end the deploy with their cause
        raise DeployError(f"uploading the code package to {root} failed: {exc}") from None
