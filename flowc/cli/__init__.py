"""The `flowc` command: a thin shell around the compiler and the runner.

Heavy modules (hera, jinja2, boto3, airflow) load inside the command that
needs them, so `flowc --help` stays fast.
"""

from __future__ import annotations

import click

from flowc.cli.compile import check_command, compile_command, graph_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="flowc")
def main():
    """flowc: write a flow once; run it locally or compile it for Argo, Step Functions or Airflow."""


main.add_command(compile_command)
main.add_command(check_command)
main.add_command(graph_command)

from flowc.cli.deploy import COMMANDS as DEPLOY_COMMANDS  # noqa: E402

for _command in DEPLOY_COMMANDS:
    main.add_command(_command)

from flowc.cli.run import COMMANDS as RUN_COMMANDS  # noqa: E402

for _command in RUN_COMMANDS:
    main.add_command(_command)
