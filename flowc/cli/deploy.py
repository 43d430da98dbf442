"""`flowc deploy` and `flowc trigger`: compile, package the code, hand it to the orchestrator.

Each target's deployer lives in `flowc/deploy/<target>.py` and provides
`deploy(request: DeployRequest)`; `flowc/deploy/<target>_runs.py` (TRIGGERS)
provides `trigger(request, params, origin_run=None) -> run id` and `status`.  This module only resolves settings
(flowc/cli/options.py, the same resolver as compile) and reports errors: a
check that fails is the same located errors as `flowc compile`, exit 2.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from flowc.cli.compile import EXIT_USAGE, config_files_for, fail, options_flags, report, settings_for
from flowc.deploy import DEPLOY_READ_BY, DEPLOYERS, TRIGGERS, DeployError, DeployRequest


def deploy_request(flow_path, target, kwargs, dry_run) -> DeployRequest:
    settings = settings_for(kwargs, flow_path, target)
    return DeployRequest(
        flow_path=flow_path,
        target=target,
        options=settings.options,
        with_decorators=tuple(kwargs.get("with_decorators") or ()),
        config_files=config_files_for(kwargs),
        dry_run=dry_run,
        # ARGO_SERVER and ARGO_TOKEN are the argo CLI's own variables: honoured after flowc's settings.
        argo_server=settings.deploy.get("argo_server") or os.environ.get("ARGO_SERVER"),
        argo_token=os.environ.get("ARGO_TOKEN"),
        role_arn=settings.deploy.get("role_arn"),
        dags_folder=settings.deploy.get("dags_folder"),
        airflow_url=settings.deploy.get("airflow_url"),
        airflow_token=kwargs.get("airflow_token"),
        airflow_user=kwargs.get("airflow_user"),
        echo=click.echo,
        **(
            {"env_platforms": env_platforms(settings.deploy["env_platform"])}
            if "env_platform" in settings.deploy
            else {}
        ),
    )


def env_platforms(text: str) -> tuple[str, ...]:
    """--env-platform linux-x86_64,linux-aarch64 -> the platforms @pypi/@conda environments are built for."""
    from flowc.contract.platforms import UV_PLATFORMS

    platforms = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = [p for p in platforms if p not in UV_PLATFORMS]
    if unknown or not platforms:
        fail(f"--env-platform {text!r}: each must be one of {', '.join(UV_PLATFORMS)}")
    return platforms


def run_deployer(action, *args):
    """Run a deployer's action; its refusals end the command with exit 2, compile errors located."""
    # the compiler loads on first use, so `flowc --help` stays fast
    from flowc.compiler import CompileError

    try:
        return action(*args)
    except CompileError as exc:
        report(exc.diagnostics)
        sys.exit(EXIT_USAGE)
    except DeployError as exc:
        fail(str(exc))


DEPLOY_FLAGS = {
    "argo_server": click.option("--argo-server", help="Argo server URL (argo); token from ARGO_TOKEN."),
    "role_arn": click.option("--role-arn", help="IAM role the state machine runs as (step-functions)."),
    "dags_folder": click.option("--dags-folder", help="Airflow dags folder: a path or s3://bucket/dags/ (airflow)."),
    "airflow_url": click.option(
        "--airflow-url", help="Airflow's API server, http://HOST:8080 (airflow: trigger, status)."
    ),
    "env_platform": click.option(
        "--env-platform",
        help="The images' platforms, comma-separated: @pypi/@conda environments are built for each "
        "(default linux-x86_64; linux-aarch64, darwin-arm64, darwin-x86_64).",
    ),
}


def deploy_flags(targets):
    """--target (one of `targets`), --dry-run, the deployers' flags some of `targets` read, and the options flags."""

    def decorate(func):
        own = [flag for name, flag in DEPLOY_FLAGS.items() if DEPLOY_READ_BY[name] & set(targets)]
        for flag in reversed(
            [
                click.option("--target", "-t", required=True, type=click.Choice(sorted(targets))),
                click.option("--dry-run", is_flag=True, help="Print what would be sent; send nothing."),
                *own,
            ]
        ):
            func = flag(func)
        return options_flags(func)

    return decorate


@click.command("deploy")
@click.argument("flow", type=click.Path(dir_okay=False))
@deploy_flags(DEPLOYERS)
def deploy_command(flow, target, dry_run, **kwargs):
    """Compile FLOW, package its code to the datastore and deploy it to the orchestrator."""
    module = importlib.import_module(DEPLOYERS[target])
    run_deployer(module.deploy, deploy_request(flow, target, kwargs, dry_run))


airflow_login_flags = [
    click.option("--airflow-token", help="Airflow API bearer token (airflow; else FLOWC_AIRFLOW_TOKEN)."),
    click.option(
        "--airflow-user",
        help="Log in to Airflow as this user through POST /auth/token, the password from FLOWC_AIRFLOW_PASSWORD "
        "(airflow; else FLOWC_AIRFLOW_USER).",
    ),
]


def airflow_login(func):
    for flag in reversed(airflow_login_flags):
        func = flag(func)
    return func


def parse_params(params) -> dict[str, str]:
    """--param NAME=VALUE items as a dict (the value is text; the deployer checks it against the flow)."""
    values = {}
    for item in params:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise click.UsageError(f"--param {item!r}: expected NAME=VALUE")
        values[name] = value
    return values


@click.command("trigger")
@click.argument("flow", type=click.Path(dir_okay=False))
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="A parameter value (repeatable).")
@airflow_login
@deploy_flags(TRIGGERS)
def trigger_command(flow, target, dry_run, params, **kwargs):
    """Start a run of a deployed FLOW and print its run id (what show, logs and status take)."""
    values = parse_params(params)
    module = importlib.import_module(TRIGGERS[target])
    click.echo(run_deployer(module.trigger, deploy_request(flow, target, kwargs, dry_run), values))


COMMANDS = [deploy_command, trigger_command]
