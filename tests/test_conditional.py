"""Conditional branches and recursive steps (issue 15, the shared part): IR, validation, runtime, local runs.

Paired tables as in test_frontend: a source snippet -> its IR facts, or -> its
located diagnostic.  Then the run-time contract the targets render
(docs/conditionals.md): branch.json, --branch-out, --iteration and the exit
codes, and local runs of both examples for each branch value.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT, run_flowc

from flowc.compiler import CompileError, Options, compile_flow
from flowc.compiler.diagram import to_dot, to_mermaid
from flowc.compiler.ir import StepKind
from flowc.contract import layout
from flowc.contract.command import EXIT_USAGE, NOT_RETRIED
from flowc.contract.ids import iteration_task_id, split_iteration, task_sort_key
from flowc.runtime.client import Run

HEADER = "from flowc import FlowSpec, Parameter, recursion, retry, step\n\n\nclass F(FlowSpec):\n"


def flow_source(body: str) -> str:
    return HEADER + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"


def compile_ir(body: str):
    return compile_flow(flow_source(body), "f.py", "ir", Options()).flow


def diagnostics(body: str) -> list[str]:
    with pytest.raises(CompileError) as caught:
        compile_ir(body)
    return [str(d) for d in caught.value.diagnostics]


SWITCH = """
@step
def start(self):
    self.route = "a"
    self.next({"a": self.a, "b": self.b}, condition="route")
@step
def a(self):
    self.next(self.meet)
@step
def b(self):
    self.next(self.meet)
@step
def meet(self):
    self.next(self.end)
@step
def end(self):
    pass
"""

RECURSIVE = """
@step
def start(self):
    self.next(self.count)
@step
def count(self):
    self.go = "done"
    self.next({"again": self.count, "done": self.end}, condition="go")
@step
def end(self):
    pass
"""


# ---------------------------------------------------------------------------- source -> IR facts


def test_switch_ir():
    flow = compile_ir(SWITCH)
    start = flow.step("start")
    assert (start.kind, start.condition, start.switch) == (StepKind.SWITCH, "route", (("a", "a"), ("b", "b")))
    assert start.meeting == "meet" and flow.step("meet").meets == ("start",)
    assert flow.step("meet").parents == ("a", "b") and not flow.step("meet").is_join
    assert start.matching_join is None and flow.step("meet").closes is None
    assert start.recursion_max is None


def test_recursive_ir_default_bound_and_no_cycle():
    flow = compile_ir(RECURSIVE)
    count = flow.step("count")
    assert count.is_recursive and count.recursion_max == 100 and count.parents == ("start",)
    assert count.meeting == "end" and [s.name for s in flow.steps] == ["start", "count", "end"]


def test_recursion_max_from_the_decorator():
    flow = compile_ir(RECURSIVE.replace("@step\ndef count", "@recursion(max=7)\n@step\ndef count"))
    assert flow.step("count").recursion_max == 7


def test_condition_key_may_be_a_constant():
    source = "HIGH = 'h'\n" + flow_source(SWITCH.replace('{"a": self.a', '{HIGH: self.a'))
    flow = compile_flow(source, "f.py", "ir", Options()).flow
    assert flow.step("start").switch[0] == ("h", "a")


def test_branch_straight_to_the_meeting_step():
    flow = compile_ir(
        SWITCH.replace('"b": self.b}', '"b": self.meet}').replace("@step\ndef b(self):\n    self.next(self.meet)\n", "")
    )
    assert flow.step("start").meeting == "meet" and flow.step("meet").parents == ("start", "a")


NESTED = """
@step
def start(self):
    self.next(self.body, foreach="items")
@step
def body(self):
    self.route = "a"
    self.next({"a": self.a, "b": self.b}, condition="route")
@step
def a(self):
    self.next(self.meet)
@step
def b(self):
    self.next(self.meet)
@step
def meet(self):
    self.next(self.join)
@step
def join(self, inputs):
    self.next(self.end)
@step
def end(self):
    pass
"""

IN_SPLIT = """
@step
def start(self):
    self.next(self.left, self.right)
@step
def left(self):
    self.route = "a"
    self.next({"a": self.a, "b": self.b}, condition="route")
@step
def a(self):
    self.next(self.meet)
@step
def b(self):
    self.next(self.meet)
@step
def meet(self):
    self.next(self.join)
@step
def right(self):
    self.next(self.join)
@step
def join(self, inputs):
    self.next(self.end)
@step
def end(self):
    pass
"""


def test_conditional_inside_a_foreach_is_allowed():
    flow = compile_ir(NESTED)
    assert flow.step("body").meeting == "meet" and flow.step("join").closes == "start"
    assert flow.step("a").foreach_scope == ("start",) and flow.step("meet").foreach_scope == ("start",)


def test_conditional_inside_a_static_branch_is_allowed():
    flow = compile_ir(IN_SPLIT)
    assert flow.step("left").meeting == "meet" and flow.step("join").closes == "start"


# ---------------------------------------------------------------------------- source -> located diagnostic

BAD = {
    "condition not a literal": (
        SWITCH.replace('condition="route"', "condition=self.route"),
        "f.py:8:57: error: condition= must be a string literal naming an artifact, not self.route",
    ),
    "no condition": (
        SWITCH.replace(', condition="route"', ""),
        "f.py:8:9: error: a conditional self.next({...}) needs condition='artifact' naming the value to branch on",
    ),
    "value not a step": (
        SWITCH.replace('"b": self.b}', '"b": "b"}'),
        "f.py:8:38: error: a conditional maps each value to a step as self.<step>, not 'b'",
    ),
    "key not a string": (
        SWITCH.replace('"b": self.b}', "1: self.b}"),
        "f.py:8:33: error: a conditional's value must be a string literal (or a constant naming one), not 1",
    ),
    "branches never meet": (
        IN_SPLIT.replace("def b(self):\n    self.next(self.meet)", "def b(self):\n    self.next(self.join)"),
        "f.py:11:9: error: the branches of conditional 'left' ('a' -> a, 'b' -> b) do not meet at one step",
    ),
    "inputs on the meeting step": (
        SWITCH.replace("def meet(self):", "def meet(self, inputs):"),
        "f.py:16:5: error: step 'meet' is where the branches of conditional 'start' meet: only one branch runs, "
        "so it takes no inputs: def meet(self)",
    ),
    "@recursion on a step that does not recurse": (
        SWITCH.replace("@step\ndef a(self)", "@recursion(max=3)\n@step\ndef a(self)"),
        "f.py:9:6: error: @recursion on step 'a', which is not recursive",
    ),
    "@recursion(max=0)": (
        RECURSIVE.replace("@step\ndef count", "@recursion(max=0)\n@step\ndef count"),
        "f.py:8:20: error: argument 'max' of @recursion must be at least 1, got 0",
    ),
    "recursive join": (
        RECURSIVE.replace("def count(self):", "def count(self, inputs):"),
        "f.py:9:5: error: recursive step 'count' cannot be a join",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_conditional_is_a_located_error(case):
    body, expected = BAD[case]
    found = diagnostics(body)
    assert any(d.startswith(expected) for d in found), found


# ---------------------------------------------------------------------------- ids and diagrams


def test_iteration_task_ids():
    assert iteration_task_id("3.7", 2) == "3.7-2" and split_iteration("3.7-2") == ("3.7", 2)
    assert split_iteration("3") == ("3", None)
    ids = [iteration_task_id("0", n) for n in (10, 2, 0, 1)]
    assert sorted(ids, key=task_sort_key) == ["0-0", "0-1", "0-2", "0-10"]


def test_graph_labels_conditional_edges_with_escaped_values():
    flow = compile_ir(SWITCH.replace('"b": self.b', "'say \"hi\"': self.b"))
    mermaid, dot = to_mermaid(flow), to_dot(flow)
    assert 'start -->|"a"| a' in mermaid and 'start -->|"say #quot;hi#quot;"| b' in mermaid
    assert '"start" -> "b" [style=dashed, label="say \\"hi\\""];' in dot
    recursive = to_mermaid(compile_ir(RECURSIVE))
    assert 'count -->|"again"| count' in recursive and 'count -->|"done"| end' in recursive


def test_report_svg_draws_a_recursive_step():
    from flowc.runtime.graph_svg import layers, render
    from flowc.report.facts import StepFacts

    flow = compile_ir(RECURSIVE)
    steps = [StepFacts(s.name, "ok", s.next, s.foreach_var, {}, []) for s in flow.steps]
    assert layers(steps) == {"start": 0, "count": 1, "end": 2}
    assert "repeats" in render(steps, {"count": 3})


# ---------------------------------------------------------------------------- the run-time contract


def runtime(flow_file: Path, step: str, store: Path, *extra: str, task: str = "0") -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "flowc.runtime", "step", str(flow_file), step, "--run-id", "r1"]
    argv += ["--task-id", task, "--datastore", str(store), *extra]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_switch_writes_branch_json_and_branch_out(tmp_path):
    store, out = tmp_path / "ds", tmp_path / "out" / "branch"
    done = runtime(EXAMPLES / "conditional.py", "start", store, "--param", "route=low", "--branch-out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text() == "low"  # plain text: Argo's valueFrom.path, Airflow's XCom
    key = store / layout.task_key("ConditionalFlow", "r1", "start", "0", layout.BRANCH)
    assert json.loads(key.read_text()) == {"value": "low", "next": "low"}  # plain JSON: S3 getObject
    out.unlink()
    again = runtime(EXAMPLES / "conditional.py", "start", store, "--branch-out", str(out))
    assert again.returncode == 0 and out.read_text() == "low"  # an already-done task hands its choice on again
    # Only the chosen branch ran: the meeting step finds it by listing.
    assert runtime(EXAMPLES / "conditional.py", "low", store).returncode == 0
    met = runtime(EXAMPLES / "conditional.py", "summarize", store)
    assert met.returncode == 0 and "low: 4" in met.stdout + met.stderr


def test_unknown_value_fails_with_the_allowed_values_and_is_not_retried(tmp_path):
    done = runtime(EXAMPLES / "conditional.py", "start", tmp_path, "--param", "route=mid")
    assert done.returncode == EXIT_USAGE and EXIT_USAGE in NOT_RETRIED
    assert "choice = 'mid' names no branch; allowed values: 'high', 'low'" in done.stderr
    assert not (tmp_path / layout.task_key("ConditionalFlow", "r1", "start", "0", layout.DONE)).exists()


def test_iteration_flag_rules(tmp_path):
    bad = runtime(EXAMPLES / "conditional.py", "start", tmp_path, "--iteration", "1")
    assert bad.returncode == EXIT_USAGE and "not recursive" in bad.stderr
    assert runtime(EXAMPLES / "recursive.py", "start", tmp_path).returncode == 0
    past = runtime(EXAMPLES / "recursive.py", "count", tmp_path, "--iteration", "20")
    assert past.returncode == EXIT_USAGE and "past @recursion(max=20)" in past.stderr
    first = runtime(
        EXAMPLES / "recursive.py", "count", tmp_path, "--iteration", "0", "--branch-out", str(tmp_path / "b")
    )
    assert first.returncode == 0 and (tmp_path / "b").read_text() == "count"
    task = tmp_path / layout.task_key("RecursiveFlow", "r1", "count", "0-0", layout.DONE)
    assert task.exists()  # --task-id 0 --iteration 0 is the task 0-0


# ---------------------------------------------------------------------------- local runs


def local_run(flow: Path, store: Path, *args: str, env: dict | None = None):
    return run_flowc("run", str(flow), "--datastore", str(store), "--run-id", "r1", *args, env=env)


@pytest.mark.parametrize("route, summary", (("high", "high: 400"), ("low", "low: 4")))
def test_conditional_example_takes_each_branch(tmp_path, route, summary):
    done = local_run(EXAMPLES / "conditional.py", tmp_path, "--param", f"route={route}")
    assert done.returncode == 0, done.stdout + done.stderr
    run = Run("ConditionalFlow/r1", datastore=str(tmp_path))
    assert run["end"].task.data.summary == summary and f"result: {summary}" in done.stdout
    other = {"high": "low", "low": "high"}[route]
    assert not (tmp_path / layout.run_key("ConditionalFlow", "r1", other)).exists()  # the other branch never ran
    assert run["start"].task.branch == {"value": route, "next": route}


@pytest.mark.parametrize("bound", (1, 12))
def test_recursive_example_repeats_until_the_bound(tmp_path, bound):
    done = local_run(EXAMPLES / "recursive.py", tmp_path, "--param", f"bound={bound}")
    assert done.returncode == 0, done.stdout + done.stderr
    run = Run("RecursiveFlow/r1", datastore=str(tmp_path))
    assert run["end"].task.data.iterations == list(range(bound))
    tasks = run["count"].tasks()  # in iteration order, 0-10 after 0-9
    assert [t.id for t in tasks] == [f"0-{n}" for n in range(bound)] and [t.iteration for t in tasks] == list(
        range(bound)
    )


def test_recursion_past_its_max_fails_once_with_a_named_cause(tmp_path):
    flow = tmp_path / "deep.py"
    flow.write_text(
        (EXAMPLES / "recursive.py")
        .read_text()
        .replace("@recursion(max=20)", "@recursion(max=3)\n    @retry(times=2)")
        .replace("recursion, step", "recursion, retry, step")
    )
    done = local_run(flow, tmp_path / "ds", "--param", "bound=10")
    assert done.returncode == EXIT_USAGE, done.stdout + done.stderr
    assert "chose to run again after iteration 2, but @recursion(max=3) allows 3 iterations" in done.stdout
    assert "retrying" not in done.stdout  # exit 2 is not retried


def test_conditional_inside_a_foreach_and_a_static_branch_run(tmp_path):
    for name, body in (("nested", NESTED), ("in_split", IN_SPLIT)):
        source = flow_source(
            body.replace("self.next(self.body", "self.items = ['a', 'b', 'a']\n    self.next(self.body")
            .replace('self.route = "a"', "self.route = self.input" if name == "nested" else 'self.route = "b"')
            .replace("def a(self):\n    self.next", "def a(self):\n    self.took = 'a'\n    self.next")
            .replace("def b(self):\n    self.next", "def b(self):\n    self.took = 'b'\n    self.next")
            .replace(
                "def join(self, inputs):\n",
                "def join(self, inputs):\n    self.took = sorted(getattr(i, 'took', '-') for i in inputs)\n",
            )
        )
        flow = tmp_path / f"{name}.py"
        flow.write_text(source)
        done = local_run(flow, tmp_path / name)
        assert done.returncode == 0, done.stdout + done.stderr
        took = Run("F/r1", datastore=str(tmp_path / name))["join"].task.data.took
        assert took == (["a", "a", "b"] if name == "nested" else ["-", "b"]), took


def test_resume_inside_a_recursion_reuses_the_finished_iterations(tmp_path):
    flow = tmp_path / "flaky.py"
    flow.write_text(
        (EXAMPLES / "recursive.py")
        .read_text()
        .replace("from flowc import", "import os\nfrom flowc import")
        .replace(
            "        self.iterations = self.iterations + [len(self.iterations)]\n",
            "        if len(self.iterations) == 2 and os.environ.get('FAIL_AT_TWO'):\n"
            "            raise RuntimeError('iteration 2 fails')\n"
            "        self.iterations = self.iterations + [len(self.iterations)]\n",
        )
    )
    store = tmp_path / "ds"
    failed = local_run(flow, store, env={"FAIL_AT_TWO": "1"})
    assert failed.returncode == 1 and "step 'count' task 0-2" in failed.stdout
    resumed = run_flowc("resume", "RecursiveFlow/r1", "--datastore", str(store), "--run-id", "r2")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    run = Run("RecursiveFlow/r2", datastore=str(store))
    assert run["end"].task.data.iterations == [0, 1, 2, 3]
    reused = [t.id for t in run["count"].tasks() if t.meta.get("origin_run_id") == "r1"]
    assert reused == ["0-0", "0-1"]


def test_resume_across_a_conditional_reuses_the_chosen_branch(tmp_path):
    flow = tmp_path / "cond.py"
    flow.write_text(
        (EXAMPLES / "conditional.py")
        .read_text()
        .replace("from flowc import", "import os\nfrom flowc import")
        .replace(
            '        self.summary = f"', "        assert not os.environ.get('FAIL_MEET')\n        self.summary = f\""
        )
    )
    store = tmp_path / "ds"
    failed = local_run(flow, store, "--param", "route=low", env={"FAIL_MEET": "1"})
    assert failed.returncode == 1
    resumed = run_flowc("resume", "ConditionalFlow/r1", "--datastore", str(store), "--run-id", "r2")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    run = Run("ConditionalFlow/r2", datastore=str(store))
    assert run["end"].task.data.summary == "low: 4"
    assert run["low"].task.meta["origin_run_id"] == "r1" and run["start"].task.branch["next"] == "low"


def test_recursive_step_as_a_foreach_body(tmp_path):
    """Each foreach child starts its own recursion (tasks 0-0, 1-0, ...); the join reads each one's last iteration."""
    source = flow_source(
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
    flow = tmp_path / "each.py"
    flow.write_text(source)
    done = local_run(flow, tmp_path / "ds")
    assert done.returncode == 0, done.stdout + done.stderr
    run = Run("F/r1", datastore=str(tmp_path / "ds"))
    assert run["end"].task.data.counts == [2, 3, 1]
    assert [t.id for t in run["count"].tasks()] == ["0-0", "0-1", "1-0", "1-1", "1-2", "2-0"]
