"""Conditionals and recursion on Argo (issue 15): the manifests, Argo's limits, and runs on argo_sim.

The runs take each branch through the `route` Parameter and several recursion bounds, and compare the end
artifacts with the local run's (tests/test_conditional.py); argo_sim evaluates `when`, `depends` with
Skipped/Omitted tasks and nested DAG templates the way Argo's controller does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest
import yaml
from argo_schema import schema_errors
from flowgen import generated_flows
from hypothesis import HealthCheck, given, settings
from conftest import EXAMPLES, ROOT
from test_argo_execution import _explain
from test_argo_execution import sim as sim  # noqa: F401 - the module's argo_sim fixture

from flowc.compiler import CompileError, Options, compile_flow
from flowc.contract.command import EXIT_USAGE
from flowc.runtime.client import Run

FUZZ_EXAMPLES = int(os.environ.get("FLOWC_FUZZ_EXAMPLES", "25"))
FUZZ_RUNS = int(os.environ.get("FLOWC_FUZZ_RUNS", "3"))
SCHEMAS = ("argo-workflows.schema.json", "argo-workflows-v3.7.18.schema.json")
HEADER = "from flowc import FlowSpec, Parameter, recursion, retry, step\n\n\nclass F(FlowSpec):\n"


def flow_source(body: str) -> str:
    return HEADER + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"


def manifest(source: str, filename: str = "f.py") -> dict:
    text = compile_flow(source, filename, "argo", Options(datastore="s3://bucket/root")).text
    return next(yaml.safe_load_all(text))


def tasks_of(doc: dict, template: str = "main") -> dict:
    found = next(t for t in doc["spec"]["templates"] if t["name"] == template)
    return {t["name"]: t for t in found["dag"]["tasks"]}


def refusals(source: str) -> list[str]:
    with pytest.raises(CompileError) as caught:
        compile_flow(source, "f.py", "argo", Options(datastore="s3://bucket/root"))
    return [str(d) for d in caught.value.diagnostics]


# A branch of two steps, a branch straight to the meeting step, and one more branch: the shapes whose
# `depends` Argo's Skipped/Omitted semantics decide.
CHAIN = """
route = Parameter("route", default="a")
@step
def start(self):
    self.trail = ["start"]
    self.choice = self.route
    self.next({"a": self.a, "b": self.b, "skip": self.meet, "also-b": self.b}, condition="choice")
@step
def a(self):
    self.trail = self.trail + ["a"]
    self.next(self.a2)
@step
def a2(self):
    self.trail = self.trail + ["a2"]
    self.next(self.meet)
@step
def b(self):
    self.trail = self.trail + ["b"]
    self.next(self.meet)
@step
def meet(self):
    self.trail = self.trail + ["meet"]
    self.next(self.end)
@step
def end(self):
    pass
"""


# ---------------------------------------------------------------------------- the manifests


@pytest.mark.parametrize("schema", SCHEMAS)
@pytest.mark.parametrize("example", ("conditional", "recursive"))
def test_examples_pass_argos_schema(example, schema):
    doc = manifest((EXAMPLES / f"{example}.py").read_text(), f"{example}.py")
    assert schema_errors(ROOT / "tests" / "schemas" / schema, doc) == []


def test_branch_steps_after_the_first_wait_for_success_not_for_a_skip():
    """A bare name in `depends` also accepts Skipped: a2 would run after an unchosen a.  So it names a.Succeeded,
    and the meeting step runs after whichever branch ran (or straight after the switch)."""
    tasks = tasks_of(manifest(flow_source(CHAIN)))
    assert tasks["a"]["when"] == "'{{tasks.start.outputs.parameters.branch}}' == 'a'"
    assert tasks["b"]["when"] == "'{{tasks.start.outputs.parameters.branch}}' == 'b'"  # two values, one step
    assert tasks["a2"]["depends"] == "a.Succeeded" and "when" not in tasks["a2"]
    assert tasks["meet"]["depends"] == "(start.Succeeded && a.Skipped && b.Skipped) || a2.Succeeded || b.Succeeded"
    assert tasks["end"]["depends"] == "meet" and "when" not in tasks["meet"]


def test_a_flow_without_conditionals_keeps_bare_depends():
    doc = manifest((EXAMPLES / "branch_in_foreach.py").read_text(), "branch_in_foreach.py")
    assert all("." not in (t.get("depends") or "") and "when" not in t for t in tasks_of(doc).values()), tasks_of(doc)


def test_a_recursive_step_is_a_loop_template_that_calls_itself():
    doc = manifest((EXAMPLES / "recursive.py").read_text(), "recursive.py")
    main = tasks_of(doc)
    assert main["count"]["template"] == "count-loop"
    assert main["count"]["arguments"]["parameters"] == [{"name": "iteration", "value": "0"}]
    loop = tasks_of(doc, "count-loop")
    assert loop["again"]["template"] == "count-loop" and loop["again"]["depends"] == "count"
    assert loop["again"]["when"] == "'{{tasks.count.outputs.parameters.branch}}' == 'count'"
    assert loop["again"]["arguments"]["parameters"] == [
        {"name": "iteration", "value": "{{tasks.count.outputs.parameters.next-iteration}}"}
    ]
    step = next(t for t in doc["spec"]["templates"] if t["name"] == "count")
    args = step["container"]["args"]
    assert args[args.index("--iteration") + 1] == "{{inputs.parameters.iteration}}"
    assert "--next-iteration-out" in args and "--branch-out" in args


RECURSIVE = """
@recursion(max={max})
@step
def start(self):
    self.go = "done"
    self.next({{"again": self.start, "done": self.end}}, condition="go")
@step
def end(self):
    pass
"""


def test_more_iterations_than_argo_nests_are_refused_at_the_decorator():
    compile_flow(flow_source(RECURSIVE.format(max=97)), "f.py", "argo", Options(datastore="s3://b/r"))
    found = refusals(flow_source(RECURSIVE.format(max=98)))
    assert any(
        d.startswith("f.py:5:6: error: recursive step 'start': @recursion(max=98)") and "N <= 97" in d for d in found
    ), found


def test_the_default_bound_is_refused_at_the_step():
    source = flow_source(RECURSIVE.format(max=1).replace("@recursion(max=1)\n", ""))
    found = refusals(source)
    assert any(d.startswith("f.py:6:5: error: recursive step 'start': @recursion(max=100)") for d in found), found


def test_a_recursive_step_with_two_exits_is_refused_at_its_next():
    source = flow_source(
        """
        @recursion(max=5)
        @step
        def start(self):
            self.go = "x"
            self.next({"again": self.start, "x": self.x, "y": self.y}, condition="go")
        @step
        def x(self):
            self.next(self.end)
        @step
        def y(self):
            self.next(self.end)
        @step
        def end(self):
            pass
        """
    )
    found = refusals(source)
    assert any(d.startswith("f.py:9:9: error: recursive step 'start' has 2 exits (x, y)") for d in found), found


def test_a_step_named_like_a_loop_template_is_renamed():
    source = flow_source(
        """
        @recursion(max=3)
        @step
        def start(self):
            self.go = "done"
            self.next({"again": self.start, "done": self.start_loop}, condition="go")
        @step
        def start_loop(self):
            self.next(self.end)
        @step
        def end(self):
            pass
        """
    )
    templates = [t["name"] for t in manifest(source)["spec"]["templates"]]
    assert "start-loop" in templates and templates.count("start-loop") == 1
    assert any(name.startswith("start-loop-") for name in templates), templates


# ---------------------------------------------------------------------------- the runtime's loop counter


def test_next_iteration_out_writes_the_next_number(tmp_path):
    out = tmp_path / "next"
    argv = [
        sys.executable,
        "-m",
        "flowc.runtime",
        "step",
        "recursive.py",
        "count",
        "--run-id",
        "r1",
        "--task-id",
        "0",
        "--datastore",
        str(tmp_path / "ds"),
    ]
    done = subprocess.run(argv + ["--next-iteration-out", str(out)], capture_output=True, text=True, cwd=EXAMPLES)
    assert done.returncode == EXIT_USAGE and "--next-iteration-out needs --iteration" in done.stderr
    subprocess.run(argv + ["--iteration", "4", "--next-iteration-out", str(out)], capture_output=True, cwd=EXAMPLES)
    assert out.read_text() == "5"


def test_a_retry_after_a_failure_no_retry_changes_does_not_run_the_step(tmp_path):
    """Argo retries every non-zero exit: the runtime itself keeps exit 2 final (the step's code runs once)."""
    argv = [
        sys.executable,
        "-m",
        "flowc.runtime",
        "step",
        "conditional.py",
        "start",
        "--run-id",
        "r1",
        "--task-id",
        "0",
        "--datastore",
        str(tmp_path),
        "--param",
        "route=mid",
        "--max-attempts",
        "3",
    ]
    first = subprocess.run(argv + ["--attempt", "0"], capture_output=True, text=True, cwd=EXAMPLES)
    assert first.returncode == EXIT_USAGE and "choice = 'mid' names no branch" in first.stderr, first.stderr
    for attempt in ("1", "2"):
        again = subprocess.run(argv + ["--attempt", attempt], capture_output=True, text=True, cwd=EXAMPLES)
        assert again.returncode == EXIT_USAGE, again.stderr
        assert (
            f"attempt {attempt}) failed: not run again: attempt 0 failed with BranchError: conditional step "
            in again.stderr
            and "meeting step:" not in again.stdout
        )
    task = Run("ConditionalFlow/r1", datastore=str(tmp_path))["start"]["0"]
    assert [a["attempt"] for a in task.attempts()] == [0]


# ---------------------------------------------------------------------------- runs on argo_sim


def run_flow(sim, source: str, name: str, *params: str):
    """Run `source` as `<name>.py` from its own code folder (the pods' working dir)."""
    code = sim.root / f"code-{name}"
    code.mkdir(exist_ok=True)
    (code / f"{name}.py").write_text(source)
    return sim.run_source(source, f"{name}.py", *params, workdir=code)


def nodes(report: dict) -> list[dict]:
    found, pending = [], [report["nodes"]]
    while pending:
        node = pending.pop()
        found.append(node)
        pending += node.get("children", [])
    return found


@pytest.mark.parametrize("route, summary", (("high", "high: 400"), ("low", "low: 4")))
def test_conditional_example_takes_each_branch(sim, route, summary):  # noqa: F811
    result, report = sim.run("conditional", f"route={route}")
    assert result.returncode == 0 and report["phase"] == "Succeeded", _explain(result)
    run = sim.flow_run("conditional", report)
    assert run["end"].task.data.summary == summary
    other = "low" if route == "high" else "high"
    assert [step.name for step in run if step.name == other] == []


@pytest.mark.parametrize(
    "route, trail",
    (
        ("a", ["start", "a", "a2", "meet"]),
        ("b", ["start", "b", "meet"]),
        ("also-b", ["start", "b", "meet"]),
        ("skip", ["start", "meet"]),
    ),
)
def test_a_chain_in_an_unchosen_branch_does_not_run(sim, route, trail):  # noqa: F811
    result, report = run_flow(sim, flow_source(CHAIN), "chain", f"route={route}")
    assert result.returncode == 0 and report["phase"] == "Succeeded", _explain(result)
    run = sim.flow_run("chain", report)
    assert run["meet"].task.data.trail == trail
    assert sorted(step.name for step in run) == sorted(set(trail) | {"end"})


@pytest.mark.parametrize("bound", (1, 2, 6))
def test_recursive_example_repeats_until_the_bound(sim, bound):  # noqa: F811
    result, report = sim.run("recursive", f"bound={bound}")
    assert result.returncode == 0 and report["phase"] == "Succeeded", _explain(result)
    run = sim.flow_run("recursive", report)
    assert run["end"].task.data.iterations == list(range(bound))
    assert [t.id for t in run["count"].tasks()] == [f"0-{n}" for n in range(bound)]


def test_recursion_past_its_max_fails_once_with_the_named_cause(sim):  # noqa: F811
    source = (
        (EXAMPLES / "recursive.py")
        .read_text()
        .replace("@recursion(max=20)", "@recursion(max=3)\n    @retry(times=2)")
        .replace("recursion, step", "recursion, retry, step")
    )
    result, report = run_flow(sim, source, "deep", "bound=10")
    assert result.returncode != 0 and report["phase"] == "Failed", _explain(result)
    cause = "chose to run again after iteration 2, but @recursion(max=3) allows 3 iterations"
    pods = [n for n in nodes(report) if n.get("type") == "Pod" and n.get("template") == "count"]
    # Argo's retryStrategy cannot read exit codes without expressions, so it starts @retry's two more pods for
    # iteration 2; each exits 2 at once with the cause, without running the step again.
    assert sorted(p["phase"] for p in pods) == ["Failed"] * 3 + ["Succeeded"] * 2, pods
    assert all("exit code 2" in p.get("message", "") for p in pods if p["phase"] == "Failed"), pods
    run = sim.flow_run("deep", report)
    third = run["count"]["0-2"]
    assert [a["attempt"] for a in third.attempts()] == [0] and cause in third.attempts()[0]["error"]
    assert f"attempt 2) failed: not run again: attempt 0 failed with BranchError: recursive step 'count' {cause}" in (
        result.stderr
    ), _explain(result)
    assert "end" not in [step.name for step in run]


def test_a_conditional_inside_a_foreach_runs(sim):  # noqa: F811
    source = flow_source(
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
            self.took = self.took + "2"
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
    result, report = run_flow(sim, source, "nested")
    assert result.returncode == 0 and report["phase"] == "Succeeded", _explain(result)
    assert sim.flow_run("nested", report)["join"].task.data.took == ["a2", "b", "a2"]


def test_a_recursive_step_as_a_foreach_body_runs(sim):  # noqa: F811
    source = flow_source(
        """
        @step
        def start(self):
            self.items = [2, 3, 1]
            self.next(self.count, foreach="items")
        @recursion(max=5)
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
    result, report = run_flow(sim, source, "each")
    assert result.returncode == 0 and report["phase"] == "Succeeded", _explain(result)
    run = sim.flow_run("each", report)
    assert run["join"].task.data.counts == [2, 3, 1]
    assert sorted(t.id for t in run["count"].tasks()) == ["0-0", "0-1", "1-0", "1-1", "1-2", "2-0"]


# ---------------------------------------------------------------------------- generated flows (tests/flowgen.py)


def bounded(source: str) -> str:
    """A generated flow with @recursion(max=5) on each recursive step: the default bound (100) nests deeper than
    Argo's controller allows, which test_the_default_bound_is_refused_at_the_step covers."""
    recursive = re.findall(r"self\.next\(\{'again': self\.(\w+),", source)
    for name in recursive:
        source = source.replace(
            f"    @step\n    def {name}(self):", f"    @recursion(max=5)\n    @step\n    def {name}(self):"
        )
    return source.replace("from flowc import FlowSpec,", "from flowc import recursion, FlowSpec,", 1)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(generated_flows(conditionals=True))
def test_generated_conditional_flows_compile_and_pass_argos_schema(flow):
    source = bounded(flow.source)
    try:
        text = compile_flow(source, "generated.py", "argo", Options(datastore="s3://b/r")).text
    except CompileError as exc:  # e.g. a value Argo would substitute: refused at its line, never a crash
        assert exc.errors and all(e.location.line >= 1 for e in exc.errors)
        return
    for document in yaml.safe_load_all(text):
        assert schema_errors(ROOT / "tests" / "schemas" / SCHEMAS[0], document) == []


@settings(max_examples=FUZZ_RUNS, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    flow=generated_flows(conditionals=True).filter(
        lambda f: 4 <= f.task_count <= 20 and ("switch" in f.source or "'again'" in f.source)
    )
)
def test_generated_conditional_flows_run_on_argo_sim_as_locally(flow, sim):  # noqa: F811
    """The trace property of test_fuzz on Argo: only the chosen arms ran, each recursion once per iteration."""
    source = bounded(flow.source)
    try:
        compile_flow(source, "generated.py", "argo", Options(datastore="s3://b/r"))
    except CompileError:
        return  # refused at a line (the compile test above checks how)
    result, report = run_flow(sim, source, f"gen{len(list(sim.root.glob('code-gen*')))}")
    assert result.returncode == 0 and report["phase"] == "Succeeded", _explain(result)
    flow_folder = next(p.parent.parent for p in sim.store.glob(f"*/runs/{report['workflow']}"))
    run = Run(f"{flow_folder.name}/{report['workflow']}", datastore=str(sim.store))
    assert run["end"].task.data.trace == flow.expected_trace


NESTED_SHARED_MEETING = """
outer = Parameter("outer", default="x")
inner = Parameter("inner", default="p")
@step
def start(self):
    self.trail = ["start"]
    self.pick = self.outer
    self.next({"x": self.b, "y": self.c}, condition="pick")
@step
def b(self):
    self.trail = self.trail + ["b"]
    self.pick = self.inner
    self.next({"p": self.d, "q": self.meet}, condition="pick")
@step
def d(self):
    self.trail = self.trail + ["d"]
    self.next(self.meet)
@step
def c(self):
    self.trail = self.trail + ["c"]
    self.next(self.meet)
@step
def meet(self):
    self.trail = self.trail + ["meet"]
    self.next(self.end)
@step
def end(self):
    pass
"""


@pytest.mark.parametrize(
    "outer, inner, trail",
    (("x", "p", ["start", "b", "d", "meet"]), ("x", "q", ["start", "b", "meet"]), ("y", "p", ["start", "c", "meet"])),
)
def test_nested_conditionals_meeting_at_one_step_run_the_chosen_path(sim, outer, inner, trail):  # noqa: F811
    source = flow_source(NESTED_SHARED_MEETING)
    result, report = run_flow(sim, source, "shared", f"outer={outer}", f"inner={inner}")
    assert result.returncode == 0 and report["phase"] == "Succeeded", _explain(result)
    run = sim.flow_run("shared", report)
    assert run["meet"].task.data.trail == trail
    assert sorted(step.name for step in run) == sorted(set(trail) | {"end"})


def test_a_skypilot_step_that_chooses_is_refused_at_its_next():
    source = flow_source(CHAIN.replace("@step\ndef start", "@skypilot(cpus='2+')\n@step\ndef start", 1))
    source = source.replace("import FlowSpec,", "import FlowSpec, skypilot,", 1)
    found = refusals(source)
    assert any("step 'start' runs on SkyPilot and chooses a branch" in d for d in found), found
