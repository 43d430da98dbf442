"""`flowc event publish NAME --payload JSON -t TARGET`: publish one event that deployed @trigger flows listen to.

A thin shell over flowc/deploy/events.py; every refusal is one `error:` line, exit 2.
"""

from __future__ import annotations

import os

import click

from flowc.cli.compile import fail


@click.group("event")
def event_group():
    """Publish flowc events (what @trigger(event=...) flows start on once deployed)."""


@event_group.command("publish")
@click.argument("name")
@click.option(
    "--payload", default="{}", show_default=True, help="A JSON object: the fields @trigger maps to parameters."
)
@click.option("--target", "-t", required=True, type=click.Choice(["airflow", "argo", "step-functions"]))
@click.option(
    "--airflow-url",
    help="Airflow's api-server URL (airflow); token from AIRFLOW_TOKEN, "
    "or FLOWC_AIRFLOW_USER and FLOWC_AIRFLOW_PASSWORD.",
)
@click.option("--argo-events-url", help="The URL of the webhook EventSource flowc's Sensors listen to (argo).")
def publish_command(name, payload, target, airflow_url, argo_events_url):
    """Publish the event NAME with PAYLOAD on TARGET (step-functions: EventBridge's default bus, AWS_* settings)."""
    from flowc.deploy import DeployError
    from flowc.deploy.events import EventRequest, parse_event, publish

    if airflow_url and target != "airflow":
        fail(f"--airflow-url is read by -t airflow only, not {target}")
    if argo_events_url and target != "argo":
        fail(f"--argo-events-url is read by -t argo only, not {target}")
    try:
        name, values = parse_event(name, payload)
        click.echo(
            publish(
                EventRequest(
                    name=name,
                    payload=values,
                    target=target,
                    airflow_url=airflow_url,
                    airflow_token=os.environ.get("AIRFLOW_TOKEN"),
                    airflow_user=os.environ.get("FLOWC_AIRFLOW_USER"),
                    airflow_password=os.environ.get("FLOWC_AIRFLOW_PASSWORD"),
                    argo_events_url=argo_events_url,
                )
            )
        )
    except DeployError as exc:
        fail(str(exc))


COMMANDS = [event_group]
