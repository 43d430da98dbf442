"""The `flowc` command: a thin shell around the compiler and the runner.

Heavy modules (hera, jinja2, boto3, airflow) load inside the command that
needs them, so `flowc --help` stays fast.  The modules of the deploy, diff and local
commands (`flowc.cli.deploy`, `flowc.cli.diff`, `flowc.cli.run`) load only when one of their
commands is asked for: `flowc compile` never imports them.
"""

from __future__ import annotations

import atexit
import gc
import importlib

import click

from flowc.cli.compile import check_command, compile_command, graph_command

# command name -> the module whose COMMANDS list defines it
LAZY_COMMANDS = {
    "deploy": "flowc.cli.deploy",
    "trigger": "flowc.cli.deploy",
    "run": "flowc.cli.run",
    "resume": "flowc.cli.resume",
    "show": "flowc.cli.runs",
    "status": "flowc.cli.status",
    "logs": "flowc.cli.runs",
    "runs": "flowc.cli.runs",
    "package": "flowc.cli.runs",
    "report": "flowc.cli.report",
    "card": "flowc.cli.card",
    "diff": "flowc.cli.diff",
    "lock": "flowc.cli.lock",
    "event": "flowc.cli.event",
}


class FlowcGroup(click.Group):
    """A group whose deploy and local commands are imported on first use."""

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is None and name in LAZY_COMMANDS:
            for loaded in importlib.import_module(LAZY_COMMANDS[name]).COMMANDS:
                self.add_command(loaded)
            command = super().get_command(ctx, name)
        return command


@click.group(cls=FlowcGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="flowc")
def main():
    """flowc: write a flow once; run it locally or compile it for Argo, Step Functions or Airflow."""
    # The interpreter's last act is a full collection over every live object (after an argo
    # compile: hera's ~300 pydantic classes and their schemas, ~0.2 s).  A CLI process is about
    # to exit: freezing the heap first leaves that collection nothing to walk.  Objects still die
    # by reference counting; only the exit-time sweep of unreachable cycles is skipped.
    atexit.register(gc.freeze)


main.add_command(compile_command)
main.add_command(check_command)
main.add_command(graph_command)
