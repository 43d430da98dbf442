"""`flowc diff`: what `flowc deploy` would change in what is deployed, by meaning.

It compiles FLOW as deploy would (the same settings through the same resolver,
the same code package URL; nothing is uploaded or sent), fetches what the
orchestrator has (Argo: the WorkflowTemplate from the Argo Server; Step
Functions: `DescribeStateMachine`; Airflow: the DAG file in the dags folder)
and prints the difference per step (flowc/deploy/semantic.py).

Exit 0: the same; 1: they differ; 2: it cannot tell (a compile error, not
deployed, the orchestrator unreachable), one line.
"""

from __future__ import annotations

import click

from flowc.cli.compile import options_flags
from flowc.cli.deploy import DEPLOY_FLAGS, deploy_request, run_deployer
from flowc.contract.command import EXIT_FAILED, EXIT_OK
from flowc.deploy import DEPLOYERS


def diff_flags(func):
    """--target (a deployable one), the deployers' flags and the options flags, as `flowc deploy` takes them."""
    for flag in reversed(
        [click.option("--target", "-t", required=True, type=click.Choice(sorted(DEPLOYERS))), *DEPLOY_FLAGS.values()]
    ):
        func = flag(func)
    return options_flags(func)


@click.command("diff")
@click.argument("flow", type=click.Path(dir_okay=False))
@diff_flags
def diff_command(flow, target, **kwargs):
    """Compare what FLOW compiles to with what is deployed; exit 1 when they differ."""
    request = deploy_request(flow, target, kwargs, dry_run=False)
    where, lines = run_deployer(compare, request)
    if not lines:
        click.echo(f"{flow}: the same as {where}")
        raise SystemExit(EXIT_OK)
    click.echo(f"{flow}: differs from {where} (- deployed, + compiled)")
    for line in lines:
        click.echo(line)
    raise SystemExit(EXIT_FAILED)


def compare(request) -> tuple[str, list[str]]:
    """(what was compared with, the differences from deployed to compiled, one line each)."""
    # the deployers and the semantic view only for `flowc diff`
    from flowc.deploy import compile_as_deployed
    from flowc.deploy.semantic import differences, summarize

    artifact = compile_as_deployed(request).artifact
    if request.target == "argo":
        from flowc.deploy import argo

        compiled = argo.as_manifest(argo.manifests(artifact.text)[0])
        deployed = argo.deployed_template(request, compiled)
        metadata = compiled["metadata"]
        where = (
            f"WorkflowTemplate {metadata.get('namespace') or argo.DEFAULT_NAMESPACE}/{metadata['name']} "
            f"on {request.argo_server}"
        )
    elif request.target == "step-functions":
        from flowc.deploy import step_functions

        name, deployed = step_functions.deployed_definition(request, artifact.flow)
        compiled, where = artifact.text, f"state machine {name}"
    else:
        from flowc.deploy import airflow

        where, deployed = airflow.deployed_dag(request, artifact)
        compiled = artifact.text
    return where, differences(summarize(request.target, deployed), summarize(request.target, compiled))


COMMANDS = [diff_command]
