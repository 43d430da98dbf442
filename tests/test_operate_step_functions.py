"""`flowc trigger / status -t step-functions` against moto's server on 127.0.0.1 (tests/conftest.py moto_endpoint).

moto serves StartExecution, DescribeExecution and GetExecutionHistory as real
HTTP for real boto3 clients.  By default it only records an execution (RUNNING);
with its `execute_state_machine` switch it interprets the definition, and its
interpreter fails on `batch:submitJob.sync` Task states (no Batch runs here):
that failure is the failed execution whose status `flowc status` shows.
"""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from conftest import EXAMPLES, run_flowc

from flowc.contract.command import ORIGIN_RUN_INPUT

FLAGS = ["--role-arn", "arn:aws:iam::123456789012:role/flowc", "--job-queue", "flowc-queue"]


@pytest.fixture
def deployed(aws_env):
    import boto3

    boto3.client("s3").create_bucket(Bucket="flowc-operate")
    datastore = "s3://flowc-operate/root"
    common = ["-t", "step-functions", "--datastore", datastore, *FLAGS]
    result = run_flowc("deploy", str(EXAMPLES / "parameters.py"), *common, env=aws_env)
    assert result.returncode == 0, result.stderr
    yield {"common": common, "env": aws_env, "datastore": datastore}
    # moto's server lives for the session: leave no state machine for the next module's tests to find
    client = boto3.client("stepfunctions")
    for machine in client.list_state_machines()["stateMachines"]:
        if machine["name"] == "ParameterFlow":
            client.delete_state_machine(stateMachineArn=machine["stateMachineArn"])
    events = boto3.client("events")
    for rule in events.list_rules(NamePrefix="flowc-ParameterFlow").get("Rules", []):
        events.delete_rule(Name=rule["Name"])


def execution_arn(name: str) -> str:
    import boto3

    machines = boto3.client("stepfunctions").list_state_machines()["stateMachines"]
    machine = next(m["stateMachineArn"] for m in machines if m["name"] == "ParameterFlow")
    return machine.replace(":stateMachine:", ":execution:") + ":" + name


def trigger(deployed, *params: str):
    args = [f"--param={p}" for p in params]
    return run_flowc("trigger", str(EXAMPLES / "parameters.py"), *deployed["common"], *args, env=deployed["env"])


def status(deployed, run_id: str):
    return run_flowc(
        "status",
        f"ParameterFlow/{run_id}",
        "--datastore",
        deployed["datastore"],
        "--flow",
        str(EXAMPLES / "parameters.py"),
        "-t",
        "step-functions",
        env=deployed["env"],
    )


def test_trigger_names_the_execution_by_the_run_id_with_the_checked_parameters(deployed):
    import boto3

    triggered = trigger(deployed, "epochs=4", "verbose=true")
    assert triggered.returncode == 0, triggered.stderr
    run_id = triggered.stdout.strip()
    execution = boto3.client("stepfunctions").describe_execution(executionArn=execution_arn(run_id))
    assert execution["name"] == run_id and run_id.startswith("ParameterFlow-") and len(run_id) <= 80
    assert json.loads(execution["input"]) == {"parameters": {"epochs": "4", "verbose": "true"}}
    seen = status(deployed, run_id)
    assert seen.returncode == 0, seen.stderr
    assert seen.stdout.splitlines()[:2] == [
        f"ParameterFlow/{run_id}  datastore: no record of this run (no task has started)",
        f"  step-functions: RUNNING  ({execution_arn(run_id)})",
    ]


def test_a_bad_parameter_starts_no_execution(deployed):
    import boto3

    machines = boto3.client("stepfunctions").list_state_machines()["stateMachines"]
    machine = next(m["stateMachineArn"] for m in machines if m["name"] == "ParameterFlow")
    before = boto3.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"]
    result = trigger(deployed, "epochs=many")
    assert result.returncode == 2 and "--param epochs: expected int, got 'many'" in result.stderr, result.stderr
    assert boto3.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"] == before


def test_origin_run_is_an_input_key_beside_parameters(deployed, monkeypatch):
    """What `flowc resume -t step-functions` sends: the origin beside "parameters", nothing extra without it."""
    import boto3

    from flowc.compiler.options import Options
    from flowc.deploy import DeployRequest
    from flowc.deploy.step_functions_runs import trigger as start

    request = DeployRequest(
        flow_path=str(EXAMPLES / "parameters.py"),
        target="step-functions",
        options=Options(datastore=deployed["datastore"]),
        echo=lambda line: None,
    )
    for origin, expected in (("ParameterFlow-old/train", {ORIGIN_RUN_INPUT: "ParameterFlow-old/train"}), (None, {})):
        run_id = start(request, {"greeting": "again"}, origin_run=origin)
        execution = boto3.client("stepfunctions").describe_execution(executionArn=execution_arn(run_id))
        assert json.loads(execution["input"]) == {"parameters": {"greeting": "again"}, **expected}


@pytest.fixture
def executing_moto(moto_endpoint):
    """moto interprets definitions while the test runs (its server-wide switch, set back afterwards).

    Setting it resets moto's Step Functions state: ask for it before deploying."""

    def switch(on: bool) -> None:
        body = json.dumps({"stepfunctions": {"execute_state_machine": on}}).encode()
        request = urllib.request.Request(f"{moto_endpoint}/moto-api/config", data=body, method="POST")
        urllib.request.urlopen(request, timeout=10).close()

    switch(True)
    try:
        yield
    finally:
        switch(False)


def test_status_of_a_failed_execution_names_the_failed_state_and_its_cause(executing_moto, deployed):
    import boto3

    triggered = trigger(deployed)
    assert triggered.returncode == 0, triggered.stderr
    run_id = triggered.stdout.strip()
    client = boto3.client("stepfunctions")
    deadline = time.monotonic() + 30
    while client.describe_execution(executionArn=execution_arn(run_id))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "moto did not finish the execution"
        time.sleep(0.2)
    seen = status(deployed, run_id)
    assert seen.returncode == 0, seen.stderr
    lines = seen.stdout.splitlines()
    assert lines[1].startswith(f"  step-functions: FAILED  ({execution_arn(run_id)})"), seen.stdout
    start = next(line for line in lines if line.lstrip().startswith("start "))
    # moto's interpreter cannot run a Batch job: the start state failed, and it never reached the datastore
    assert "step-functions: start FAILED (" in start and "[never started: no task in the datastore]" in start
    assert "end" not in "\n".join(lines[2:]), seen.stdout
