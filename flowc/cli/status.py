"""`flowc status RUN`: the datastore's view of a run and, with --target, the orchestrator's, side by side.

The datastore knows the tasks that started (their records, attempts, DONE);
the orchestrator knows what it scheduled, including what never started (a pod
pending on an image pull, a Batch job stuck in its queue).  Each step is one
line with both; an orchestrator node with no task in the datastore is marked
`never started`.  The orchestrator calls live in flowc/deploy/<target>_runs.py
(`status(request, run_id) -> RunView`); this module only finds the run and prints.
"""

from __future__ import annotations

import importlib
import os

import click

from flowc.contract.ids import airflow_run_folder, run_id_problem

from flowc.cli.compile import fail
from flowc.cli.run import (
    check_run_id,
    datastore_errors_in_one_line,
    datastore_option,
    default_datastore,
    run_in_datastore,
)
from flowc.deploy import TRIGGERS, DeployError

NEVER_STARTED = "never started"


def orchestrator_flags(func):
    """--target, --flow and the orchestrator's address: what `status` needs to ask it about a run."""
    return click.option(
        "--flow",
        "flow_path",
        type=click.Path(dir_okay=False),
        help="The flow file (its name, steps and deployment names; needed with --target).",
    )(orchestrator_address_flags(func))


def orchestrator_address_flags(func):
    """--target and the orchestrator's address (`logs` has its own --flow)."""
    from flowc.cli.deploy import airflow_login

    for flag in reversed(
        [
            click.option("--target", "-t", type=click.Choice(sorted(TRIGGERS)), help="Also ask this orchestrator."),
            click.option("--name", help="The deployment's name if it was deployed with --name."),
            click.option("--namespace", help="The Kubernetes namespace (argo; default: the flow's, else default)."),
            click.option("--argo-server", help="Argo server URL (argo; else ARGO_SERVER); token from ARGO_TOKEN."),
            click.option("--airflow-url", help="Airflow's API server (airflow; else FLOWC_AIRFLOW_URL)."),
        ]
    ):
        func = flag(func)
    return airflow_login(func)


def orchestrator_view(target, run_id, flow_path, datastore, kw):
    """The orchestrator's RunView of `run_id` (None without --target); a failure to ask is one line, exit 2."""
    if target is None:
        return None
    if not flow_path:
        fail(f"--target {target} needs --flow FLOW.py (the deployment's names and the steps come from it)")
    # the compiler's Options and the deploy request only when the orchestrator is asked
    from flowc.compiler import CompileError
    from flowc.compiler.options import Options
    from flowc.deploy import DeployRequest

    request = DeployRequest(
        flow_path=flow_path,
        target=target,
        options=Options(datastore=datastore, name=kw.get("name"), namespace=kw.get("namespace")),
        argo_server=kw.get("argo_server") or os.environ.get("FLOWC_ARGO_SERVER") or os.environ.get("ARGO_SERVER"),
        argo_token=os.environ.get("ARGO_TOKEN"),
        airflow_url=kw.get("airflow_url"),
        airflow_token=kw.get("airflow_token"),
        airflow_user=kw.get("airflow_user"),
        echo=click.echo,
    )
    try:
        return importlib.import_module(TRIGGERS[target]).status(request, run_id)
    except DeployError as exc:
        fail(f"{target}: {exc}")
    except CompileError as exc:
        fail(f"{flow_path}: does not compile ({len(exc.diagnostics)} error(s); run flowc check)")


def locate_run(run_spec: str, datastore: str | None, flow_path: str | None):
    """(store, flow name, run id, whether the datastore has the run); the run may be unknown to the datastore."""
    from flowc.runtime.datastore import open_datastore

    store = open_datastore(default_datastore(flow_path, datastore))
    flow_name, _, run_id = run_spec.rpartition("/")
    check_run_id(run_id)
    if not flow_name and flow_path:
        from flowc.cli.compile import load_or_exit

        flow_name = load_or_exit(flow_path).name
    if not flow_name:
        flows = [f for f in store.children("") if run_in_datastore(store, f, run_id)]
        if len(flows) != 1:
            fail(
                f"run {run_id!r} {'not found' if not flows else 'is ambiguous'} in {store.root}; "
                "name it as FLOW/RUN_ID or pass --flow"
            )
        flow_name = flows[0]
    if not flow_name.isidentifier():
        fail(f"{flow_name!r} is not a flow name (a flow is a Python class)")
    return store, flow_name, run_id, run_in_datastore(store, flow_name, run_id)


@click.command("status")
@click.argument("run_spec", metavar="[FLOW/]RUN_ID")
@datastore_option
@orchestrator_flags
@datastore_errors_in_one_line
def status(run_spec, datastore, target, flow_path, **kw):
    """A run's steps as the datastore records them and, with --target, as the orchestrator sees them."""
    flow_part, slash, given = run_spec.rpartition("/")
    orchestrator_id = given
    if target == "airflow" and run_id_problem(given):
        # a dag run flowc did not name (asset-triggered, scheduled): its tasks write under the DAG's own mapping
        run_spec = f"{flow_part}{slash}{airflow_run_folder(given)}"
    store, flow_name, run_id, known = locate_run(run_spec, datastore, flow_path)
    view = orchestrator_view(target, orchestrator_id, flow_path, store.root, kw)
    tasks: dict[str, list[str]] = {}
    if known:
        from flowc.runtime.client import Run  # the client only for the commands that read runs

        run = Run(f"{flow_name}/{run_id}", datastore=store.root)
        # an orchestrator's run: its start task records it (parameters, origin) but not its status, which is
        # the orchestrator's; a run whose start never ran has no record at all
        if run.problem or (run.record and "status" in run.record):
            summary = run.status
        else:
            summary = "started by an orchestrator (its status is the orchestrator's)"
        click.echo(f"{flow_name}/{run_id}  datastore: {summary}")
        if run.problem:
            click.echo(f"  {run.problem}")
        for step in run.steps():
            tasks[step.name] = [f"{t.id} {t.status}" for t in step.tasks()]
    else:
        click.echo(f"{flow_name}/{run_id}  datastore: no record of this run (no task has started)")
    if view is not None:
        click.echo(f"  {view.target}: {view.state}  ({view.where})" + (f"  {view.detail}" if view.detail else ""))
    for line in step_lines(tasks, view):
        click.echo(line)


def step_lines(tasks: dict[str, list[str]], view) -> list[str]:
    """One line per step: its tasks in the datastore | its nodes at the orchestrator; unmatched nodes last."""
    nodes: dict[str | None, list] = {}
    for node in view.nodes if view else ():
        nodes.setdefault(node.step, []).append(node)
    lines = []
    width = max([len(s) for s in [*tasks, *(k for k in nodes if k)]] + [4])
    for step in [*tasks, *(s for s in nodes if s and s not in tasks)]:
        stored = ", ".join(tasks.get(step, [])) or "-"
        line = f"  {step:<{width}}  datastore: {stored}"
        if view is not None:
            shown = [_node(n, step not in tasks) for n in nodes.get(step, [])]
            line += f"  |  {view.target}: {'; '.join(shown) or '-'}"
        lines.append(line)
    for node in nodes.get(None, []):
        lines.append(f"  {'':<{width}}  ({view.target} only) {_node(node, False)}")
    return lines


def _node(node, never_started: bool) -> str:
    text = f"{node.name} {node.state}"
    if node.detail:
        text += f" ({node.detail})"
    return text + (f"  [{NEVER_STARTED}: no task in the datastore]" if never_started else "")


COMMANDS = [status]
