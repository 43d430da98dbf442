"""`flowc report RUN`: one self-contained HTML page about a run (flowc/report/)."""

from __future__ import annotations

import os

import click

from flowc.cli.run import _locate, check_run_id, datastore_errors_in_one_line, datastore_option
from flowc.cli.compile import fail


@click.command("report")
@click.argument("run_spec", metavar="[FLOW/]RUN_ID")
@click.option(
    "-o",
    "--output",
    default="report.html",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Where to write the page.",
)
@datastore_option
@click.option(
    "--flow",
    "flow_path",
    type=click.Path(dir_okay=False),
    help="The flow file for the graph and resources (default: the one the run recorded).",
)
@datastore_errors_in_one_line
def report(run_spec, output, datastore, flow_path):
    """Write an HTML report of a run: graph by status, timeline, resources, artifacts, parameters."""
    # the client, the compiler and the report load only for this command
    from flowc.cli.compile import load_or_exit
    from flowc.report import facts, page
    from flowc.runtime.client import Run

    check_run_id(run_spec.rpartition("/")[2])
    store, flow_name, run_id = _locate(run_spec, datastore, flow_path)
    run = Run(f"{flow_name}/{run_id}", store=store)
    path = flow_path or run.record.get("flow_file")
    flow = None
    if path and os.path.isfile(path):
        flow = load_or_exit(path)
        if flow.name != flow_name:
            fail(f"{path} defines flow {flow.name}, not {flow_name}: pass the run's flow file with --flow")
    elif flow_path:
        fail(f"no flow file {flow_path}")
    else:
        click.echo(
            f"note: the run's flow file {path or '(not recorded)'} is not here: the report has no graph "
            "(pass --flow FLOW.py)",
            err=True,
        )
    try:
        with open(output, "w", encoding="utf-8") as out:
            out.write(page.render(facts.collect(run, flow)))
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")
    click.echo(f"report of {flow_name}/{run_id}: {output}")


COMMANDS = [report]
