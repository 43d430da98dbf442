"""`flowc deploy` and `flowc trigger`: compile, package the code, hand it to the orchestrator.

Each target's deployer lives in `flowc/deploy/<target>.py` and provides
`deploy(request: DeployRequest) -> None` (and, where it can start a run,
`trigger(request, params) -> str`).  This module only parses flags.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from flowc.cli.compile import EXIT_USAGE, compile_one, options_flags
from flowc.deploy import DEPLOYERS, DeployError, DeployRequest


def _request(flow_path, target, kwargs, dry_run) -> DeployRequest:
    artifact = compile_one(flow_path, target, kwargs)
    if artifact is None:
        sys.exit(EXIT_USAGE)
    from flowc.cli.compile import options_for

    return DeployRequest(
        flow_path=flow_path,
        artifact=artifact,
        options=options_for(kwargs, flow_path, target),
        dry_run=dry_run,
        argo_server=kwargs.get("argo_server") or os.environ.get("ARGO_SERVER"),
        argo_token=os.environ.get("ARGO_TOKEN"),
        role_arn=kwargs.get("role_arn"),
        job_queue=kwargs.get("job_queue"),
        dags_folder=kwargs.get("dags_folder"),
        with_decorators=tuple(kwargs.get("with_decorators") or ()),
        echo=click.echo,
    )


def _deployer(target: str):
    if target not in DEPLOYERS:
        raise click.UsageError(f"target {target} cannot be deployed; choose from {', '.join(DEPLOYERS)}")
    return importlib.import_module(DEPLOYERS[target])


def deploy_flags(func):
    for flag in reversed([
        click.option("--target", "-t", required=True, type=click.Choice(sorted(DEPLOYERS))),
        click.option("--dry-run", is_flag=True, help="Print what would be sent; send nothing."),
        click.option("--argo-server", help="Argo server URL (argo); token from ARGO_TOKEN."),
        click.option("--role-arn", help="IAM role the state machine runs as (step-functions)."),
        click.option("--job-queue", help="AWS Batch job queue (step-functions)."),
        click.option("--dags-folder", help="Airflow dags folder: a path or s3://bucket/dags/ (airflow)."),
    ]):
        func = flag(func)
    return options_flags(func)


@click.command("deploy")
@click.argument("flow", type=click.Path(dir_okay=False))
@deploy_flags
def deploy_command(flow, target, dry_run, **kwargs):
    """Compile FLOW, package its code to the datastore and deploy it to the orchestrator."""
    module = _deployer(target)
    try:
        module.deploy(_request(flow, target, kwargs, dry_run))
    except DeployError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)


@click.command("trigger")
@click.argument("flow", type=click.Path(dir_okay=False))
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="A parameter value (repeatable).")
@deploy_flags
def trigger_command(flow, target, dry_run, params, **kwargs):
    """Start a run of a deployed FLOW and print its id."""
    module = _deployer(target)
    if not hasattr(module, "trigger"):
        raise click.UsageError(f"flowc trigger does not support {target} yet")
    values = {}
    for item in params:
        name, eq, value = item.partition("=")
        if not eq:
            raise click.UsageError(f"--param {item!r}: expected NAME=VALUE")
        values[name] = value
    try:
        click.echo(module.trigger(_request(flow, target, kwargs, dry_run), values))
    except DeployError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)


COMMANDS = [deploy_command, trigger_command]
