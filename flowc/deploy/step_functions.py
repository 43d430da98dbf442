"""Deploy to AWS Step Functions + AWS Batch with boto3, and start executions.

deploy(request):
  1. compile with the code package's URL and upload the package (flowc.deploy.compile_for_deploy):
     the definition is `flowc compile --target step-functions --package-url URL`, every check
     included (the 8,192-character ContainerOverrides limit is measured with the bootstrap);
  2. register, or reuse when an ACTIVE revision has the same content, one Batch
     job definition per distinct set of container properties (target.job_definitions);
  3. create or update the state machine (tags: flow name, code package sha);
  4. for @schedule, create or update an EventBridge rule that starts it; for @trigger and
     @trigger_on_finish, the rules of flowc/deploy/step_functions_events.py.
Starting and inspecting runs: flowc/deploy/step_functions_runs.py.

With `request.dry_run` nothing is sent: each API call that would be made (on an
account where nothing exists yet) is printed instead.
"""

from __future__ import annotations

import json

from flowc.deploy import DeployError, DeployRequest, compile_for_deploy

TAG_FLOW = "flowc:flow"
TAG_PACKAGE_SHA = "flowc:package-sha"


class _Aws:
    """boto3 clients, or a printer of the calls when dry-running."""

    def __init__(self, request: DeployRequest):
        self.dry_run = request.dry_run
        self.echo = request.echo
        self._clients: dict = {}

    def call(self, service: str, operation: str, **kwargs):
        if self.dry_run:
            shown = {k: (f"<{len(v):,} characters>" if k == "definition" else v) for k, v in kwargs.items()}
            self.echo(f"{service}.{operation}({json.dumps(shown, sort_keys=True)})")
            return None
        # botocore only when a call is really made: a dry run never loads it.
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client(service), operation)(**kwargs)
        except ClientError as exc:
            raise DeployError(
                f"{service} {operation} failed: {exc.response.get('Error', {}).get('Message', exc)}"
            ) from None
        except BotoCoreError as exc:
            raise DeployError(f"{service} {operation} failed: {exc}") from None

    def client(self, service: str):
        if service not in self._clients:
            # boto3 (~0.3 s) only when a call is really made.
            import boto3

            self._clients[service] = boto3.client(service)
        return self._clients[service]


def deploy(request: DeployRequest) -> str:
    """Package, register job definitions, create or update the state machine and its schedule; returns its ARN."""
    # The target module for the names deploy shares with the definition (job definitions, state machine).
    from flowc.compiler.targets import step_functions as target

    options = request.options
    if target.s3_location(options.datastore) is None:
        raise DeployError(
            f"step-functions needs an s3://bucket/prefix datastore, got {options.datastore!r}; pass --datastore"
        )
    if not request.role_arn:
        raise DeployError("step-functions needs --role-arn: the IAM role the state machine runs as")
    if not options.job_queue:
        raise DeployError("step-functions needs --job-queue: the AWS Batch job queue the steps run on")
    aws = _Aws(request)

    deployment = compile_for_deploy(request)
    flow, package_sha = deployment.artifact.flow, deployment.package_sha
    for job_definition, properties in target.job_definitions(flow, options).items():
        _register_job_definition(aws, job_definition, properties)
    # Sent as compiled, only without the indentation: the same JSON value as `flowc compile`'s text.
    definition = json.dumps(json.loads(deployment.artifact.text), separators=(",", ":"), ensure_ascii=False)
    name = target.state_machine_name(flow, options)
    tags = [{"key": TAG_FLOW, "value": flow.name}, {"key": TAG_PACKAGE_SHA, "value": package_sha}]
    arn = None if request.dry_run else _state_machine_arn(aws, name)
    if arn is None:
        created = aws.call(
            "stepfunctions",
            "create_state_machine",
            name=name,
            definition=definition,
            roleArn=request.role_arn,
            type="STANDARD",
            tags=tags,
        )
        arn = created["stateMachineArn"] if created else f"arn:aws:states:::stateMachine:{name}"
    else:
        aws.call(
            "stepfunctions",
            "update_state_machine",
            stateMachineArn=arn,
            definition=definition,
            roleArn=request.role_arn,
        )
        aws.call("stepfunctions", "tag_resource", resourceArn=arn, tags=tags)
    if flow.schedule is not None:
        _schedule(aws, request, flow, arn, name)
    if flow.triggers:
        # The rule builder, and the state machine naming rule the upstream was deployed under.
        from flowc.compiler.project import upstream_name
        from flowc.compiler.targets.asl import safe_name
        from flowc.deploy.step_functions_events import put_trigger_rules

        put_trigger_rules(
            aws,
            request,
            flow,
            arn,
            lambda upstream: safe_name(upstream_name(flow, upstream, request.options).replace(".", "-")),
        )
    request.echo(f"{'would deploy' if request.dry_run else 'deployed'} state machine {name}: {arn}")
    return arn


def _register_job_definition(aws: _Aws, name: str, wanted: dict) -> None:
    register_job_definition(aws.call, name, wanted, aws.echo, look_first=not aws.dry_run)


def register_job_definition(call, name: str, wanted: dict, echo, look_first: bool = True) -> None:
    """Register `name` with containerProperties `wanted` unless an ACTIVE revision already has this content.

    `call(service, operation, **kwargs)` makes the AWS call: deploy's (which may dry-run) or the local
    runner's, which registers the job definitions of its @batch steps the same way (flowc/local/batch.py).
    """
    if look_first:
        found = call("batch", "describe_job_definitions", jobDefinitionName=name, status="ACTIVE")
        for existing in found.get("jobDefinitions", []):
            props = existing.get("containerProperties", {})
            if all(props.get(k) == v for k, v in wanted.items()):
                echo(f"reusing job definition {existing['jobDefinitionArn']}")
                return
    call(
        "batch",
        "register_job_definition",
        jobDefinitionName=name,
        type="container",
        containerProperties=wanted,
        tags={"flowc:image": wanted["image"][:256]},
    )


def _state_machine_arn(aws: _Aws, name: str) -> str | None:
    client = aws.client("stepfunctions")
    try:
        for page in client.get_paginator("list_state_machines").paginate():
            for machine in page["stateMachines"]:
                if machine["name"] == name:
                    return machine["stateMachineArn"]
    except Exception as exc:  # botocore errors: no credentials, endpoint down, access denied
        raise DeployError(f"cannot list state machines: {exc}") from None
    return None


def aws_cron(cron: str) -> str:
    """A 5-field cron as EventBridge's 6-field `cron(...)` (one of day-of-month/day-of-week must be `?`)."""
    fields = cron.split()
    if len(fields) != 5:
        raise DeployError(f"@schedule cron {cron!r} must have 5 fields")
    minute, hour, day, month, weekday = fields
    if weekday == "*":
        weekday = "?"
    elif day == "*":
        day = "?"
    else:
        raise DeployError(f"@schedule cron {cron!r}: EventBridge cannot restrict both day of month and day of week")
    if any(c.isdigit() for c in weekday):
        # EventBridge numbers days 1-7 from Sunday; cron numbers them 0-6.
        weekday = "".join(str(int(c) % 7 + 1) if c.isdigit() else c for c in weekday)
    return f"cron({minute} {hour} {day} {month} {weekday} *)"


def _schedule(aws: _Aws, request: DeployRequest, flow, state_machine_arn: str, name: str) -> None:
    schedule = flow.schedule
    if schedule.timezone and schedule.timezone not in ("UTC", "Etc/UTC"):
        request.echo(f"warning: EventBridge rules run in UTC; the timezone {schedule.timezone} is not applied")
    rule = f"flowc-{name}"[:64]
    aws.call(
        "events",
        "put_rule",
        Name=rule,
        ScheduleExpression=aws_cron(schedule.cron),
        State="ENABLED",
        Description=f"flowc schedule of {flow.name}",
    )
    aws.call(
        "events",
        "put_targets",
        Rule=rule,
        Targets=[
            {
                "Id": "flowc",
                "Arn": state_machine_arn,
                "RoleArn": request.role_arn,
                "Input": json.dumps({"parameters": {}}),
            }
        ],
    )


def deployed_definition(request: DeployRequest, flow) -> tuple[str, str]:
    """(name, definition) of the state machine `deploy` would update for `flow`, for `flowc diff`.

    DeployError when there is none of that name or AWS cannot be asked.
    """
    # The target module names the state machine, as deploy named it.
    from flowc.compiler.targets import step_functions as target

    name = target.state_machine_name(flow, request.options)
    aws = _Aws(request)
    arn = _state_machine_arn(aws, name)
    if arn is None:
        raise DeployError(f"no state machine named {name} is deployed")
    return name, aws.call("stepfunctions", "describe_state_machine", stateMachineArn=arn)["definition"]
