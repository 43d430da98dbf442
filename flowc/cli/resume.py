"""`flowc resume`: a run again from what failed, reusing its finished tasks, here (the local runner) or, with
-t, on the orchestrator that ran it (flowc/cli/remote_resume.py)."""

from __future__ import annotations

import sys

import click

from flowc.cli.compile import fail, load_or_exit
from flowc.cli.remote_resume import remote_flags, resume_remotely
from flowc.cli.run import (
    _locate,
    check_run_id,
    datastore_errors_in_one_line,
    datastore_option,
    echo,
    flow_option,
    local_environments,
    local_settings,
    parse_params,
    remote_options_or_exit,
)


@click.command("resume")
@click.argument("run_spec", metavar="[FLOW/]RUN_ID")
@click.option("--from", "from_step", help="Re-run this step and everything after it (default: from what failed).")
@click.option("--run-id", help="The new run's id.")
@click.option("--max-workers", type=click.IntRange(min=1), default=None)
@click.option("--quiet", is_flag=True, help="Do not echo the tasks' printed output.")
@click.option("--no-env", is_flag=True, help="Run @pypi/@conda steps in this Python (a warning names them).")
@datastore_option
@flow_option
@remote_flags
@datastore_errors_in_one_line
def resume(run_spec, from_step, run_id, max_workers, quiet, no_env, datastore, flow_path, target, params, **remote):
    """Re-run a run from its failed step (or --from STEP), reusing finished tasks; with -t, on the orchestrator."""
    if target is not None:
        local_only = {"--run-id": run_id, "--max-workers": max_workers, "--quiet": quiet, "--no-env": no_env}
        given = [flag for flag, value in local_only.items() if value]
        if given:
            fail(f"{', '.join(given)}: read by a local resume only, not with -t (the orchestrator names the run)")
        resume_remotely(run_spec, target, from_step, parse_params(params), flow_path, dict(remote, datastore=datastore))
        return
    remote_only = {"--param": params, **{f"--{k.replace('_', '-')}": v for k, v in remote.items()}}
    given = [flag for flag, value in remote_only.items() if value]
    if given:
        fail(f"{', '.join(given)}: read by `flowc resume -t TARGET` only")
    # the local runner loads only for a run
    from flowc.local.runner import LocalRun, RunRequest, new_run_id
    from flowc.runtime.client import Run

    store, flow_name, origin = _locate(run_spec, datastore, flow_path)
    origin_run = Run(f"{flow_name}/{origin}", store=store)
    if origin_run.problem:
        fail(f"cannot resume {flow_name}/{origin}: {origin_run.problem}")
    record = origin_run.record
    path = flow_path or record.get("flow_file")
    if not path:  # its start task wrote the record: no local runner, so no flow file on this machine
        fail(
            f"run {flow_name}/{origin} was started by an orchestrator: resume it there with "
            "`-t TARGET --flow FLOW.py`, or here with --flow FLOW.py"
        )
    with_decorators = tuple(record.get("with_decorators") or ())
    flow = local_environments(load_or_exit(path, with_decorators), path, store.root, no_env)
    rerun = frozenset()
    if from_step:
        if not flow.has_step(from_step):
            raise click.UsageError(f"{flow.name} has no step {from_step!r}")
        rerun = frozenset({from_step} | flow.descendants(from_step))
    new_id = run_id or new_run_id()
    check_run_id(new_id)
    click.echo(f"resume {flow_name}/{origin} as {flow_name}/{new_id} (datastore {store.root})")
    workers = local_settings(path, store.root, max_workers).max_workers
    # The steps the origin run sent to AWS Batch or Kubernetes go there again (only those that run again).
    launched = {backend: True for backend in record.get("launch") or ()}
    project = record.get("project") or {}  # the origin's branch: a resumed run belongs where it did
    remote_options = remote_options_or_exit(flow, path, store.root, launched, with_decorators, project)
    request = RunRequest(
        flow=flow,
        flow_path=path,
        datastore=store.root,
        run_id=new_id,
        params=record["params"],
        max_workers=workers,
        origin_run_id=origin,
        rerun_steps=rerun,
        echo=echo,
        show_output=not quiet,
        remote=remote_options,
        with_decorators=with_decorators,
        project=project,
    )
    sys.exit(LocalRun(request).execute())


COMMANDS = [resume]
