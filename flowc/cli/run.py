"""`flowc run` and the helpers of the local commands (resuming: flowc/cli/resume.py; reading runs back:
flowc/cli/runs.py)."""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import replace
from pathlib import Path

import click

from flowc.cli.compile import (
    BRANCH_FLAG,
    CONFIG_FLAG,
    PRODUCTION_FLAG,
    config_files_for,
    fail,
    gc_paused,
    load_or_exit,
    options_for,
    report,
)
from flowc.contract.command import EXIT_USAGE
from flowc.contract import layout


def local_settings(flow_path: str | None, datastore: str | None = None, max_workers: int | None = None):
    """Datastore and workers of a local command (flowc/cli/options.py resolve_local): flag > FLOWC_* >
    [tool.flowc.local] / [tool.flowc] of the pyproject.toml nearest the flow (or the current folder) >
    `.flowc/` there, the same default the client `flowc.Run` uses.  Bad values exit 2."""
    # the resolver pulls in the compiler's Options: not needed by --help
    from flowc.cli.options import SettingsError, resolve_local

    start = Path(flow_path).resolve().parent if flow_path else Path.cwd()
    try:
        return resolve_local({"datastore": datastore, "max_workers": max_workers}, start)
    except SettingsError as exc:
        fail(str(exc))


def default_datastore(flow_path: str | None, datastore: str | None) -> str:
    """The datastore a local command reads and writes (see local_settings)."""
    return local_settings(flow_path, datastore).datastore


def datastore_errors_in_one_line(command):
    """A datastore that cannot be used (missing bucket, `s3://`, a corrupt record) ends the command with
    one `error:` line and exit 2, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from flowc.runtime.datastore import DatastoreError  # standard library only: cheap

        try:
            return command(*args, **kwargs)
        except DatastoreError as exc:
            fail(str(exc))

    return wrapper


def check_run_id(run_id: str) -> None:
    """A run id names a folder of the datastore: refused (one line, exit 2) before anything is read or written."""
    from flowc.contract.ids import run_id_problem  # standard library only: cheap

    problem = run_id_problem(run_id)
    if problem:
        fail(problem)


def include_files_or_exit(flow, flow_path: str, params: dict, root: str) -> dict:
    """IncludeFile parameters read here, where the run is launched (flowc/local/includes.py); one line, exit 2."""
    if not any(p.type == "file" for p in flow.parameters):
        return params
    from flowc.local.includes import IncludeError, include_files  # only for flows that include files
    from flowc.runtime.datastore import open_datastore

    try:
        return include_files(flow, flow_path, params, open_datastore(root))
    except IncludeError as exc:
        fail(str(exc))


def parse_params(pairs, multiple: frozenset[str] = frozenset()) -> dict:
    """{name: text}; a `multiple=True` parameter given more than once: its values as one JSON array."""
    import json

    params: dict = {}
    repeated: dict[str, list[str]] = {}
    for pair in pairs:
        name, eq, value = pair.partition("=")
        if not eq or not name:
            raise click.UsageError(f"--param expects NAME=VALUE, got {pair!r}")
        params[name] = value
        repeated.setdefault(name, []).append(value)
    for name in multiple:
        if len(repeated.get(name, ())) > 1:
            params[name] = json.dumps(repeated[name])
    return params


def check_params(flow, params: dict) -> None:
    known = {p.name for p in flow.parameters}
    for name in params:
        if name not in known:
            raise click.UsageError(f"unknown parameter {name!r}; {flow.name} has: {', '.join(sorted(known)) or 'none'}")
    for p in flow.parameters:
        if p.required and not p.has_default and params.get(p.name, "") == "":
            raise click.UsageError(f"parameter {p.name!r} is required: --param {p.name}=VALUE")


def echo(line: str) -> None:
    """A line of a run's output: above the live progress display on a terminal (flowc/local/progress.py)."""
    # progress.py is standard library only: cheap
    from flowc.local.progress import above_display

    with above_display():
        click.echo(line)


@click.command("run")
@click.argument("flow_path", metavar="FLOW.py", type=click.Path(exists=True, dir_okay=False))
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="A parameter value (repeatable).")
@click.option("--run-id", help="The run's id (default: time-based).")
@click.option(
    "--datastore",
    help="Datastore root: a folder or s3://bucket/prefix (default FLOWC_DATASTORE, "
    "[tool.flowc], else .flowc/ beside the flow).",
)
@click.option(
    "--max-workers",
    type=click.IntRange(min=1),
    default=None,
    help="Most tasks at once (default: FLOWC_MAX_WORKERS, [tool.flowc], else the CPUs).",
)
@click.option(
    "--with",
    "with_decorators",
    multiple=True,
    metavar="DECORATOR[:k=v,...]",
    help="Attach a decorator to every step that lacks it, e.g. --with retry:times=2.",
)
@click.option(
    "--skypilot",
    "launch_skypilot",
    is_flag=True,
    help="Launch @skypilot steps through SkyPilot (needs an s3:// datastore); implied by --with skypilot.",
)
@click.option(
    "--batch",
    "launch_batch",
    is_flag=True,
    help="Run @batch steps as AWS Batch jobs (needs an s3:// datastore); implied by --with batch.",
)
@click.option(
    "--kubernetes",
    "launch_kubernetes",
    is_flag=True,
    help="Run @kubernetes steps as Kubernetes Jobs (needs an s3:// datastore); implied by --with kubernetes.",
)
@CONFIG_FLAG
@BRANCH_FLAG
@PRODUCTION_FLAG
@click.option("--quiet", is_flag=True, help="Do not echo the tasks' printed output.")
@click.option(
    "--no-env",
    is_flag=True,
    help="Run @pypi/@conda steps in this Python instead of their own environments (a warning names them).",
)
@datastore_errors_in_one_line
def run(
    flow_path,
    params,
    run_id,
    datastore,
    max_workers,
    with_decorators,
    config_files,
    launch_skypilot,
    launch_batch,
    launch_kubernetes,
    branch,
    production,
    quiet,
    no_env,
):
    """Run FLOW.py on this machine, each task a local process (remote steps: see --skypilot, --batch, --kubernetes)."""
    # the local runner loads only for a run
    from flowc.local.runner import LocalRun, RunRequest, new_run_id
    from flowc.local.skypilot import launch_problems, requested

    with gc_paused():
        flow = load_or_exit(flow_path, with_decorators, config_files_for({"config_files": config_files}))
    values = parse_params(params, frozenset(p.name for p in flow.parameters if p.multiple))
    check_params(flow, values)
    settings = local_settings(flow_path, datastore, max_workers)
    root = settings.datastore
    project = project_or_exit(flow, branch, production)
    sky_options = None
    if requested(launch_skypilot, with_decorators):
        problems = launch_problems(flow, root)
        if problems:
            raise click.UsageError("\n".join(problems))
        # The VMs' interpreter etc. ([tool.flowc.skypilot], FLOWC_*), writing to this run's datastore.
        sky_options = replace(options_for({"datastore": root}, flow_path, "skypilot"), **project)
    remote_options = remote_options_or_exit(
        flow, flow_path, root, {"batch": launch_batch, "kubernetes": launch_kubernetes}, with_decorators, project
    )
    from flowc.local.notes import local_notes  # the local side loads only for a run

    for note in local_notes(flow, launch_skypilot=sky_options is not None, launched=tuple(remote_options)):
        click.echo(note, err=True)
    flow = local_environments(flow, flow_path, root, no_env)
    run_id = run_id or new_run_id()
    check_run_id(run_id)
    values = include_files_or_exit(flow, flow_path, values, root)
    click.echo(f"run {flow.name}/{run_id} (datastore {root})")
    request = RunRequest(
        flow=flow,
        flow_path=flow_path,
        datastore=root,
        run_id=run_id,
        params=values,
        max_workers=settings.max_workers,
        echo=echo,
        show_output=not quiet,
        skypilot=sky_options,
        remote=remote_options,
        with_decorators=tuple(with_decorators),
        project=project,
    )
    code = LocalRun(request).execute()
    if code == 0:
        click.echo(
            f"artifacts: flowc show {flow.name}/{run_id} --datastore {root}; "
            f"in Python: flowc.Run('{flow.name}/{run_id}', datastore={root!r})['end'].task.data"
        )
    sys.exit(code)


def project_or_exit(flow, branch: str | None, production: bool | None) -> dict:
    """The run's @project settings (branch, production, the user of `user.NAME`) as Options fields; a bad
    name, or --branch/--production for a flow without @project, is a located error, exit 2."""
    from flowc.compiler import project
    from flowc.compiler.options import Options
    from flowc.contract.project import user_from

    settings = {"branch": branch, "production": production, "user": user_from(os.environ)}
    problems = project.problems(flow, Options(**settings))
    if problems:
        report(problems)
        sys.exit(EXIT_USAGE)
    return settings


def local_environments(flow, flow_path: str, root: str, no_env: bool):
    """The flow with each @pypi/@conda step's environment locked, built for this machine and named; or,
    with --no-env, with none (and a warning).  Errors: located lines or a named cause, exit 2."""
    from flowc.environments.prepare import (  # uv and the builders only for a flow that has environments
        CompileError,
        EnvironmentFailure,
        has_environments,
        prepare_environments,
        without_environments,
    )

    if not has_environments(flow):
        return flow
    if no_env:
        flow, warning = without_environments(flow)
        click.echo(warning, err=True)
        return flow
    from flowc.contract.platforms import current_platform

    try:
        return prepare_environments(flow, flow_path, root, (current_platform(),), echo)
    except CompileError as exc:
        report(exc.diagnostics)
    except EnvironmentFailure as exc:
        click.echo(f"flowc: error: {exc}", err=True)
    sys.exit(EXIT_USAGE)


def remote_options_or_exit(flow, flow_path: str, root: str, flags: dict, with_decorators, project: dict) -> dict:
    """{backend: Options} for the steps this run sends to AWS Batch or Kubernetes (flowc/local/remote.py); exit 2
    when it cannot (a local datastore, no job queue, no Kubernetes configuration)."""
    from flowc.local.remote import launch_options  # the local side loads only for a run

    options, problems = launch_options(
        flow,
        root,
        flags,
        with_decorators,
        lambda target: replace(options_for({"datastore": root}, flow_path, target), **project),
    )
    if problems:
        raise click.UsageError("\n".join(problems))
    return options


def _locate(run_spec: str, datastore: str | None, flow_path: str | None):
    """(store, flow_name, run_id) for 'Flow/RUN' or 'RUN'; UsageError when not found."""
    # the datastore (and boto3 for s3://) only when a run is looked up
    from flowc.runtime.datastore import open_datastore

    store = open_datastore(default_datastore(flow_path, datastore))
    flow_name, _, run_id = run_spec.rpartition("/")
    check_run_id(run_id)
    if flow_name and not flow_name.isidentifier():
        fail(f"{flow_name!r} is not a flow name (a flow is a Python class)")
    if not flow_name:
        flows = [f for f in store.children("") if run_in_datastore(store, f, run_id)]
        if len(flows) != 1:
            raise click.UsageError(
                f"run {run_id!r} {'not found' if not flows else 'is ambiguous'} in "
                f"{store.root}; name it as FLOW/RUN_ID or pass --datastore"
            )
        flow_name = flows[0]
    if not run_in_datastore(store, flow_name, run_id):
        raise click.UsageError(f"run {flow_name}/{run_id} not found in {store.root}")
    return store, flow_name, run_id


def run_in_datastore(store, flow_name: str, run_id: str) -> bool:
    """The datastore knows the run: its record (flowc run/resume write one), or a task an orchestrator ran."""
    return store.exists(layout.run_record_key(flow_name, run_id)) or bool(
        store.children(layout.run_key(flow_name, run_id))
    )


datastore_option = click.option(
    "--datastore",
    help="Datastore root (default FLOWC_DATASTORE, [tool.flowc], else .flowc/ beside --flow or in the current folder).",
)
flow_option = click.option(
    "--flow",
    "flow_path",
    type=click.Path(dir_okay=False),
    help="The flow file (locates the default datastore beside it).",
)


COMMANDS = [run]
