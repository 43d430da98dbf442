"""`flowc lock FLOW.py`: resolve every @pypi/@conda environment of the flow into the lock file beside it.

The only flowc command (with `run` and `deploy` when the lock lacks an
environment) that reaches a package index; compile reads the lock and never does.
"""

from __future__ import annotations

import sys

import click

from flowc.cli.compile import gc_paused, load_or_exit, report
from flowc.contract.command import EXIT_USAGE


@click.command("lock")
@click.argument("flow_path", metavar="FLOW.py", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--with",
    "with_decorators",
    multiple=True,
    metavar="DECORATOR[:k=v,...]",
    help="Attach a decorator to every step that lacks it, as compile and run do.",
)
def lock_command(flow_path, with_decorators):
    """Resolve FLOW.py's step environments with uv (pinned, with hashes) into FLOW.flowc-lock.json."""
    # uv and the resolver only for this command
    from flowc.environments.lock import lock_flow
    from flowc.environments.prepare import CompileError, EnvironmentFailure, has_environments

    with gc_paused():
        flow = load_or_exit(flow_path, with_decorators)
    if not has_environments(flow):
        click.echo(f"{flow.name} has no @pypi or @conda step: nothing to lock")
        return
    try:
        path, resolved = lock_flow(flow, flow_path, refresh=True)
    except CompileError as exc:
        report(exc.diagnostics)
        sys.exit(EXIT_USAGE)
    except EnvironmentFailure as exc:
        click.echo(f"flowc: error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"locked {resolved} environment{'s' if resolved != 1 else ''} of {flow.name} in {path}")


COMMANDS = [lock_command]
