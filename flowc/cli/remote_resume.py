"""`flowc resume RUN -t TARGET [--from STEP]`: a new orchestrator run that reuses what the origin run finished.

The origin run's record (run.json, which its start task wrote in the datastore the deployed flow uses) gives
its parameters; the new run is started by the target's own `trigger` (flowc/deploy/<target>.py) with the
origin as `origin_run` ("RUN" or "RUN/STEP"), which the orchestrator hands to every task as `--origin-run`.
Each task of the new run then copies its finished twin from the origin run instead of running
(flowc/runtime/reuse.py).  Nothing here reaches an orchestrator's expression language: the origin travels as
an input value and the runtime validates it before it names anything.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json

import click

from flowc.cli.compile import fail, load_or_exit
from flowc.contract import layout
from flowc.contract.command import INCLUDED_FILE_PREFIX


def remote_flags(func):
    """-t and what only a remote resume reads: the deployers' address flags (flowc/cli/deploy.py, the same as
    trigger's), @project's --branch/--production, --param, --dry-run."""
    from flowc.cli.compile import BRANCH_FLAG, PRODUCTION_FLAG
    from flowc.cli.deploy import DEPLOY_FLAGS
    from flowc.deploy import DEPLOYERS  # a table, standard library only

    addresses = [flag for name, flag in DEPLOY_FLAGS.items() if name != "env_platform"]  # resume builds nothing

    for flag in reversed(
        [
            click.option(
                "--target",
                "-t",
                type=click.Choice(sorted(DEPLOYERS)),
                help="Resume a run of the flow deployed there: a new orchestrator run (needs --flow).",
            ),
            click.option(
                "--param",
                "params",
                multiple=True,
                metavar="NAME=VALUE",
                help="With -t: a parameter value instead of the origin run's.",
            ),
            click.option("--dry-run", is_flag=True, help="With -t: print what would be sent; send nothing."),
            *addresses,
            BRANCH_FLAG,
            PRODUCTION_FLAG,
        ]
    ):
        func = flag(func)
    return func


def resume_remotely(run_spec: str, target: str, from_step: str | None, params: dict, flow_path: str | None, kwargs):
    """Start the resumed run on `target` and print its id; every refusal is one line, exit 2."""
    # the deploy side loads only when a remote run is resumed
    from flowc.cli.deploy import deploy_request, run_deployer
    from flowc.contract.ids import run_id_problem
    from flowc.deploy import TRIGGERS
    from flowc.runtime.datastore import open_datastore

    if not flow_path:
        fail(f"resume -t {target} needs --flow FLOW.py: the deployed flow, as `flowc trigger` takes it")
    request = deploy_request(flow_path, target, kwargs, kwargs.get("dry_run", False))
    flow = load_or_exit(flow_path, request.with_decorators, request.config_files)
    flow_name, _, origin = run_spec.rpartition("/")
    if (problem := run_id_problem(origin)) is not None:
        fail(problem)
    if flow_name and flow_name != flow.name:
        fail(f"run {run_spec} is not a run of {flow.name} ({flow_path})")
    if from_step is not None and not flow.has_step(from_step):
        fail(f"--from {from_step!r}: {flow.name} has no such step")
    store = open_datastore(request.options.datastore)
    key = layout.run_record_key(flow.name, origin)
    try:
        record = json.loads(store.read_text(key) or "null")
    except ValueError:
        record = "unreadable"
    if not isinstance(record, dict) or not isinstance(record.get("params"), dict):
        state = "has no run record" if record is None else "has an unreadable run record"
        fail(f"run {flow.name}/{origin} {state} in {store.root} ({key}): its start step never ran there")
    values = {str(name): str(value) for name, value in record["params"].items()} | params
    # An IncludeFile's recorded value names the stored file, not a path the trigger could read again.
    included = sorted(n for n, v in values.items() if v.startswith(INCLUDED_FILE_PREFIX) and n not in params)
    if included:
        fail(f"IncludeFile parameter(s) {', '.join(included)}: give the file again with --param NAME=PATH")
    module = importlib.import_module(TRIGGERS[target])
    trigger = getattr(module, "trigger", None)
    if trigger is None or "origin_run" not in inspect.signature(trigger).parameters:
        fail(f"the {target} deployer cannot start a run with an origin yet (flowc/deploy: trigger(..., origin_run=))")
    origin_value = f"{origin}/{from_step}" if from_step else origin
    click.echo(run_deployer(functools.partial(trigger, origin_run=origin_value), request, values))
