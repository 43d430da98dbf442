"""Metaflow 2.16's user decorators (`user_step_decorator`, `StepMutator`, `FlowMutator`) under flowc (issue 14).

Written from Metaflow's documentation of `user_step_decorator` (its docstring): the generator
takes (step_name, flow, inputs[, attributes]), yields at most once; yielding None runs the
step, a callable replaces it, a dict skips it (USER_SKIP_STEP is the empty one); not yielding
skips the step; an exception from the step is thrown into the generator, which may handle it;
artifacts may be set after the yield.
"""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from conftest import run_flowc
from flowc.compiler import CompileError, Options, compile_flow, load_flow

HEAD = """\
import json

from metaflow import FlowSpec, StepMutator, USER_SKIP_STEP, step, user_step_decorator


@user_step_decorator
def timing(step_name, flow, inputs, attributes):
    flow.seen = (step_name, dict(attributes))
    yield
    flow.after = "set after the yield"


@user_step_decorator
def outer(step_name, flow, inputs):
    flow.order = list(getattr(flow, "order", [])) + ["outer-in"]
    yield
    flow.order = flow.order + ["outer-out"]


@user_step_decorator
def inner(step_name, flow, inputs):
    flow.order = list(getattr(flow, "order", [])) + ["inner-in"]
    yield
    flow.order = flow.order + ["inner-out"]


@user_step_decorator
def skip(step_name, flow, inputs):
    flow.skipped = True
    yield USER_SKIP_STEP


@user_step_decorator
def never(step_name, flow, inputs):
    flow.never_yielded = True
    if False:
        yield


@user_step_decorator
def replace(step_name, flow, inputs):
    def instead(self, inputs):
        self.replaced = "by the decorator"

    yield instead


@user_step_decorator
def forgive(step_name, flow, inputs):
    try:
        yield
    except ZeroDivisionError as exc:
        flow.forgiven = str(exc)


class Inspect(StepMutator):
    def mutate(self, mutable_step):
        print("specs", json.dumps(sorted(name for name, _, _, _ in mutable_step.decorator_specs)))
"""

FLOW = """
class UserDecoratedFlow(FlowSpec):
    @timing(label="x", n=2)
    @step
    def start(self):
        self.ran = ["start"]
        self.next(self.nested)

    @outer
    @inner
    @step
    def nested(self):
        self.order = self.order + ["body"]
        self.next(self.skipped_step)

    @skip
    @step
    def skipped_step(self):
        self.ran = self.ran + ["skipped_step"]
        self.next(self.not_yielding)

    @never
    @step
    def not_yielding(self):
        self.ran = self.ran + ["not_yielding"]
        self.next(self.replaced_step)

    @replace
    @step
    def replaced_step(self):
        self.ran = self.ran + ["replaced_step"]
        self.next(self.forgiven_step)

    @Inspect
    @forgive
    @step
    def forgiven_step(self):
        self.before = "stored"
        1 / 0
        self.next(self.end)

    @step
    def end(self):
        print("result", json.dumps({
            "seen": self.seen, "after": self.after, "order": self.order, "ran": self.ran,
            "skipped": self.skipped, "never_yielded": self.never_yielded, "replaced": self.replaced,
            "forgiven": self.forgiven, "before": self.before,
        }, sort_keys=True))
"""


def write(tmp_path, head=HEAD, flow=FLOW):
    path = tmp_path / "user_decorated.py"
    path.write_text(head + textwrap.dedent(flow))
    return path


def test_the_documented_protocol_runs_locally(tmp_path):
    path = write(tmp_path)
    result = run_flowc("run", str(path), "--datastore", str(tmp_path / "ds"))
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if "result {" in line)
    assert json.loads(line.split("result ", 1)[1]) == {
        "seen": ["start", {"label": "x", "n": 2}],
        "after": "set after the yield",
        "order": ["outer-in", "inner-in", "body", "inner-out", "outer-out"],
        "ran": ["start"],  # the skipped, not-yielding and replaced steps' own code did not run
        "skipped": True,
        "never_yielded": True,
        "replaced": "by the decorator",
        "forgiven": "division by zero",
        "before": "stored",
    }
    assert 'specs ["forgive"]' not in result.stdout  # user decorators are not flowc decorators
    assert "specs []" in result.stdout


def test_the_compiler_warns_that_no_target_sees_them(tmp_path):
    path = write(tmp_path)
    _, warnings = load_flow(path.read_bytes(), str(path))
    texts = [str(w) for w in warnings]
    assert any("@timing is not a flowc decorator" in t and "no compiled target sees it" in t for t in texts)
    for target in ("argo", "step-functions", "airflow"):
        assert compile_flow(path.read_bytes(), str(path), target, Options()).text


def test_the_protocol_runs_the_same_on_step_functions(tmp_path):
    """Executed on aws-local-stepfunctions: the decorators run inside each task, as locally."""
    from test_step_functions import run_locally

    from flowc.runtime.client import Run

    path = write(tmp_path)
    root = str(tmp_path / "ds")
    options = Options(datastore=root, python=sys.executable)
    definition = json.loads(compile_flow(path.read_bytes(), path.name, "step-functions", options).text)
    outcome = run_locally(definition, tmp_path, "ud-1", cwd=tmp_path)
    assert outcome["status"] == "SUCCEEDED", [(c["state"], c["stderr"][-800:]) for c in outcome["calls"]]
    end = Run("UserDecoratedFlow/ud-1", datastore=root)["end"].task.data
    assert end.order == ["outer-in", "inner-in", "body", "inner-out", "outer-out"] and end.ran == ["start"]


@pytest.mark.parametrize(
    "generator, cause",
    [
        ("    yield {'foreach': 'x'}\n", "yields ['foreach'] for self.next: a compiled flow's graph cannot change"),
        ("    yield\n    yield\n", "yields more than once"),
    ],
    ids=["next-arguments", "two-yields"],
)
def test_what_a_compiled_graph_cannot_do_is_a_named_cause(tmp_path, generator, cause):
    head = (
        "from metaflow import FlowSpec, step, user_step_decorator\n\n\n"
        "@user_step_decorator\ndef bad(step_name, flow, inputs):\n" + generator
    )
    flow = """
    class BadFlow(FlowSpec):
        @bad
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass
    """
    path = write(tmp_path, head, flow)
    result = run_flowc("run", str(path), "--datastore", str(tmp_path / "ds"))
    assert result.returncode == 2 and "FAILED (exit 2)" in result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert cause in output and "Traceback" not in output


MUTATING = """\
from metaflow import FlowSpec, StepMutator, FlowMutator, retry, step


class AddRetry(StepMutator):
    def mutate(self, mutable_step):
        mutable_step.add_decorator(retry, times=2)


class AddParameter(FlowMutator):
    def mutate(self, mutable_flow):
        mutable_flow.add_parameter("alpha", None)


@AddParameter
class MutatedFlow(FlowSpec):
    @AddRetry
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_a_mutator_that_changes_the_flow_is_a_located_error(tmp_path):
    path = tmp_path / "mutated.py"
    path.write_text(MUTATING)
    with pytest.raises(CompileError) as raised:
        load_flow(path.read_bytes(), str(path))
    assert [str(e) for e in raised.value.errors] == [
        f"{path}:6:9: error: StepMutator AddRetry adds a decorator (add_decorator): flowc compiles decorators "
        "and parameters from the source, so no target would see it; write it on the step or flow instead",
        f"{path}:11:9: error: FlowMutator AddParameter adds a parameter (add_parameter): flowc compiles "
        "decorators and parameters from the source, so no target would see it; write it on the step or flow instead",
    ]


def test_a_mutator_the_compiler_cannot_see_is_refused_in_the_task(tmp_path):
    """Imported from another module, the mutator's body is not read at compile time: the task refuses the change."""
    (tmp_path / "mutators.py").write_text(MUTATING.split("\n\n@AddParameter")[0])
    path = tmp_path / "flow.py"
    path.write_text(
        "from metaflow import FlowSpec, step\nfrom mutators import AddRetry\n\n\n"
        "class MutatedFlow(FlowSpec):\n    @AddRetry\n    @step\n    def start(self):\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n"
    )
    result = run_flowc("run", str(path), "--datastore", str(tmp_path / "ds"))
    assert result.returncode == 2, result.stderr
    assert "FAILED (exit 2)" in result.stdout + result.stderr
    assert "a mutator adds @retry to step 'start': flowc compiles decorators and parameters" in (
        result.stdout + result.stderr
    )


@pytest.mark.parametrize(
    "decorator, expected",
    [
        ("nvidia", "warning: @nvidia is not a flowc decorator (a Metaflow extension's?): no compiled target sees it"),
        ("retyr", "error: unknown decorator @retyr (did you mean 'retry'?)"),
    ],
)
def test_an_extension_decorator_warns_and_a_misspelt_one_is_an_error(tmp_path, decorator, expected):
    path = tmp_path / "ext.py"
    path.write_text(
        f"from metaflow import FlowSpec, step, {decorator}\n\n\nclass ExtFlow(FlowSpec):\n    @{decorator}\n"
        "    @step\n    def start(self):\n        self.next(self.end)\n\n    @step\n    def end(self):\n        pass\n"
    )
    result = run_flowc("check", str(path))
    assert f"{path}:5:6: {expected}" in result.stderr
    assert result.returncode == (0 if expected.startswith("warning") else 2)
