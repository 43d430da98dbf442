"""Conditional branches and recursive steps on Step Functions (issue 15): structure, limits, and runs on the engine.

Every run executes the compiled definition with aws-local-stepfunctions (tests/sfn_run.mjs, each Batch
Task a local process, each S3 read against moto's S3) and compares the end output with the local run's
(tests/test_conditional.py holds the same expectations).
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from conftest import EXAMPLES, need
from test_conditional import NESTED, flow_source
from test_step_functions import ASL_VALIDATOR, NODE, all_states, artifact, run_locally

from flowc.compiler import CompileError, Options, compile_flow
from flowc.compiler.targets import asl, step_functions_history as history, step_functions_switch as switch
from flowc.contract.command import EXIT_USAGE


def compile_source(source: str | bytes, datastore: str, filename: str = "flow.py") -> tuple[dict, object]:
    artifact_ = compile_flow(source, filename, "step-functions", Options(datastore=datastore, python=sys.executable))
    return json.loads(artifact_.text), artifact_.flow


def compile_example(name: str, datastore: str = "s3://bucket/root") -> tuple[dict, object]:
    return compile_source((EXAMPLES / f"{name}.py").read_bytes(), datastore, f"examples/{name}.py")


def refused(source: str, datastore: str = "s3://bucket/root") -> list[str]:
    with pytest.raises(CompileError) as caught:
        compile_source(source, datastore)
    return [str(d) for d in caught.value.diagnostics]


def failures(outcome: dict) -> list:
    return [(c["state"], c["exitCode"], c["stderr"][-1500:]) for c in outcome["calls"] if c["exitCode"]]


@pytest.fixture
def s3_root(aws_env):
    """A fresh bucket on moto's S3 for each test (the server lives for the session)."""
    import boto3

    bucket = f"flowc-cond-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return f"s3://{bucket}/root"


# ---------------------------------------------------------------------------- structure


def test_a_switch_reads_its_branch_json_then_chooses_by_step():
    definition, _ = compile_example("conditional")
    states = definition["States"]
    assert states["start"]["Next"] == "start-read-branch"
    read = states["start-read-branch"]
    assert read["Resource"] == "arn:aws:states:::aws-sdk:s3:getObject"
    assert read["Parameters"] == {
        "Bucket": "bucket",
        "Key.$": "States.Format('root/ConditionalFlow/runs/{}/start/0/branch.json', $$.Execution.Name)",
    }
    assert read["ResultSelector"] == {"chosen.$": "States.StringToJson($.Body)"} and read["Next"] == "start-choice"
    choice = states["start-choice"]
    assert [(r["Variable"], r["StringEquals"], r["Next"]) for r in choice["Choices"]] == [
        ("$.branch.chosen.next", "high", "high"),
        ("$.branch.chosen.next", "low", "low"),
    ]
    assert states[choice["Default"]]["Type"] == "Fail"
    assert states["high"]["Next"] == states["low"]["Next"] == "summarize"
    # Two states per switch beyond its Task: the read and the Choice.
    assert sum(1 for n in states if n.startswith("start-") and n not in ("start-failed", "start-no-branch")) == 2


def test_a_recursive_step_is_a_loop_with_its_counter_in_the_state():
    definition, _ = compile_example("recursive")
    states = definition["States"]
    assert states["start"]["Next"] == "count-first-iteration"
    assert states["count-first-iteration"]["Result"] == {"iteration": 0}
    assert states["count"]["Parameters"]["ContainerOverrides"]["Command.$"].endswith(
        "'--iteration', States.Format('{}', $.recursion.iteration))"
    )
    assert states["count-read-branch"]["Parameters"]["Key.$"] == (
        "States.Format('root/RecursiveFlow/runs/{}/count/0-{}/branch.json', $$.Execution.Name, $.recursion.iteration)"
    )
    rules = {r["StringEquals"]: r["Next"] for r in states["count-choice"]["Choices"]}
    assert rules == {"count": "count-next-iteration", "end": "end"}
    assert states["count-next-iteration"]["Parameters"] == {"iteration.$": "States.MathAdd($.recursion.iteration, 1)"}
    assert states["count-next-iteration"]["Next"] == "count"


def test_several_values_naming_one_step_share_a_rule():
    source = flow_source(
        """
        @step
        def start(self):
            self.route = "x"
            self.next({"x": self.a, "y": self.a, "z": self.b}, condition="route")
        @step
        def a(self):
            self.next(self.end)
        @step
        def b(self):
            self.next(self.end)
        @step
        def end(self):
            pass
        """
    )
    states = compile_source(source, "s3://bucket/root")[0]["States"]
    assert [r["StringEquals"] for r in states["start-choice"]["Choices"]] == ["a", "b"]


def test_a_conditional_needs_an_s3_datastore():
    problems = refused((EXAMPLES / "conditional.py").read_text(), datastore="/tmp/local-store")
    assert problems == [
        "flow.py:18:9: error: step-functions: a conditional or recursive step needs an s3://bucket/prefix "
        "datastore (the state machine reads the task's branch.json from S3), got '/tmp/local-store'; pass "
        "--datastore s3://..."
    ]


def test_every_definition_of_this_file_passes_asl_validator(tmp_path):
    need(NODE.exists() and ASL_VALIDATOR.exists(), "node_modules missing: run npm ci")
    sources = [
        (EXAMPLES / "conditional.py").read_text(),
        (EXAMPLES / "recursive.py").read_text(),
        nested_conditional_source(),
        recursive_foreach_source(),
        recursive_in_split_source(),
    ]
    paths = []
    for index, source in enumerate(sources):
        path = tmp_path / f"d{index}.json"
        path.write_text(json.dumps(compile_source(source, "s3://bucket/root")[0]))
        paths.append(path)
    args = [a for p in paths for a in ("--json-path", str(p))]
    result = subprocess.run([str(NODE), str(ASL_VALIDATOR), *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.count("is valid") == len(paths), result.stdout + result.stderr


# ---------------------------------------------------------------------------- the history budget


def recursive_with_max(bound: int) -> str:
    return (EXAMPLES / "recursive.py").read_text().replace("@recursion(max=20)", f"@recursion(max={bound})")


def test_a_recursion_that_could_pass_the_history_limit_is_refused_at_its_line():
    per_iteration = history.iteration_events(compile_example("recursive")[1].step("count"))
    assert per_iteration == 15  # Task 6, read 5, Choice 2, counter 2
    fits = 1665  # (25,000 - the rest of the execution: 24 events) // 15
    compile_source(recursive_with_max(fits), "s3://bucket/root")
    (problem,) = refused(recursive_with_max(fits + 1))
    assert problem.startswith("flow.py:20:6: error: step-functions: recursive step 'count' may run 1,666 iterations")
    assert "over Step Functions' 25,000-event limit; lower max to 1,665 or less" in problem


def test_a_recursion_past_the_limit_only_when_its_retries_fail_is_a_warning():
    def with_retry(bound: int) -> str:
        source = recursive_with_max(bound).replace(
            "    @step\n    def count", "    @retry(times=3)\n    @step\n    def count"
        )
        return source.replace("recursion, step", "recursion, retry, step")

    artifact_ = compile_flow(with_retry(1000), "flow.py", "step-functions", Options(datastore="s3://bucket/root"))
    (warning,) = [str(w) for w in artifact_.warnings]
    assert warning.startswith("flow.py:20:6: warning: step-functions: recursive step 'count' may run 1,000 iterations")
    assert "of 65 history events each if its @retry attempts fail" in warning
    (error,) = refused(with_retry(1500))  # 17 events an iteration when every attempt succeeds: 25,500 and more
    assert "error: step-functions: recursive step 'count' may run 1,500 iterations" in error
    assert "of 17 history events each, so" in error


def test_a_recursion_in_a_foreach_body_is_its_own_execution():
    source = recursive_foreach_source().replace(
        "    @step\n    def count", "    @recursion(max=1666)\n    @step\n    def count"
    )
    assert "@recursion(max=1666)" in source
    compile_source(source, "s3://bucket/root")  # a child execution holds only the loop: 4 + 1,666 x 15 events
    with pytest.raises(CompileError):  # the same bound in the top-level execution is refused
        compile_source(recursive_with_max(1666), "s3://bucket/root")


# ---------------------------------------------------------------------------- end to end on the engine


@pytest.mark.parametrize("route, summary", (("high", "high: 400"), ("low", "low: 4")))
def test_conditional_example_takes_each_branch(tmp_path, s3_root, route, summary):
    definition, flow = compile_example("conditional", s3_root)
    run_id = f"cond-{route}"
    outcome = run_locally(definition, tmp_path, run_id, {"parameters": {"route": route}})
    assert outcome["status"] == "SUCCEEDED", failures(outcome) or outcome.get("error")
    other = {"high": "low", "low": "high"}[route]
    assert [c["state"] for c in outcome["calls"]] == ["start", route, "summarize", "end"]  # never `other`
    assert other not in [c["state"] for c in outcome["calls"]]
    assert outcome["reads"] == [
        {"state": "start-read-branch", "key": f"root/ConditionalFlow/runs/{run_id}/start/0/branch.json"}
    ]
    assert artifact(s3_root, flow.name, run_id, "end", "summary") == summary  # as `flowc run` gives


def test_an_unknown_value_fails_the_switch_once_with_the_allowed_values(tmp_path, s3_root):
    definition, _ = compile_example("conditional", s3_root)
    outcome = run_locally(definition, tmp_path, "cond-mid", {"parameters": {"route": "mid"}})
    assert outcome["status"] == "FAILED" and outcome["reads"] == []
    (call,) = outcome["calls"]
    assert (
        call["exitCode"] == EXIT_USAGE
        and "choice = 'mid' names no branch; allowed values: 'high', 'low'" in call["stderr"]
    )


@pytest.mark.parametrize("bound", (1, 3))
def test_recursive_example_repeats_until_the_bound(tmp_path, s3_root, bound):
    definition, flow = compile_example("recursive", s3_root)
    run_id = f"rec-{bound}"
    outcome = run_locally(definition, tmp_path, run_id, {"parameters": {"bound": str(bound)}})
    assert outcome["status"] == "SUCCEEDED", failures(outcome) or outcome.get("error")
    counts = [c["argv"] for c in outcome["calls"] if c["state"] == "count"]
    assert [a[a.index("--iteration") + 1] for a in counts] == [str(n) for n in range(bound)]
    assert [r["key"].split("/")[-2] for r in outcome["reads"]] == [f"0-{n}" for n in range(bound)]
    assert artifact(s3_root, flow.name, run_id, "end", "iterations") == list(range(bound))  # as `flowc run` gives


def test_recursion_past_its_max_fails_with_the_runtimes_cause_and_is_not_retried(tmp_path, s3_root):
    code = tmp_path / "code"
    code.mkdir()
    source = (
        (EXAMPLES / "recursive.py")
        .read_text()
        .replace("@recursion(max=20)", "@recursion(max=3)\n    @retry(times=2)")
        .replace("recursion, step", "recursion, retry, step")
    )
    (code / "deep.py").write_text(source)
    definition, _ = compile_source(source, s3_root, "deep.py")
    outcome = run_locally(definition, tmp_path, "rec-deep", {"parameters": {"bound": "10"}}, cwd=code)
    assert outcome["status"] == "FAILED" and "no retry can change" in outcome["error"], outcome.get("error")
    counts = [c for c in outcome["calls"] if c["state"] == "count"]
    assert [c["exitCode"] for c in counts] == [0, 0, EXIT_USAGE]  # the third iteration fails once: not retried
    assert "chose to run again after iteration 2, but @recursion(max=3) allows 3 iterations" in counts[-1]["stderr"]


def nested_conditional_source() -> str:
    return flow_source(
        NESTED.replace("self.next(self.body", "self.items = ['a', 'b', 'a']\n    self.next(self.body")
        .replace('self.route = "a"', "self.route = self.input")
        .replace("def a(self):\n    self.next", "def a(self):\n    self.took = 'a'\n    self.next")
        .replace("def b(self):\n    self.next", "def b(self):\n    self.took = 'b'\n    self.next")
        .replace(
            "def join(self, inputs):\n", "def join(self, inputs):\n    self.took = sorted(i.took for i in inputs)\n"
        )
    )


def recursive_foreach_source() -> str:
    return flow_source(
        """
        @step
        def start(self):
            self.items = [2, 3, 1]
            self.next(self.count, foreach="items")
        @step
        def count(self):
            self.n = getattr(self, "n", 0) + 1
            self.go = "again" if self.n < self.input else "done"
            self.next({"again": self.count, "done": self.join}, condition="go")
        @step
        def join(self, inputs):
            self.counts = [i.n for i in inputs]
            self.next(self.end)
        @step
        def end(self):
            pass
        """
    )


def recursive_in_split_source() -> str:
    return flow_source(
        """
        @step
        def start(self):
            self.next(self.count, self.other)
        @step
        def count(self):
            self.n = getattr(self, "n", 0) + 1
            self.go = "again" if self.n < 2 else "done"
            self.next({"again": self.count, "done": self.join}, condition="go")
        @step
        def other(self):
            self.n = 0
            self.next(self.join)
        @step
        def join(self, inputs):
            self.counts = sorted(i.n for i in inputs)
            self.next(self.end)
        @step
        def end(self):
            pass
        """
    )


def run_source(tmp_path: Path, s3_root: str, source: str, run_id: str) -> tuple[dict, object]:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "flow.py").write_text(source)
    definition, flow = compile_source(source, s3_root)
    outcome = run_locally(definition, tmp_path, run_id, cwd=code, timeout=300)
    assert outcome["status"] == "SUCCEEDED", failures(outcome) or outcome.get("error")
    return outcome, flow


def test_a_conditional_inside_a_foreach_runs_each_items_branch(tmp_path, s3_root):
    outcome, flow = run_source(tmp_path, s3_root, nested_conditional_source(), "nested-1")
    assert artifact(s3_root, flow.name, "nested-1", "join", "took") == ["a", "a", "b"]  # as `flowc run` gives
    assert sorted(c["state"] for c in outcome["calls"] if c["state"] in ("a", "b")) == ["a", "a", "b"]


def test_a_recursive_step_as_a_foreach_body(tmp_path, s3_root):
    outcome, flow = run_source(tmp_path, s3_root, recursive_foreach_source(), "each-1")
    assert artifact(s3_root, flow.name, "each-1", "end", "counts") == [2, 3, 1]  # as `flowc run` gives
    tasks = sorted(r["key"].split("/")[-2] for r in outcome["reads"])
    assert tasks == ["0-0", "0-1", "1-0", "1-1", "1-2", "2-0"]
    # The exit into the join is a Succeed state: a Choice cannot end a Map iteration.
    states = compile_source(recursive_foreach_source(), s3_root)[0]["States"]
    body = next(s for _, s, _ in all_states(states) if s["Type"] == "Map")
    assert body["ItemProcessor"]["States"]["count-done"] == {"Type": "Succeed", "OutputPath": None}


def test_a_recursive_step_in_a_static_branch(tmp_path, s3_root):
    _, flow = run_source(tmp_path, s3_root, recursive_in_split_source(), "split-1")
    assert artifact(s3_root, flow.name, "split-1", "end", "counts") == [0, 2]


def test_switch_state_names_are_asl_names():
    assert all(asl.safe_name("s" + suffix) == "s" + suffix for suffix in switch.SWITCH_SUFFIXES)


# ---------------------------------------------------------------------------- generated flows (tests/flowgen.py)


def test_generated_conditional_flows_compile_and_pass_asl_validator(tmp_path):
    """Random shapes with conditionals and recursive steps (in foreach bodies, static branches, each other)."""
    from flowgen import generated_flows
    from hypothesis import given
    from test_fuzz import FUZZ

    need(NODE.exists() and ASL_VALIDATOR.exists(), "node_modules missing: run npm ci")
    paths = []

    @FUZZ
    @given(generated_flows(conditionals=True))
    def compile_one(flow):
        try:
            definition = compile_source(flow.source, "s3://bucket/root", "generated.py")[0]
        except CompileError as exc:  # many recursions in one execution may pass the history limit: located, named
            assert all(e.location.line >= 1 and "history events" in e.message for e in exc.errors), str(exc)
            return
        path = tmp_path / f"g{len(paths)}.json"
        path.write_text(json.dumps(definition))
        paths.append(path)

    compile_one()
    assert paths, "every generated flow was refused"
    args = [a for p in paths for a in ("--json-path", str(p))]
    result = subprocess.run([str(NODE), str(ASL_VALIDATOR), *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.count("is valid") == len(paths), result.stdout[-3000:]


def test_generated_conditional_flows_run_only_the_chosen_branches_on_the_engine(tmp_path, s3_root):
    """The trace property of tests/test_fuzz.py on the engine: each task once, an arm not chosen leaves no mark."""
    from flowgen import generated_flows
    from hypothesis import HealthCheck, given, settings

    flows = []

    @settings(max_examples=2, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(
        generated_flows(conditionals=True).filter(
            lambda f: 4 <= f.task_count <= 14 and ("switch" in f.source or "'again'" in f.source)
        )
    )
    def collect(flow):
        flows.append(flow)

    collect()
    for index, flow in enumerate(flows[-2:]):
        folder = tmp_path / f"gen{index}"
        folder.mkdir()
        outcome, _ = run_source(folder, s3_root, flow.source, f"gen-{index}")
        assert artifact(s3_root, "GeneratedFlow", f"gen-{index}", "end", "trace") == flow.expected_trace, flow.source
