"""Deployers: one module per orchestrator, each `deploy(request)` (and optionally `trigger`).

A deployer never builds a document itself: `compile_for_deploy` builds the code
package, compiles the flow through `flowc.compiler.compile_flow` with the
package's URL (every check of `flowc compile`, the same bytes as
`flowc compile --package-url URL`), then uploads the package; the deployer
parses that text back and sends it.  A check that fails raises CompileError
with every located error, before anything is uploaded or sent.  With
`request.dry_run` a deployer prints what it would send and sends nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any, Callable

DEPLOYERS: dict[str, str] = {
    "argo": "flowc.deploy.argo",
    "step-functions": "flowc.deploy.step_functions",
    "airflow": "flowc.deploy.airflow",
}
# Target -> the module that starts (`trigger`) and inspects (`status`) its runs: `flowc trigger`, `flowc status`,
# and `flowc resume -t`, which calls `trigger(request, params, origin_run=RUN)`.
TRIGGERS: dict[str, str] = {
    "argo": "flowc.deploy.argo_runs",
    "step-functions": "flowc.deploy.step_functions_runs",
    "airflow": "flowc.deploy.airflow_runs",
}

# The deployers' own settings -> the targets that read them (the CLI's resolver refuses
# one given explicitly for another target, as it does an Options field; see flowc/cli/options.py).
DEPLOY_READ_BY: dict[str, frozenset[str]] = {
    "argo_server": frozenset({"argo"}),
    "role_arn": frozenset({"step-functions"}),
    "dags_folder": frozenset({"airflow"}),
    "airflow_url": frozenset({"airflow"}),
    "env_platform": frozenset({"argo", "step-functions", "airflow"}),
}


class DeployError(Exception):
    """A deploy that cannot go on, with a message that names the cause."""


@dataclass(frozen=True)
class DeployRequest:
    flow_path: str
    target: str
    options: Any  # flowc.compiler.options.Options, without a package URL: deploy adds it
    with_decorators: tuple[str, ...] = ()  # compile_flow's --with decorators
    config_files: tuple[tuple[str, str], ...] = ()  # compile_flow's --config NAME PATH
    dry_run: bool = False
    argo_server: str | None = None
    argo_token: str | None = None
    role_arn: str | None = None
    dags_folder: str | None = None
    airflow_url: str | None = None  # Airflow's API server (trigger, status)
    airflow_token: str | None = None
    airflow_user: str | None = None  # logs in through POST /auth/token with FLOWC_AIRFLOW_PASSWORD
    echo: Callable[[str], None] = print
    # the platforms each @pypi/@conda environment is built for: the images' (flowc/contract/platforms.py)
    env_platforms: tuple[str, ...] = ("linux-x86_64",)


@dataclass(frozen=True)
class Deployment:
    """What a deployer sends: the compiled artifact with the package URL, and the package's sha256."""

    artifact: Any  # flowc.compiler.Artifact
    package_url: str
    package_sha: str


def compile_for_deploy(request: DeployRequest) -> Deployment:
    """Package the code, compile with its URL through compile_flow, then upload the package.

    Step environments (@pypi/@conda) are locked first where the lock file
    lacks them (the only time a package index is reached), then built and
    uploaded by hash before the code package.
    Raises CompileError (every located error) or DeployError; on either nothing was uploaded.
    """
    _lock_environments(request)
    deployment, data = _compile_with_package(request)
    url, root = deployment.package_url, request.options.datastore
    if request.dry_run:
        for sha in sorted(_environments(deployment.artifact.flow)):
            request.echo(f"would build and upload environment {sha[:12]} for {', '.join(request.env_platforms)}")
        request.echo(f"would upload the code package ({len(data):,} bytes) to {url}")
        return deployment
    _publish_environments(request, deployment.artifact.flow)
    # the packager only when deploying: flowc.deploy is imported by the CLI's option tables
    from flowc.deploy.package import upload_package

    try:
        uploaded = upload_package(root, deployment.artifact.flow.name, data, deployment.package_sha)
    except Exception as exc:  # local and S3 failures both end the deploy with their cause
        raise DeployError(f"uploading the code package to {root} failed: {exc}") from None
    if uploaded != url:  # the compiled document names the package; it must be where it was uploaded
        raise DeployError(f"the code package was stored at {uploaded}, not at {url}")
    return deployment


def _environments(flow) -> set[str]:
    return {step.packages.lock for step in flow.steps if step.packages is not None and step.packages.lock}


def _lock_environments(request: DeployRequest) -> None:
    """Resolve what the flow's lock file does not pin yet (uv, the index): compile then reads the lock."""
    from flowc.compiler import load_flow, read_source
    from flowc.environments.prepare import EnvironmentFailure, has_environments

    flow, _ = load_flow(read_source(request.flow_path), request.flow_path, request.with_decorators)
    if not has_environments(flow):
        return
    from flowc.environments.lock import lock_flow

    try:
        lock_flow(flow, request.flow_path, refresh=False)
    except EnvironmentFailure as exc:
        raise DeployError(str(exc)) from None


def _publish_environments(request: DeployRequest, flow) -> None:
    if not _environments(flow):
        return
    from flowc.environments.build import publish_flow
    from flowc.environments.uv import EnvironmentFailure

    for platform in request.env_platforms:
        try:
            published = publish_flow(flow, request.flow_path, request.options.datastore, platform)
        except EnvironmentFailure as exc:
            raise DeployError(str(exc)) from None
        except Exception as exc:  # local and S3 failures both end the deploy with their cause
            raise DeployError(f"uploading environments to {request.options.datastore} failed: {exc}") from None
        for item in published:
            state = "uploaded" if item.built else "already in the datastore"
            request.echo(f"environment {item.lock_sha[:12]} ({platform}): {state}, archive {item.archive_sha[:12]}")


def compile_as_deployed(request: DeployRequest) -> Deployment:
    """What `deploy` would send now (the same package URL, the same bytes), uploading nothing.

    What `flowc diff` compares with the deployed document; raises as compile_for_deploy does."""
    return _compile_with_package(request)[0]


def _compile_with_package(request: DeployRequest) -> tuple[Deployment, bytes]:
    # compiler and packager only when deploying: flowc.deploy is imported by the CLI's option tables
    from flowc.compiler import compile_flow, load_flow, read_source
    from flowc.deploy.package import build_package, package_key

    source = read_source(request.flow_path)
    # the flow's name names the package
    flow, _ = load_flow(source, request.flow_path, request.with_decorators, request.config_files)
    try:
        data, sha = build_package(request.flow_path)
    except (OSError, ValueError) as exc:
        raise DeployError(f"cannot package {request.flow_path}: {exc}") from None
    url = package_url(request.options.datastore, package_key(flow.name, sha))
    options = replace(request.options, package_url=url)
    artifact = compile_flow(
        source, request.flow_path, request.target, options, request.with_decorators, request.config_files
    )
    return Deployment(artifact, url, sha), data


def package_url(datastore_root: str, key: str) -> str:
    """The URL (or absolute path) the datastore gives `key` (Datastore.url), known before uploading."""
    root = datastore_root if "://" in datastore_root else os.path.abspath(os.path.expanduser(datastore_root))
    return f"{root.rstrip('/')}/{key}"
