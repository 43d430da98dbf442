"""@trigger and @trigger_on_finish: the IR each shape gives, the located refusals, and each target's plumbing.

Real parts where they run here: aws-local-stepfunctions runs the state machine on
the input EventBridge delivers; moto's server on 127.0.0.1 stores the rules and
targets deploy creates, evaluates their patterns (TestEventPattern) and, for an
SQS target the test adds beside the state machine, applies the input
transformer to an event `flowc event publish` really put (moto delivers to SQS,
not to Step Functions: that last hop is the ASL engine's); Argo's schema and
hera's events models check the Sensor, and the Argo Server stand-in receives it.
Airflow's side is in tests/test_triggers_airflow.py.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import pytest
import yaml

from argo_schema import schema_errors, sensor_errors
from argo_server import StandInArgoServer
from conftest import EXAMPLES, ROOT, run_flowc
from test_step_functions import s3_datastore  # noqa: F401  (the fixture)
from flowc.compiler import CompileError, Options, compile_flow, load_flow
from flowc.compiler.ir import EventTrigger, FinishTrigger

SCHEMA = ROOT / "tests" / "schemas" / "argo-workflows.schema.json"
FLOW = """from flowc import FlowSpec, IncludeFile, Parameter, project, schedule, step, trigger, trigger_on_finish

{decorators}
class EventFlow(FlowSpec):
    alpha = Parameter("alpha", default="a")
    count = Parameter("count", type=int, default=3)
    notes = IncludeFile("notes", default="notes.txt")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def triggers(decorators: str):
    flow, _ = load_flow(FLOW.format(decorators=decorators), "events.py")
    return flow.triggers


# ---------------------------------------------------------------------------- source -> IR

IR_CASES = {
    "one-name": ('@trigger(event="data.updated")', (EventTrigger("data.updated"),), ()),
    "names": ('@trigger(events=["a", "b-2"])', (EventTrigger("a"), EventTrigger("b-2")), ()),
    "mapping-dict": (
        '@trigger(event={"name": "e", "parameters": {"count": "rows", "alpha": "alpha"}})',
        (EventTrigger("e", (("alpha", "alpha"), ("count", "rows"))),),
        (),
    ),
    "mapping-list": (  # Metaflow's list form: a name maps the field of the same name; a pair maps (param, field)
        '@trigger(events=[{"name": "e", "parameters": ["alpha", ("count", "n")]}])',
        (EventTrigger("e", (("alpha", "alpha"), ("count", "n"))),),
        (),
    ),
    "finish": ('@trigger_on_finish(flow="Up")', (), (FinishTrigger("Up"),)),
    "finish-own-project": (  # as in Metaflow, an upstream is looked for in the flow's own project
        '@project(name="team")\n@trigger_on_finish(flows=["Up", {"name": "Other", "project": "lab"}])',
        (),
        (FinishTrigger("Up", "team"), FinishTrigger("Other", "lab")),
    ),
    "both": (
        '@trigger(event="e")\n@trigger_on_finish(flow="Up")',
        (EventTrigger("e"),),
        (FinishTrigger("Up"),),
    ),
}


@pytest.mark.parametrize("case", IR_CASES, ids=list(IR_CASES))
def test_trigger_shapes_become_the_ir(case):
    decorators, events, finishes = IR_CASES[case]
    found = triggers(decorators)
    assert (found.events, found.finishes) == (events, finishes)
    assert found.location.line == 3 + decorators.startswith("@project")  # the first trigger decorator's line


def test_a_flow_without_triggers_has_the_ir_it_had():
    flow, _ = load_flow(FLOW.format(decorators=""), "events.py")
    assert not flow.triggers and "triggers" not in flow.to_dict()["flow"]


# ---------------------------------------------------------------------------- refused at the decorator's line

REFUSALS = {
    "with-schedule": (
        '@schedule(daily=True)\n@trigger(event="e")',
        "4:2: error: @trigger and @schedule on one flow",
    ),
    "finish-with-schedule": (
        '@trigger_on_finish(flow="Up")\n@schedule(hourly=True)',
        "3:2: error: @trigger_on_finish and @schedule",
    ),
    "unknown-parameter": (
        '@trigger(event={"name": "e", "parameters": {"beta": "x"}})',
        "3:2: error: @trigger: event 'e' maps to 'beta', which is not a Parameter of the flow (it has: alpha, count, notes)",
    ),
    "include-file": ('@trigger(event={"name": "e", "parameters": ["notes"]})', "maps to the IncludeFile 'notes'"),
    "both-arguments": ('@trigger(event="a", events=["b"])', "@trigger takes one of event= or events= (not both)"),
    "no-argument": ("@trigger()", "@trigger takes one of event= or events= (not neither)"),
    "empty-list": ("@trigger(events=[])", "@trigger(events=[]) names nothing"),
    "event-name-space": ('@trigger(event="data updated")', "event name 'data updated' must be 1-128 of letters"),
    "event-name-template": ('@trigger(event="{{x}}")', "event name '{{x}}' must be"),
    "event-name-expression": ('@trigger(event="$(x)")', "event name '$(x)' must be"),
    "field-path": (
        '@trigger(event={"name": "e", "parameters": {"alpha": "a.b"}})',
        "payload field 'a.b' must be a name",
    ),
    "field-gjson": (
        '@trigger(event={"name": "e", "parameters": {"alpha": "a|@reverse"}})',
        "payload field 'a|@reverse'",
    ),
    "event-extra-key": (
        '@trigger(event={"name": "e", "when": 1})',
        "an event has keys name and parameters, not 'when'",
    ),
    "duplicate-event": ('@trigger(events=["e", "e"])', "@trigger names the event 'e' twice"),
    "qualified-flow": (
        '@trigger_on_finish(flow="proj.branch.prod.Up")',
        "'proj.branch.prod.Up': flowc has no project branches",
    ),
    "branch-key": ('@trigger_on_finish(flow={"name": "Up", "project_branch": "prod"})', "a flow is a name or"),
    "flow-name": ('@trigger_on_finish(flow="Up-Flow")', "flow name 'Up-Flow' must be a Python class name"),
    "project-name": ('@trigger_on_finish(flow={"name": "Up", "project": "A B"})', "project 'A B' must be lowercase"),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_bad_triggers_are_located_errors(case):
    decorators, expected = REFUSALS[case]
    with pytest.raises(CompileError) as raised:
        compile_flow(FLOW.format(decorators=decorators), "events.py", "ir", Options())
    text = "\n".join(str(d) for d in raised.value.diagnostics)
    assert expected in text and text.startswith("events.py:"), text


def test_the_command_line_reports_a_bad_trigger_in_one_line_exit_2(tmp_path):
    path = tmp_path / "events.py"
    path.write_text(FLOW.format(decorators='@trigger(event={"name": "e", "parameters": {"beta": "x"}})'))
    result = run_flowc("compile", str(path), "-t", "argo")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"{path}:3:2: error: @trigger: event 'e' maps to 'beta'")


def test_step_functions_refuses_waiting_for_several_triggers_at_the_line():
    for decorators in ('@trigger(events=["a", "b"])', '@trigger(event="a")\n@trigger_on_finish(flow="Up")'):
        with pytest.raises(CompileError) as raised:
            compile_flow(FLOW.format(decorators=decorators), "events.py", "step-functions", Options())
        assert str(raised.value.diagnostics[0]).startswith(
            "events.py:3:2: error: step-functions: a flow triggered by several"
        )
        for target in ("argo", "airflow"):  # all of them, as Argo Events' and Airflow's defaults mean
            compile_flow(FLOW.format(decorators=decorators), "events.py", target, Options())


def test_flowc_run_says_triggers_apply_when_deployed(tmp_path):
    from flowc.compiler.capabilities import check

    flow, _ = load_flow((EXAMPLES / "trigger_event.py").read_bytes(), "trigger_event.py")
    assert [str(d) for d in check(flow, "local")] == [
        "trigger_event.py:6:2: note: local cannot express @trigger: `flowc run` runs the flow once, now; "
        "events start it only when deployed"
    ]


# ---------------------------------------------------------------------------- Step Functions


def sfn_definition(example: str, datastore: str) -> dict:
    text = compile_flow(
        (EXAMPLES / f"{example}.py").read_bytes(),
        f"{example}.py",
        "step-functions",
        Options(datastore=datastore, python=sys.executable),
    ).text
    return json.loads(text)


def test_the_state_machine_takes_its_parameters_from_the_event_payload(tmp_path):
    """aws-local-stepfunctions runs the definition on the input the rule delivers: mapped fields set their
    parameters with their JSON types; a field the payload lacks leaves its parameter at the default."""
    from test_step_functions import artifact, run_locally

    root = str(tmp_path / "ds")
    definition = sfn_definition("trigger_event", root)
    cases = {
        "full": ({"flowc_event": {"table": "orders", "rows": 7, "other": "x"}}, "orders:7"),
        "partial": ({"flowc_event": {"table": "users"}}, "users:100"),
        "plain": ({"parameters": {"table": "given"}}, "given:100"),  # `flowc trigger`'s input is unchanged
    }
    for run_id, (execution_input, expected) in cases.items():
        outcome = run_locally(definition, tmp_path, run_id, execution_input, cwd=EXAMPLES)
        assert outcome["status"] == "SUCCEEDED", outcome.get("error")
        assert artifact(root, "TriggerEventFlow", run_id, "start", "summary") == expected


SFN_FLAGS = ("-t", "step-functions", "--role-arn", "arn:aws:iam::123456789012:role/flowc", "--job-queue", "queue")


def test_deploy_creates_the_rules_and_publish_reaches_them(aws_env, s3_datastore, tmp_path):  # noqa: F811
    import boto3

    flags = (*SFN_FLAGS, "--datastore", s3_datastore)
    for example in ("trigger_upstream", "trigger_event", "trigger_downstream"):
        deployed = run_flowc("deploy", str(EXAMPLES / f"{example}.py"), *flags, env=aws_env)
        assert deployed.returncode == 0, deployed.stderr
    events = boto3.client("events")
    machines = {
        m["name"]: m["stateMachineArn"] for m in boto3.client("stepfunctions").list_state_machines()["stateMachines"]
    }

    on_event = events.describe_rule(Name="flowc-TriggerEventFlow-on-data.updated")
    assert json.loads(on_event["EventPattern"]) == {"source": ["flowc"], "detail-type": ["data.updated"]}
    (target,) = events.list_targets_by_rule(Rule="flowc-TriggerEventFlow-on-data.updated")["Targets"]
    assert target["Arn"] == machines["TriggerEventFlow"] and target["RoleArn"].endswith("role/flowc")
    assert target["InputTransformer"] == {
        "InputPathsMap": {"detail": "$.detail"},
        "InputTemplate": '{"flowc_event": <detail>}',
    }

    after = events.describe_rule(Name="flowc-TriggerDownstreamFlow-after-TriggerUpstreamFlow")
    pattern = json.loads(after["EventPattern"])
    assert pattern["detail"] == {"status": ["SUCCEEDED"], "stateMachineArn": [machines["TriggerUpstreamFlow"]]}
    (target,) = events.list_targets_by_rule(Rule="flowc-TriggerDownstreamFlow-after-TriggerUpstreamFlow")["Targets"]
    assert target["Arn"] == machines["TriggerDownstreamFlow"] and json.loads(target["Input"]) == {"parameters": {}}

    # moto implements neither TestEventPattern nor delivery to Step Functions (a matching event with a state machine
    # target is its NotImplementedError), but it matches patterns and delivers to SQS: the state machine target is
    # swapped for a probe queue with the same input settings, which receives what the state machine would be given.
    probes = {rule: probe_queue(events, rule) for rule in (on_event["Name"], after["Name"])}
    quiet_schedule_rules(events)
    status = {"Source": "aws.states", "DetailType": "Step Functions Execution Status Change"}
    upstream, other = machines["TriggerUpstreamFlow"], machines["TriggerEventFlow"]
    for status_name, machine in (("FAILED", upstream), ("SUCCEEDED", other), ("SUCCEEDED", upstream)):
        events.put_events(
            Entries=[status | {"Detail": json.dumps({"status": status_name, "stateMachineArn": machine})}]
        )
    for source, detail_type in (("flowc", "data.updated.v2"), ("other", "data.updated")):
        events.put_events(Entries=[{"Source": source, "DetailType": detail_type, "Detail": "{}"}])
    # only the upstream's success matched (moto delivers the event itself: it ignores a constant Input, checked above)
    assert [m["detail"] for m in received(probes[after["Name"]])] == [
        {"status": "SUCCEEDED", "stateMachineArn": upstream}
    ]
    assert received(probes[on_event["Name"]]) == []

    payload = {"table": 'o"rders', "rows": 7}
    published = run_flowc(
        "event", "publish", "data.updated", "--payload", json.dumps(payload), "-t", "step-functions", env=aws_env
    )
    assert published.returncode == 0, published.stderr
    assert published.stdout.startswith("published data.updated to EventBridge: event ")
    (delivered,) = received(probes[on_event["Name"]])
    assert delivered == {"flowc_event": payload}

    from test_step_functions import artifact, run_locally

    root = str(tmp_path / "ds")
    outcome = run_locally(sfn_definition("trigger_event", root), tmp_path, "delivered", delivered, cwd=EXAMPLES)
    assert outcome["status"] == "SUCCEEDED", outcome.get("error")
    assert artifact(root, "TriggerEventFlow", "delivered", "start", "summary") == 'o"rders:7'


def probe_queue(events, rule: str) -> str:
    """An SQS queue in place of `rule`'s state machine target, with its input settings."""
    import boto3

    (target,) = events.list_targets_by_rule(Rule=rule)["Targets"]
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName=f"probe-{len(rule)}-{abs(hash(rule)) % 10**6}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    settings = {k: v for k, v in target.items() if k in ("Input", "InputTransformer")}
    events.put_targets(Rule=rule, Targets=[{"Id": "probe", "Arn": arn, **settings}])
    events.remove_targets(Rule=rule, Ids=[target["Id"]])
    return queue


def quiet_schedule_rules(events) -> None:
    """moto matches every put event against a rule without a pattern (an earlier test's @schedule rule on the shared
    server) and fails delivering it to a state machine: those rules lose their targets here."""
    for rule in events.list_rules()["Rules"]:
        if "EventPattern" not in rule:
            targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
            if targets:
                events.remove_targets(Rule=rule["Name"], Ids=[t["Id"] for t in targets])


def received(queue: str) -> list:
    import boto3

    messages = boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_deploy_dry_run_prints_the_rules(tmp_path):
    result = run_flowc(
        "deploy", str(EXAMPLES / "trigger_downstream.py"), *SFN_FLAGS, "--datastore", "s3://b/r", "--dry-run"
    )
    assert result.returncode == 0, result.stderr
    assert '"Name": "flowc-TriggerDownstreamFlow-after-TriggerUpstreamFlow"' in result.stdout
    assert "arn:aws:states:::stateMachine:TriggerUpstreamFlow" in result.stdout


@pytest.mark.parametrize(
    "name,payload,message",
    [
        ("bad name", "{}", "error: event name 'bad name' must be 1-128 of letters"),
        ("e", "[1]", "error: --payload must be a JSON object, got '[1]'"),
        ("e", "{not json", "error: --payload is not JSON"),
    ],
)
def test_publish_refuses_bad_input_in_one_line(name, payload, message):
    result = run_flowc("event", "publish", name, "--payload", payload, "-t", "step-functions")
    assert result.returncode == 2 and result.stderr.startswith(message) and "Traceback" not in result.stderr


# ---------------------------------------------------------------------------- Argo


def argo_docs(example: str) -> list[dict]:
    text = compile_flow((EXAMPLES / f"{example}.py").read_bytes(), f"{example}.py", "argo", Options()).text
    return list(yaml.safe_load_all(text))


@pytest.mark.parametrize("example", ["trigger_event", "trigger_downstream"])
def test_the_sensor_follows_the_template_and_passes_hera_and_argo_checks(example):
    template, sensor = argo_docs(example)
    assert schema_errors(SCHEMA, template) == [] and sensor_errors(SCHEMA, sensor) == []
    argo_workflow = sensor["spec"]["triggers"][0]["template"]["argoWorkflow"]
    assert argo_workflow["operation"] == "submit"
    assert argo_workflow["source"]["resource"]["spec"]["workflowTemplateRef"] == {"name": template["metadata"]["name"]}


def test_the_sensor_maps_payload_fields_onto_the_submitted_arguments():
    _, sensor = argo_docs("trigger_event")
    argo_workflow = sensor["spec"]["triggers"][0]["template"]["argoWorkflow"]
    arguments = argo_workflow["source"]["resource"]["spec"]["arguments"]["parameters"]
    mapped = {
        arguments[int(p["dest"].split(".")[3])]["name"]: (p["src"]["dataKey"], p["src"].get("value"))
        for p in argo_workflow["parameters"]
    }
    # a missing field gives the template's default, as on the other targets
    assert mapped == {"table": ("body.payload.table", "events"), "min_rows": ("body.payload.rows", "100")}
    (dependency,) = sensor["spec"]["dependencies"]
    assert dependency["filters"]["data"] == [{"path": "body.name", "type": "string", "value": ["data.updated"]}]


def test_the_downstream_sensor_waits_for_the_upstream_template_to_succeed():
    upstream_template = argo_docs("trigger_upstream")[0]["metadata"]["name"]
    _, sensor = argo_docs("trigger_downstream")
    filters = sensor["spec"]["dependencies"][0]["filters"]["data"]
    assert [f["value"] for f in filters] == [[upstream_template], ["Succeeded"]]


@pytest.fixture
def argo_server():
    server = StandInArgoServer(SCHEMA, token="secret-token")
    yield server
    server.close()


def test_deploy_sends_the_sensor_to_the_argo_server(argo_server, tmp_path):
    flags = ("-t", "argo", "--argo-server", argo_server.url, "--datastore", str(tmp_path / "ds"))
    for _ in range(2):  # created, then updated with its resourceVersion
        result = run_flowc("deploy", str(EXAMPLES / "trigger_event.py"), *flags, env={"ARGO_TOKEN": "secret-token"})
        assert result.returncode == 0, result.stderr
    assert argo_server.problems == []
    assert "updated Sensor default/triggereventflow-sensor" in result.stdout
    sensors = [(m, p) for m, p, _ in argo_server.requests if "/sensors/" in p]
    assert [m for m, _ in sensors] == ["GET", "POST", "GET", "PUT"]
    stored = argo_server.objects[("sensors", "default", "triggereventflow-sensor")]
    assert stored["spec"] == argo_docs("trigger_event")[1]["spec"]


def test_publish_posts_the_event_to_the_webhook():
    import http.server

    received = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            received.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(200)
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/flowc"
        result = run_flowc(
            "event", "publish", "data.updated", "--payload", '{"table": "x"}', "-t", "argo", "--argo-events-url", url
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr
    assert received == [("/flowc", {"name": "data.updated", "payload": {"table": "x"}})]


def test_publish_names_the_missing_address():
    result = run_flowc("event", "publish", "e", "-t", "argo")
    assert result.returncode == 2 and result.stderr.startswith("error: argo needs --argo-events-url")
    result = run_flowc("event", "publish", "e", "-t", "step-functions", "--airflow-url", "http://x")
    assert result.returncode == 2 and "--airflow-url is read by -t airflow only" in result.stderr


def test_examples_compile_everywhere_they_should(tmp_path):
    for example in ("trigger_event", "trigger_upstream", "trigger_downstream"):
        for target in ("argo", "step-functions", "airflow"):
            compile_flow((EXAMPLES / f"{example}.py").read_bytes(), f"{example}.py", target, Options())
    assert Path(EXAMPLES / "trigger_upstream.py").exists()
