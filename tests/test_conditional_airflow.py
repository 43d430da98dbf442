"""Conditionals and recursive steps on Airflow (issue 15): the DAG's shape, and real `dag.test()` runs.

Each task below a switch decides from its parents' XComs whether it runs
(flowc/compiler/targets/airflow_conditional.py); a recursive step is unrolled
into @recursion(max=) tasks.  The runs use `--operator local` (no cluster
here), in one Airflow subprocess (tests/airflow_helpers.py run), and compare the
end step's artifacts with the local runner's (tests/test_conditional.py).
"""

from __future__ import annotations

import json
import os
import shutil
import textwrap

import pytest
from conftest import EXAMPLES, run_flowc
from test_airflow import _airflow_env, _helper, airflow_home  # noqa: F401 - airflow_home is a fixture

from flowc.compiler import CompileError, Options, compile_flow
from flowc.compiler.targets import airflow_conditional
from flowc.contract import layout
from flowc.contract.command import EXIT_USAGE
from flowc.runtime.client import Run

HEADER = "from flowc import FlowSpec, Parameter, recursion, step\n\n\nclass F(FlowSpec):\n"


def flow_source(body: str) -> str:
    return HEADER + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"


# A conditional inside a foreach: each child chooses its own branch; branch `a` has two steps.
IN_FOREACH = flow_source(
    """
    @step
    def start(self):
        self.items = ["a", "b", "a"]
        self.next(self.body, foreach="items")
    @step
    def body(self):
        self.route = self.input
        self.next({"a": self.a, "b": self.b}, condition="route")
    @step
    def a(self):
        self.took = "a"
        self.next(self.a2)
    @step
    def a2(self):
        self.took += "2"
        self.next(self.meet)
    @step
    def b(self):
        self.took = "b"
        self.next(self.meet)
    @step
    def meet(self):
        self.next(self.join)
    @step
    def join(self, inputs):
        self.took = [i.took for i in inputs]
        self.next(self.end)
    @step
    def end(self):
        pass
    """
)
# A recursive step as a foreach body: each child counts to its own item (tests/test_conditional.py's flow).
RECURSIVE_BODY = flow_source(
    """
    @step
    def start(self):
        self.items = [2, 3, 1]
        self.next(self.count, foreach="items")
    @recursion(max=4)
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
# A foreach as one branch, a nested conditional as the other: a skipped foreach step skips its mapped body.
BRANCHES_WITH_SHAPES = """from flowc import FlowSpec, Parameter, step


class F(FlowSpec):
    route = Parameter("route", default="many")
    @step
    def start(self):
        self.pick = self.route
        self.next({"many": self.many, "one": self.one, "two": self.one}, condition="pick")
    @step
    def many(self):
        self.parts = [1, 2, 3]
        self.next(self.part, foreach="parts")
    @step
    def part(self):
        self.value = self.input * 10
        self.next(self.gather)
    @step
    def gather(self, inputs):
        self.result = sum(i.value for i in inputs)
        self.next(self.meet)
    @step
    def one(self):
        self.inner = "x" if self.pick == "one" else "y"
        self.next({"x": self.x, "y": self.y}, condition="inner")
    @step
    def x(self):
        self.result = "x"
        self.next(self.inner_meet)
    @step
    def y(self):
        self.result = "y"
        self.next(self.inner_meet)
    @step
    def inner_meet(self):
        self.next(self.meet)
    @step
    def meet(self):
        self.next(self.end)
    @step
    def end(self):
        pass
"""
SOURCES = {"in_foreach": IN_FOREACH, "recursive_body": RECURSIVE_BODY, "shapes": BRANCHES_WITH_SHAPES}
# key -> (flow file stem, run conf)
RUNS = {
    "route_high": ("conditional", {"route": "high"}),
    "route_low": ("conditional", {"route": "low"}),
    "route_unknown": ("conditional", {"route": "mid"}),
    "bound_1": ("recursive", {"bound": 1}),
    "bound_5": ("recursive", {"bound": 5}),
    "bound_past_max": ("recursive", {"bound": 25}),  # @recursion(max=20)
    "in_foreach": ("in_foreach", {}),
    "recursive_body": ("recursive_body", {}),
    "shapes_many": ("shapes", {"route": "many"}),
    "shapes_two": ("shapes", {"route": "two"}),
}


@pytest.fixture(scope="module")
def runs(airflow_home, tmp_path_factory):  # noqa: F811 - the fixture imported above
    home, _ = airflow_home
    work = tmp_path_factory.mktemp("conditional_runs")
    dags, code = work / "dags", work / "code"
    dags.mkdir()
    shutil.copytree(EXAMPLES, code)
    for name, source in SOURCES.items():
        (code / f"{name}.py").write_text(source)
    specs = []
    for key, (stem, conf) in RUNS.items():
        compiled = run_flowc(
            "compile",
            str(code / f"{stem}.py"),
            *("-t", "airflow", "--operator", "local", "--name", key),
            *("--datastore", str(work / "datastore" / key), "-o", str(dags / f"{key}.py")),
            env={"FLOWC_CODE_DIR": str(code)},
        )
        assert compiled.returncode == 0, compiled.stderr
        specs.append({"key": key, "file": str(dags / f"{key}.py"), "dag_id": key, "conf": conf, "env": {}})
    spec_file = work / "spec.json"
    spec_file.write_text(json.dumps(specs))
    results, output = _helper("run", str(spec_file), _airflow_env(home, dags), timeout=900)
    return {spec["key"]: result for spec, result in zip(specs, results)}, work, output


def flow_run(work, key: str, flow: str) -> Run:
    root = work / "datastore" / key
    (run_dir,) = (root / flow / layout.RUNS).iterdir()
    return Run(f"{flow}/{run_dir.name}", datastore=str(root))


def states(result: dict, task: str) -> list[str]:
    return result["tasks"].get(task, [])


@pytest.mark.parametrize("route, other, summary", (("high", "low", "high: 400"), ("low", "high", "low: 4")))
def test_each_branch_of_the_conditional_example(runs, route, other, summary):
    """The local run's output for each value of the `route` Parameter; the other branch is skipped."""
    results, work, output = runs
    result = results[f"route_{route}"]
    assert result["state"] == "success", (result, output[-4000:])
    assert states(result, route) == ["success"] and states(result, other) == ["skipped"]
    assert states(result, "summarize") == ["success"] and states(result, "end") == ["success"]
    run = flow_run(work, f"route_{route}", "ConditionalFlow")
    assert run["end"].task.data.summary == summary
    assert run["start"].task.branch == {"value": route, "next": route}
    assert not (work / "datastore" / f"route_{route}" / layout.run_key("ConditionalFlow", run.id, other)).exists()


def test_an_unknown_branch_value_fails_once_with_the_allowed_values(runs):
    results, _, output = runs
    result = results["route_unknown"]
    assert result["state"] == "failed" and states(result, "start") == ["failed"]
    assert result["tries"]["start"] == [1]  # EXIT_USAGE: AirflowFailException, never retried
    assert "choice = 'mid' names no branch; allowed values: 'high', 'low'" in output
    assert f"exited with {EXIT_USAGE} (a usage error or a corrupt blob: retrying cannot help)" in output
    assert states(result, "summarize") == ["upstream_failed"]


@pytest.mark.parametrize("bound", (1, 5))
def test_recursive_example_runs_bound_iterations(runs, bound):
    results, work, output = runs
    result = results[f"bound_{bound}"]
    assert result["state"] == "success", (result, output[-4000:])
    ran = [i for i in range(20) if states(result, f"count-{i}") == ["success"]]
    assert ran == list(range(bound))
    assert all(states(result, f"count-{i}") == ["skipped"] for i in range(bound, 20))
    run = flow_run(work, f"bound_{bound}", "RecursiveFlow")
    assert run["end"].task.data.iterations == list(range(bound))
    assert [t.id for t in run["count"].tasks()] == [f"0-{n}" for n in range(bound)]


def test_recursion_past_its_max_fails_with_the_runtimes_named_cause(runs):
    results, _, output = runs
    result = results["bound_past_max"]
    assert result["state"] == "failed"
    assert states(result, "count-19") == ["failed"] and result["tries"]["count-19"] == [1]
    assert "chose to run again after iteration 19, but @recursion(max=20) allows 20 iterations" in output
    assert f"step count-19 (task 0) exited with {EXIT_USAGE}" in output
    assert states(result, "end") == ["upstream_failed"]


def test_conditional_inside_a_foreach_chooses_per_child(runs):
    """Children 0 and 2 take the two-step branch a -> a2, child 1 takes b: skipped per map index."""
    results, work, output = runs
    result = results["in_foreach"]
    assert result["state"] == "success", (result, output[-4000:])
    assert sorted(states(result, "a")) == sorted(states(result, "a2")) == ["skipped", "success", "success"]
    assert sorted(states(result, "b")) == ["skipped", "skipped", "success"]
    assert flow_run(work, "in_foreach", "F")["join"].task.data.took == ["a2", "b", "a2"]


def test_recursive_step_as_a_foreach_body(runs):
    results, work, output = runs
    result = results["recursive_body"]
    assert result["state"] == "success", (result, output[-4000:])
    run = flow_run(work, "recursive_body", "F")
    assert run["end"].task.data.counts == [2, 3, 1]
    assert [t.id for t in run["count"].tasks()] == ["0-0", "0-1", "1-0", "1-1", "1-2", "2-0"]


@pytest.mark.parametrize("route, result", (("many", 60), ("two", "y")))
def test_a_foreach_branch_and_a_nested_conditional(runs, route, result):
    """route=two: the foreach branch (many, its mapped body part, gather) is skipped, the inner switch takes y."""
    results, work, output = runs
    outcome = results[f"shapes_{route}"]
    assert outcome["state"] == "success", (outcome, output[-4000:])
    assert flow_run(work, f"shapes_{route}", "F")["end"].task.data.result == result
    taken = {"many": ("many", "part", "gather"), "two": ("one", "y", "inner_meet")}[route]
    skipped = {"many": ("one", "x", "y", "inner_meet"), "two": ("many", "part", "gather", "x")}[route]
    assert all("success" in states(outcome, t) for t in taken + ("meet", "end")), outcome
    assert all(set(states(outcome, t)) == {"skipped"} for t in skipped), outcome


# ---------------------------------------------------------------------------- compile-time decisions


def test_recursion_unrolled_past_the_bound_is_a_located_error():
    source = (EXAMPLES / "recursive.py").read_text().replace("@recursion(max=20)", "@recursion(max=101)")
    with pytest.raises(CompileError) as caught:
        compile_flow(source, "recursive.py", "airflow", Options())
    (message,) = [str(d) for d in caught.value.diagnostics]
    assert message.startswith("recursive.py:22:5: error: airflow: recursive step count would be unrolled into 101")
    assert "lower @recursion(max=)" in message


def test_a_skypilot_switch_is_refused_at_its_step():
    source = (
        (EXAMPLES / "conditional.py")
        .read_text()
        .replace("Parameter, step", "Parameter, skypilot, step")
        .replace("    @step\n    def start", "    @skypilot(accelerators='A100:1')\n    @step\n    def start")
    )
    with pytest.raises(CompileError) as caught:
        compile_flow(source, "conditional.py", "airflow", Options())
    assert any(
        str(d).startswith("conditional.py:16:5: error: airflow: @skypilot step start is a conditional")
        for d in caught.value.diagnostics
    ), [str(d) for d in caught.value.diagnostics]


def test_default_recursion_max_is_unrolled():
    source = (EXAMPLES / "recursive.py").read_text().replace("    @recursion(max=20)\n", "")
    text = compile_flow(source, "recursive.py", "airflow", Options()).text
    assert "task_id='count-99'" in text and "task_id='count-100'" not in text
    assert airflow_conditional.MAX_UNROLLED_ITERATIONS == 100


def test_foreach_in_a_branch_inside_a_foreach_is_refused_at_its_line():
    source = (
        IN_FOREACH.replace("def a(self):\n", "def a(self):\n        self.parts = [1, 2]\n")
        .replace("self.next(self.a2)", 'self.next(self.a2, foreach="parts")')
        .replace(
            "def meet(self):", "def a2join(self, inputs):\n        self.next(self.meet)\n    @step\n    def meet(self):"
        )
    )
    source = source.replace(
        'self.took += "2"\n        self.next(self.meet)', 'self.took = "a2"\n        self.next(self.a2join)'
    )
    with pytest.raises(CompileError) as caught:
        compile_flow(source, "f.py", "airflow", Options())
    assert any(
        "airflow: foreach step a is in a branch of conditional step body inside a foreach" in str(d)
        for d in caught.value.diagnostics
    )


# ---------------------------------------------------------------------------- the helpers the DAG inlines

from test_airflow_helpers import helpers  # noqa: E402,F401 - the fixture: the module against a stand-in airflow.sdk


def test_branch_key_is_the_contracts(helpers):  # noqa: F811
    """The DAG cannot import flowc, so it carries a copy of branch.json's key: the two must agree."""
    key = helpers.BRANCH_KEY.format(flow="F", run_id="r1", step="count", task_id="3.1-2")
    assert key == layout.task_key("F", "r1", "count", "3.1-2", layout.BRANCH)
    assert helpers.BRANCH_NEXT == layout.BRANCH_NEXT
    assert helpers.flowc_task_name("3.1", 2) == "3.1-2" and helpers.flowc_task_name("0", None) == "0"


def test_read_branch_choice_from_a_local_datastore(helpers, tmp_path):  # noqa: F811
    file = tmp_path / layout.task_key("F", "r1", "start", "0", layout.BRANCH)
    file.parent.mkdir(parents=True)
    file.write_text(json.dumps({"value": "x", "next": "low"}))
    assert helpers.read_branch_choice(str(tmp_path), "F", "r1", "start", "0") == "low"


def test_read_branch_choice_from_s3_as_the_runtime_wrote_it(helpers, aws_env, tmp_path):  # noqa: F811
    """A pod's switch task: the runtime (S3Datastore) writes branch.json, the worker's helper reads it."""
    import boto3

    from flowc.runtime.datastore import open_datastore

    boto3.client("s3").create_bucket(Bucket="branches")
    store = open_datastore("s3://branches/root/")
    store.write_text(layout.task_key("F", "r1", "count", "2-1", layout.BRANCH), json.dumps({"value": 1, "next": "end"}))
    assert helpers.read_branch_choice("s3://branches/root/", "F", "r1", "count", "2-1") == "end"


class FakeTaskInstance:
    """xcom_pull as Airflow's RuntimeTaskInstance answers it: one value at a map index, a list for a task list."""

    def __init__(self, map_index: int, xcoms: dict):
        self.map_index, self.xcoms = map_index, xcoms

    def xcom_pull(self, task_ids, map_indexes=None):
        if isinstance(task_ids, list):
            return [v for (t, _), v in sorted(self.xcoms.items()) if t in task_ids]
        return self.xcoms.get((task_ids, map_indexes))


def test_should_run_reads_its_own_map_index_or_every_instance(helpers):  # noqa: F811
    xcoms = {("body", 0): "a", ("body", 1): "b", ("a", 0): True}
    assert helpers.should_run([("body", "a", True)], FakeTaskInstance(0, xcoms))
    assert not helpers.should_run([("body", "a", True)], FakeTaskInstance(1, xcoms))
    assert helpers.should_run([("a", None, True), ("b", None, True)], FakeTaskInstance(0, xcoms))
    assert not helpers.should_run([("a", None, True), ("b", None, True)], FakeTaskInstance(1, xcoms))
    assert helpers.should_run([("body", "b", False)], FakeTaskInstance(-1, xcoms))  # a join: any instance
    assert not helpers.should_run([("body", "c", False)], FakeTaskInstance(-1, xcoms))


# ---------------------------------------------------------------------------- user values stay data; fuzz

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from flowgen import HOSTILE_TEXT, HostileFlow, generated_flows, hostile_flows  # noqa: E402

FUZZ = settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def _assigned_and_called(text: str, step: str):
    """Each call's callee (as an AST dump), counted, and every name the DAG reads but the decorated step's
    own variables (`step_<name>`, `iteration_<N>_of_<name>`: a step name is an identifier)."""
    import ast
    from collections import Counter

    tree = ast.parse(text)
    calls = Counter(ast.dump(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call))
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return calls, {n for n in names if n != f"step_{step}" and not n.endswith(f"_of_{step}")}


def _with_switches(flow: HostileFlow, key: str, values: dict | None = None) -> str:
    """The hostile flow's shape made conditional: start chooses between the decorated step and end (a
    condition value `key`), and the decorated step is recursive."""
    v = values or flow.values
    step = v["step"]
    return (
        flow.source(values)
        .replace(
            f"        self.next(self.{step})\n",
            f"        self.c = {key!r}\n        self.next({{{key!r}: self.{step}, 'other': self.end}}, condition='c')\n",
        )
        .replace(
            "        self.next(self.end)\n\n    @step\n    def end",
            f"        self.go = 'done'\n        self.next({{'again': self.{step}, 'done': self.end}}, condition='go')"
            "\n\n    @step\n    def end",
        )
    )


@FUZZ
@given(hostile_flows(), st.sampled_from([t for t in HOSTILE_TEXT if t and t != "other"]))
def test_hostile_values_in_conditional_positions_stay_data(flow, key):
    """Issue 13's AST property on the new positions: task ids, run conditions, the switch's step and datastore,
    the iteration copies; a condition value never reaches the DAG at all."""
    source = _with_switches(flow, key)
    try:
        text = compile_flow(source, flow.values["file"], "airflow", Options(**flow.options())).text
    except CompileError as exc:
        assert exc.errors and all(e.location.line >= 1 for e in exc.errors)
        return
    compile(text, "dag.py", "exec")
    plain_values = flow.plain()
    plain = compile_flow(
        _with_switches(flow, "benign", plain_values),
        plain_values["file"],
        "airflow",
        Options(**flow.options(plain_values)),
    ).text
    calls, names = _assigned_and_called(text, flow.values["step"])
    plain_calls, plain_names = _assigned_and_called(plain, plain_values["step"])
    assert calls <= plain_calls, calls - plain_calls
    assert names <= plain_names, names - plain_names
    assert "run_if=" in text and "iteration=99" in text


def test_a_step_named_like_an_iteration_keeps_its_own_variable():
    source = (
        (EXAMPLES / "recursive.py")
        .read_text()
        .replace("self.next(self.count)", "self.next(self.count_3)")
        .replace(
            "    @recursion(max=20)",
            "    @step\n    def count_3(self):\n        self.next(self.count)\n\n    @recursion(max=20)",
        )
    )
    import ast

    text = compile_flow(source, "recursive.py", "airflow", Options()).text
    tree = ast.parse(text)
    assigned = [t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)]
    assigned = [name for name in assigned if name.startswith(("step_", "iteration_"))]  # the DAG's tasks
    assert len(assigned) == len(set(assigned)) and {"step_count_3", "iteration_3_of_count"} <= set(assigned)
    assert "step_start >> step_count_3" in text and "step_count_3 >> iteration_0_of_count" in text


@FUZZ
@given(generated_flows(conditionals=True))
def test_generated_conditional_flows_compile_for_airflow_or_are_refused_at_a_line(flow):
    try:
        first = compile_flow(flow.source, "generated.py", "airflow", Options()).text
    except CompileError as exc:
        assert exc.errors and all(e.location.line >= 1 for e in exc.errors)
        return
    compile(first, "dag.py", "exec")
    assert compile_flow(flow.source, "generated.py", "airflow", Options()).text == first


@settings(
    max_examples=int(os.environ.get("FLOWC_FUZZ_AIRFLOW_RUNS", "1")),  # each is a DAG run: about a minute here
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
@given(
    flow=generated_flows(conditionals=True).filter(
        lambda f: 4 <= f.task_count <= 16 and ("switch" in f.source or "'again'" in f.source)
    )
)
def test_generated_conditional_flow_runs_on_airflow_as_it_runs_locally(flow, airflow_home, tmp_path_factory):  # noqa: F811
    """tests/test_fuzz.py's trace property on Airflow: an arm not chosen leaves no mark, a recursive step one
    per iteration, and each join saw exactly the inputs the local runner's would."""
    try:
        compile_flow(flow.source, "generated.py", "airflow", Options())
    except CompileError:
        return  # refused at a line: test_generated_conditional_flows_compile_for_airflow_or_are_refused_at_a_line
    home, _ = airflow_home
    work = tmp_path_factory.mktemp("generated_airflow")
    dags, code = work / "dags", work / "code"
    dags.mkdir()
    code.mkdir()
    (code / "generated.py").write_text(flow.source)
    compiled = run_flowc(
        "compile",
        str(code / "generated.py"),
        *("-t", "airflow", "--operator", "local", "--datastore", str(work / "ds"), "-o", str(dags / "g.py")),
        env={"FLOWC_CODE_DIR": str(code)},
    )
    assert compiled.returncode == 0, compiled.stderr
    spec = work / "spec.json"
    spec.write_text(json.dumps([{"file": str(dags / "g.py"), "dag_id": "GeneratedFlow", "conf": {}, "env": {}}]))
    (result,), output = _helper("run", str(spec), _airflow_env(home, dags), timeout=600)
    assert result["state"] == "success", (result, output[-4000:])
    (run_dir,) = (work / "ds" / "GeneratedFlow" / layout.RUNS).iterdir()
    trace = Run(f"GeneratedFlow/{run_dir.name}", datastore=str(work / "ds"))["end"].task.data.trace
    assert trace == flow.expected_trace
