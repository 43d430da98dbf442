"""The Argo target: goldens pass Argo's own schema (v4.1.2 and v3.7.18) and hera's model; graph structure;
resources; injection; refused inputs; size; CronWorkflow; JSON; deploy against a local stand-in server.

The byte-for-byte golden comparison itself is tests/test_golden.py.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import yaml

from argo_schema import schema_errors
from argo_server import StandInArgoServer
from conftest import GOLDEN, ROOT, example_files, run_flowc, schema_path
from environments_support import seed_built_environments
from flowc.compiler import CompileError, Options, compile_flow, load_flow
from flowc.compiler.lower import kubernetes as k8s
from flowc.compiler.targets import argo_checks
from flowc.compiler.targets import argo_names as names
from flowc.contract.command import ORIGIN_RUN_INPUT

SCHEMAS = ["argo-workflows.schema.json", "argo-workflows-v3.7.18.schema.json"]
EXAMPLES = example_files()
METAFLOW_100_STEP_BYTES = 1_788_739


def golden_docs(example: Path) -> list[dict]:
    path = GOLDEN / example.stem / "argo.yaml"
    if not path.exists():
        pytest.skip(f"no Argo golden for {example.name}")
    return list(yaml.safe_load_all(path.read_text()))


def compiled(source: str, filename: str = "flow.py", options: Options = Options()) -> list[dict]:
    text = compile_flow(source, filename, "argo", options).text
    return list(yaml.safe_load_all(text))


def linear_flow_source(steps: int, env_value: str | None = None) -> str:
    lines = ["from flowc import FlowSpec, environment, step", "", "", f"class Linear{steps}Flow(FlowSpec):"]
    for i in range(steps):
        name = "start" if i == 0 else "end" if i == steps - 1 else f"step_{i}"
        following = None if i == steps - 1 else "end" if i == steps - 2 else f"step_{i + 1}"
        if env_value is not None:
            lines.append(f"    @environment(vars={{'BIG': {env_value!r}}})")
        lines += ["    @step", f"    def {name}(self):", f"        self.x = {i}"]
        lines += [f"        self.next(self.{following})"] if following else []
        lines.append("")
    return "\n".join(lines)


def templates_by_name(doc: dict) -> dict[str, dict]:
    return {t["name"]: t for t in doc["spec"]["templates"]}


# ---------------------------------------------------------------------------
# Argo's schema and hera's model


@pytest.mark.parametrize("schema", SCHEMAS)
@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_golden_passes_argo_schema(example, schema):
    for doc in golden_docs(example):
        assert schema_errors(schema_path(schema), doc) == [], f"{example.stem}: {doc['kind']}"


def test_strict_schema_catches_a_typo():
    doc = golden_docs(ROOT / "examples" / "foreach.py")[0]
    main = templates_by_name(doc)["main"]
    body_task = next(t for t in main["dag"]["tasks"] if "withParam" in t)
    body_task["withParams"] = body_task.pop("withParam")
    assert any("withParams" in e for e in schema_errors(schema_path(), doc))


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_golden_loads_into_hera_model_without_loss(example):
    from hera.workflows import models as m

    for doc in golden_docs(example):
        if doc["kind"] == "Sensor":  # Argo Events': hera.workflows has no model of it (argo_schema.sensor_errors)
            continue
        model = getattr(m, doc["kind"]).model_validate(doc)
        assert model.model_dump(exclude_none=True, by_alias=True) == doc  # nothing dropped or renamed


# ---------------------------------------------------------------------------
# Structure


def dag_depth(templates: dict[str, dict], name: str) -> int:
    """How deep DAG templates nest below `name` (0: a DAG of containers only)."""
    inner = [
        dag_depth(templates, t["template"]) + 1
        for t in templates[name]["dag"]["tasks"]
        if "dag" in templates[t["template"]] and not t["template"].endswith(names.LOOP_SUFFIX)  # a loop is no foreach
    ]
    return max(inner, default=0)


def depends_names(text: str) -> list[str]:
    """The tasks a `depends` expression names: `a && b`, or with results (`a.Succeeded || (b.Succeeded && c.Skipped)`)."""
    return re.findall(r"([a-z][-a-z0-9]*)(?:\.[A-Z][A-Za-z]+)?", text)


def check_structure(flow, doc: dict) -> None:
    """Dependencies, templates, withParam producers, inputs vs arguments, foreach depth, one container per step."""
    templates = templates_by_name(doc)
    assert doc["spec"]["entrypoint"] in templates
    for template in templates.values():
        if "dag" not in template:
            continue
        tasks = {t["name"]: t for t in template["dag"]["tasks"]}
        for task in tasks.values():
            assert task["template"] in templates, f"{task['name']} names a missing template"
            dependencies = depends_names(task.get("depends", ""))
            for dependency in dependencies:
                assert dependency in tasks, f"{template['name']}/{task['name']} depends on unknown {dependency}"
            if "withParam" in task:
                producer, output = task["withParam"].strip("{}").split(".")[1::3]
                declared = [p["name"] for p in templates[tasks[producer]["template"]]["outputs"]["parameters"]]
                assert output in declared and producer in dependencies
            wanted = {p["name"] for p in templates[task["template"]].get("inputs", {}).get("parameters", [])}
            given = {p["name"] for p in task.get("arguments", {}).get("parameters", [])}
            assert wanted == given, f"{task['name']}: inputs {wanted} but arguments {given}"
    assert dag_depth(templates, "main") == flow.max_foreach_depth
    containers = {t["name"] for t in templates.values() if "container" in t}
    assert containers == {names.step_name(s.name) for s in flow.steps}
    for step in flow.steps:  # inside a foreach, a step runs with its iteration's task id
        args = templates[names.step_name(step.name)]["container"]["args"]
        if step.compute.backend == "skypilot":  # the launcher hands the task id to SkyPilot as an env
            assert ("FLOWC_TASK_ID={{inputs.parameters.task-id}}" in args) == bool(step.foreach_scope)
            continue
        task_id = args[args.index("--task-id") + 1]
        assert task_id == ("{{inputs.parameters.task-id}}" if step.foreach_scope else "0")


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_dag_structure(example):
    flow, _ = load_flow(example.read_bytes(), str(example))
    check_structure(flow, golden_docs(example)[0])


def test_generated_flows_keep_their_structure_and_pass_the_schema():
    """Random shapes (branches in foreach, foreach in branches, nesting to depth 3), see tests/flowgen.py."""
    from hypothesis import HealthCheck, given, settings

    from flowgen import generated_flows

    schema = schema_path()

    @settings(
        max_examples=15,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(generated_flows())
    def check(generated):
        flow, _ = load_flow(generated.source, "generated.py")
        try:
            docs = compiled(generated.source, "generated.py")
        except CompileError as exc:
            assert exc.errors and all(e.location.line >= 1 for e in exc.errors)
            return
        check_structure(flow, docs[0])
        for doc in docs:
            assert schema_errors(schema, doc) == []

    check()


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_resources_match_the_ir(example):
    flow, _ = load_flow(example.read_bytes(), str(example))
    doc = golden_docs(example)[0]
    templates = templates_by_name(doc)
    defaults = doc["spec"]["templateDefaults"]["container"]["resources"]
    for step in flow.steps:
        if step.compute.backend == "skypilot":
            continue  # a launcher pod: the step's resources are in its SkyPilot task (tests/test_skypilot.py)
        container = templates[names.step_name(step.name)]["container"]
        resources = container.get("resources", defaults)  # Argo merges templateDefaults into each template
        expected = {"cpu": k8s.cpu_quantity(step.resources.cpu), "memory": f"{step.resources.memory_mib}Mi"}
        if step.resources.gpu:
            expected["nvidia.com/gpu"] = str(step.resources.gpu)
        if step.resources.disk_mib:
            expected["ephemeral-storage"] = f"{step.resources.disk_mib}Mi"
        assert resources["requests"] == expected == resources["limits"], step.name
        assert container["image"] == (step.image or Options().image)
        assert container["args"][0] == step.name
        assert [e["name"] for e in container.get("env", [])] == [k for k, _ in step.environment]


def test_decorators_reach_the_pod():
    doc, cron = golden_docs(ROOT / "examples" / "decorators.py")
    train = templates_by_name(doc)["train"]
    assert doc["metadata"]["namespace"] == "ml"
    assert train["serviceAccountName"] == "trainer"
    assert train["nodeSelector"] == {"pool": "gpu"}
    assert train["tolerations"] == [{"effect": "NoSchedule", "key": "gpu", "operator": "Exists"}]
    assert train["container"]["envFrom"] == [{"secretRef": {"name": "db-credentials"}}]
    assert train["activeDeadlineSeconds"] == "7200"
    prepare = templates_by_name(doc)["prepare"]
    assert prepare["retryStrategy"] == {"limit": "1", "retryPolicy": "Always", "backoff": {"duration": "120s"}}
    args = prepare["container"]["args"]
    at = args.index("--attempt")
    assert args[at : at + 4] == ["--attempt", "{{retries}}", "--max-attempts", "2"]


# ---------------------------------------------------------------------------
# Injection: user values are single argv items or env values, never shell text


NASTY = "x'; rm -rf / && echo \"$(id)\" `uname` | cat > /tmp/p; $HOME\n--param other=1"


def test_user_values_are_single_argv_items_and_env_values():
    source = f'''
from flowc import FlowSpec, Parameter, environment, step

class NastyFlow(FlowSpec):
    who = Parameter("who", default={NASTY!r})

    @environment(vars={{"NASTY": {NASTY!r}}})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''
    doc = compiled(source)[0]
    # "$(id)" would be expanded by the kubelet in the container's args: the runtime takes the default from the flow
    arguments = doc["spec"]["arguments"]["parameters"]
    assert [p for p in arguments if p["name"] != ORIGIN_RUN_INPUT] == [{"name": "who", "value": ""}]
    templates = templates_by_name(doc)
    start = templates["start"]["container"]
    assert start["env"] == [{"name": "NASTY", "value": k8s.kubelet_literal(NASTY)}]
    assert "who={{workflow.parameters.who}}" in start["args"]
    command = doc["spec"]["templateDefaults"]["container"]["command"]
    origin = ["--origin-run", "{{workflow.parameters.%s}}" % ORIGIN_RUN_INPUT]  # the same for every task
    assert command == ["python", "-m", "flowc.runtime", "step", "flow.py", *origin]
    for template in templates.values():
        argv = template.get("container", {}).get("args", [])
        assert not any(NASTY in item for item in argv)
        assert "sh" not in argv and "-c" not in argv and "bash" not in argv


# ---------------------------------------------------------------------------
# Refused inputs: located errors, exit 2


def test_cli_refuses_argo_expression_in_env_with_its_line(tmp_path):
    flow = tmp_path / "bad.py"
    flow.write_text(
        "from flowc import FlowSpec, environment, kubernetes, step\n\n\n"
        "class BadFlow(FlowSpec):\n"
        "    @environment(vars={'GREETING': 'hi {{workflow.name}}'})\n"
        "    @kubernetes(namespace='a')\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.next(self.end)\n\n"
        "    @kubernetes(namespace='b')\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
    )
    result = run_flowc("compile", str(flow), "-t", "argo")
    assert result.returncode == 2 and result.stdout == ""
    assert f"{flow}:5:6: error: environment variable GREETING: Argo would replace" in result.stderr
    assert f"{flow}:11:6: error: step 'end' asks for namespace 'b'" in result.stderr


def test_refuses_bad_kubernetes_values():
    """A bad toleration is normalize's error (every target); a @secrets source is a Kubernetes name only on pods."""
    source = '''
from flowc import FlowSpec, kubernetes, secrets, step

class BadValuesFlow(FlowSpec):
    @secrets(sources=["Not A Secret"])
    @step
    def start(self):
        self.next(self.end)

    @kubernetes(tolerations=[{"key": "gpu", "operatr": "Exists"}])
    @step
    def end(self):
        pass
'''
    with pytest.raises(CompileError) as caught:
        compile_flow(source, "flow.py", "argo", Options())
    assert [str(d) for d in caught.value.errors] == [
        "flow.py:10:6: error: @kubernetes(tolerations): toleration 1 has unknown key 'operatr' (did you mean "
        "'operator'?); expected key, operator, value, effect, tolerationSeconds"
    ]
    with pytest.raises(CompileError) as caught:
        compile_flow(source.replace("operatr", "operator"), "flow.py", "argo", Options())
    assert [d.location.line for d in caught.value.errors] == [5]
    assert "'Not A Secret' is not a Kubernetes Secret name" in caught.value.errors[0].message


def test_too_big_for_etcd_is_a_located_error():
    source = linear_flow_source(300, env_value="v" * 6000)
    with pytest.raises(CompileError) as caught:
        compile_flow(source, "big.py", "argo", Options())
    (error,) = caught.value.errors
    assert error.location.line == 4 and "over the 1,572,864-byte (1.5 MiB) object limit" in error.message


# ---------------------------------------------------------------------------
# Size and speed against Metaflow's numbers


def test_size_per_step_and_compile_time():
    from hera.workflows import models  # noqa: F401  (import cost measured separately from compile)

    small = compile_flow(linear_flow_source(100), "linear100.py", "argo", Options()).text
    assert len(small.encode()) < METAFLOW_100_STEP_BYTES / 3
    started = time.perf_counter()
    artifact = compile_flow(linear_flow_source(1000), "linear1000.py", "argo", Options())
    elapsed = time.perf_counter() - started
    doc = yaml.safe_load(artifact.text)
    assert argo_checks.stored_size_bytes(doc) < argo_checks.ETCD_LIMIT_BYTES / 3
    assert elapsed < 2.0, f"1,000 steps took {elapsed:.2f} s"


# ---------------------------------------------------------------------------
# Names, schedule, JSON


def test_names_are_stable_valid_and_collision_free():
    originals = [
        "start",
        "shard_join",
        "Train",
        "train",
        "_private",
        "x" * 80,
        "x" * 81,
        "main",
        "a_body",
        "step_1",
        "STEP_1",
    ]
    made = [names.step_name(o) for o in originals]
    assert made[:2] == ["start", "shard-join"]
    assert len(set(made)) == len(made)
    assert made == [names.step_name(o) for o in originals]
    for name in made + [names.body_template_name(o) for o in originals]:
        assert names.is_label(name), name
    assert "main" not in made and not any(n.endswith("-body") for n in made)


def test_cron_workflow_references_the_template():
    doc, cron = golden_docs(ROOT / "examples" / "decorators.py")
    assert cron["kind"] == "CronWorkflow"
    assert cron["spec"]["workflowSpec"] == {"workflowTemplateRef": {"name": doc["metadata"]["name"]}}
    assert cron["spec"]["schedules"] == ["30 2 * * *"] and cron["spec"]["timezone"] == "Europe/Berlin"
    assert cron["metadata"]["namespace"] == doc["metadata"]["namespace"]


def test_json_format_holds_the_same_documents():
    example = ROOT / "examples" / "decorators.py"
    text = compile_flow(example.read_bytes(), "examples/decorators.py", "argo", Options(output_format="json")).text
    listed = json.loads(text)
    assert listed["kind"] == "List" and listed["items"] == golden_docs(example)


def test_options_reach_the_manifest():
    example = ROOT / "examples" / "foreach.py"
    options = Options(
        image="registry.example/flows:1",
        datastore="s3://bucket/x",
        namespace="team",
        service_account="runner",
        max_workers=7,
        name="scoring",
    )
    doc = compiled(example.read_text(), "examples/foreach.py", options)[0]
    assert doc["metadata"]["name"] == "scoring" and doc["metadata"]["namespace"] == "team"
    assert doc["spec"]["parallelism"] == 7 and doc["spec"]["serviceAccountName"] == "runner"
    assert doc["spec"]["templateDefaults"]["container"]["image"] == "registry.example/flows:1"
    assert all("s3://bucket/x" in t["container"]["args"] for t in doc["spec"]["templates"] if "container" in t)


# ---------------------------------------------------------------------------
# Deploy.  No Argo server runs here: a small stand-in on 127.0.0.1 speaks the
# Argo Server's REST API for workflow templates and cron workflows, checks each
# body against Argo's JSON schema and the bearer token, and records it.


@pytest.fixture
def argo_server():
    server = StandInArgoServer(schema_path(), token="secret-token")
    yield server
    server.close()


def test_deploy_creates_then_updates(argo_server, tmp_path):
    datastore = tmp_path / "datastore"
    seed_built_environments(datastore, ROOT / "examples" / "decorators.py")  # its @pypi/@conda: nothing to download
    args = (
        "deploy",
        "examples/decorators.py",
        "-t",
        "argo",
        "--argo-server",
        argo_server.url,
        "--datastore",
        str(datastore),
    )
    env = {"ARGO_TOKEN": "secret-token", "FLOWC_USER": "alice"}  # @project(name="demo"): user.alice's branch
    first = run_flowc(*args, env=env)
    assert first.returncode == 0, first.stderr
    assert "created WorkflowTemplate ml/demo-user-alice-decoratedflow" in first.stdout
    assert "created CronWorkflow ml/demo-user-alice-decoratedflow" in first.stdout
    second = run_flowc(*args, env=env)
    assert second.returncode == 0, second.stderr
    assert "updated WorkflowTemplate ml/demo-user-alice-decoratedflow" in second.stdout
    assert argo_server.problems == []
    methods = [(method, path.split("?")[0]) for method, path, _ in argo_server.requests]
    assert methods.count(("POST", "/api/v1/workflow-templates/ml")) == 1
    assert methods.count(("PUT", "/api/v1/workflow-templates/ml/demo-user-alice-decoratedflow")) == 1
    assert methods.count(("PUT", "/api/v1/cron-workflows/ml/demo-user-alice-decoratedflow")) == 1
    template = argo_server.objects[("workflow-templates", "ml", "demo-user-alice-decoratedflow")]
    packages = list(datastore.glob("*/packages/*.tar.gz"))
    assert len(packages) == 1
    start_args = templates_by_name(template)["start"]["container"]["args"]
    assert start_args[-2] == "--package" and start_args[-1] == str(packages[0])


def deploy_request(example: str, tmp_path: Path, **fields):
    from flowc.deploy import DeployRequest

    options = Options(datastore=str(tmp_path / "ds"))
    shown: list[str] = []
    return DeployRequest(
        flow_path=str(ROOT / example), target="argo", options=options, echo=shown.append, **fields
    ), shown


def test_deploy_dry_run_sends_nothing(argo_server, tmp_path):
    from flowc.deploy.argo import deploy

    request, shown = deploy_request("examples/foreach.py", tmp_path, dry_run=True, argo_server=argo_server.url)
    assert deploy(request) == "foreachflow"
    assert argo_server.requests == [] and not (tmp_path / "ds").exists()
    assert any("would create or update WorkflowTemplate foreachflow" in line for line in shown)
    manifest = yaml.safe_load(shown[-1])
    assert manifest["kind"] == "WorkflowTemplate" and schema_errors(schema_path(), manifest) == []


def test_deploy_reports_refusal_and_missing_server(argo_server, tmp_path):
    from flowc.deploy import DeployError
    from flowc.deploy.argo import deploy

    request, _ = deploy_request("examples/linear.py", tmp_path, argo_server=argo_server.url, argo_token="wrong")
    with pytest.raises(DeployError, match="Argo Server refused WorkflowTemplate default/linearflow"):
        deploy(request)
    request, _ = deploy_request("examples/linear.py", tmp_path)
    with pytest.raises(DeployError, match="--argo-server"):
        deploy(request)
