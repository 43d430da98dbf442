"""`flowc show`, `logs`, `runs`, `package`: reading runs back from a datastore, and the code package."""

from __future__ import annotations

import time

import click

from flowc.cli.compile import load_or_exit
from flowc.cli.run import _locate, datastore_errors_in_one_line, datastore_option, default_datastore, flow_option
from flowc.cli.status import locate_run, orchestrator_address_flags, orchestrator_view
from flowc.contract import layout


@click.command("show")
@click.argument("run_spec", metavar="[FLOW/]RUN_ID")
@datastore_option
@flow_option
@datastore_errors_in_one_line
def show(run_spec, datastore, flow_path):
    """List a run's steps and tasks with status, attempts and timings."""
    # the client only for the commands that read runs
    from flowc.runtime.client import Run

    store, flow_name, run_id = _locate(run_spec, datastore, flow_path)
    r = Run(f"{flow_name}/{run_id}", datastore=store.root)
    click.echo(f"{flow_name}/{run_id}: {r.status}  (started {_when(r.record.get('started_at'))})")
    if r.problem:
        click.echo(f"  {r.problem}")
    for step in r.steps():
        for task in step.tasks():
            m = task.meta or {}
            took = f"{m['finished_at'] - m['started_at']:.2f}s" if m else "-"
            extra = f"  caught {m['exception']}" if m.get("status") == "caught" else ""
            extra += f"  (reused from {m['origin_run_id']})" if m.get("origin_run_id") else ""
            extra += f"  {task.problem}" if task.problem else ""
            click.echo(
                f"  {step.name:<20} {task.id:<8} {task.status:<8} attempt {m.get('attempt', '-')}  {took}"
                f"  {len(m.get('artifacts', {}))} artifacts{extra}"
            )


@click.command("logs")
@click.argument("pathspec", metavar="[FLOW/]RUN_ID/STEP[/TASK]")
@click.option("--stderr/--stdout", "want_stderr", default=None, help="Only one stream (default: both).")
@click.option("--attempt", type=int, default=None, help="One attempt (default: every attempt).")
@datastore_option
@flow_option
@orchestrator_address_flags
@datastore_errors_in_one_line
def logs(pathspec, want_stderr, attempt, datastore, flow_path, target, **orchestrator):
    """Print the saved logs of a step's tasks (every attempt); with --target, the orchestrator's view of the step."""
    parts = pathspec.split("/")
    if len(parts) < 2:
        raise click.UsageError("expected RUN_ID/STEP[/TASK] or FLOW/RUN_ID/STEP[/TASK]")
    task_id = None
    if len(parts) >= 3 and (parts[-1][:1].isdigit()):
        task_id = parts.pop()
    step_name = parts.pop()
    if target is not None:  # the orchestrator's view first: it holds what never reached the datastore
        store, flow_name, run_id, known = locate_run("/".join(parts), datastore, flow_path)
        view = orchestrator_view(target, run_id, flow_path, store.root, orchestrator)
        nodes = [n for n in view.nodes if n.step == step_name]
        click.echo(f"--- {step_name} at {target} ({view.where}, {view.state})")
        for node in nodes or ():
            click.echo(f"{node.name} {node.state}" + (f" ({node.detail})" if node.detail else ""))
        if not nodes:
            click.echo(f"(no {target} node runs {step_name})")
        if not known:
            click.echo(f"(run {flow_name}/{run_id} has no record in {store.root}: no task has started)")
            return
    store, flow_name, run_id = _locate("/".join(parts), datastore, flow_path)
    base = layout.run_key(flow_name, run_id, step_name)
    tasks = [task_id] if task_id else store.children(base)
    if not tasks and target is not None:
        click.echo(f"(no task of {step_name} in the datastore: it never started)")
        return
    if not tasks:
        raise click.UsageError(f"no tasks of step {step_name!r} in run {flow_name}/{run_id}")
    streams = ["stdout", "stderr"] if want_stderr is None else (["stderr"] if want_stderr else ["stdout"])
    for t in tasks:
        task = f"{base}/{t}"
        numbers = (layout.attempt_of_log_name(n) for n in store.children(layout.logs_key(task)))
        attempts = sorted({n for n in numbers if n is not None})
        for a in attempts if attempt is None else [attempt]:
            for stream in streams:
                text = store.read_text(layout.attempt_log_key(task, a, stream))
                if text:
                    click.echo(f"--- {step_name}/{t} attempt {a} {stream}")
                    click.echo(text, nl=not text.endswith("\n"))


@click.command("runs")
@click.argument("flow_path", metavar="FLOW.py", type=click.Path(exists=True, dir_okay=False))
@datastore_option
@datastore_errors_in_one_line
def runs(flow_path, datastore):
    """List the runs of FLOW.py, newest first."""
    # the client only for the commands that read runs
    from flowc.runtime.client import Flow

    flow = load_or_exit(flow_path)
    root = default_datastore(flow_path, datastore)
    listed = Flow(flow.name, datastore=root).runs()
    if not listed:
        click.echo(f"no runs of {flow.name} in {root}")
    for r in listed:
        origin = f"  (resumed from {r.record['origin_run_id']})" if r.record.get("origin_run_id") else ""
        click.echo(f"{r.id:<28} {r.status:<8} {_when(r.record.get('started_at'))}{origin}")


@click.command("package")
@click.argument("flow_path", metavar="FLOW.py", type=click.Path(exists=True, dir_okay=False))
@datastore_option
@datastore_errors_in_one_line
def package(flow_path, datastore):
    """Build the flow's code package and upload it; prints its URL."""
    # the packager only for `flowc package`
    from flowc.deploy.package import build_package, upload_package

    flow = load_or_exit(flow_path)
    data, sha = build_package(flow_path)
    click.echo(upload_package(default_datastore(flow_path, datastore), flow.name, data, sha))


def _when(timestamp) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp)) if timestamp else "-"


COMMANDS = [show, logs, runs, package]
