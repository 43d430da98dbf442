"""Flow inheritance: a flow class deriving from another in the same file.

As in Metaflow (and Python): steps, parameters and flow decorators are
inherited; a subclass's step, parameter or decorator of the same name replaces
the base's; the runnable flow is the most derived class.
"""

from __future__ import annotations

import textwrap

import pytest

from conftest import run_flowc
from flowc.compiler import CompileError, Options, compile_flow, load_flow
from flowc.compiler.targets import available

BASE = '''
from flowc import FlowSpec, step, Parameter, retry, schedule


@schedule(daily=True)
class BaseFlow(FlowSpec):
    alpha = Parameter("alpha", default=3)

    @step
    def start(self):
        self.x = self.alpha
        self.next(self.middle)

    @retry(times=2)
    @step
    def middle(self):
        self.y = self.x + 1
        self.next(self.end)

    @step
    def end(self):
        print("result", self.y)
'''

DERIVED = (
    BASE
    + '''

class TrainFlow(BaseFlow):
    @step
    def middle(self):
        self.y = self.x * 10
        self.next(self.extra)

    @step
    def extra(self):
        self.next(self.end)
'''
)


def steps_of(flow) -> dict:
    return {s.name: s for s in flow.steps}


def test_the_most_derived_class_is_the_flow_with_the_merged_steps():
    flow, _ = load_flow(DERIVED, "flow.py")
    assert flow.name == "TrainFlow"
    assert list(steps_of(flow)) == ["start", "middle", "extra", "end"]
    assert steps_of(flow)["end"].parents == ("extra",)


def test_an_override_replaces_the_step_and_its_decorators():
    flow, _ = load_flow(DERIVED, "flow.py")
    middle = steps_of(flow)["middle"]
    assert middle.next == ("extra",)
    assert middle.retry is None  # the base's @retry went with the base's step
    assert middle.location.line == DERIVED.splitlines().index("    def middle(self):", 20) + 1
    base_flow, _ = load_flow(BASE, "flow.py")
    assert steps_of(base_flow)["middle"].retry is not None


def test_parameters_and_flow_decorators_are_inherited():
    flow, _ = load_flow(DERIVED, "flow.py")
    assert [(p.name, p.default) for p in flow.parameters] == [("alpha", 3)]
    assert flow.schedule is not None and flow.schedule.cron == "0 0 * * *"


def test_a_subclass_parameter_of_the_same_name_replaces_the_base_one():
    source = DERIVED + "    alpha = Parameter('alpha', default=7)\n"
    flow, _ = load_flow(source, "flow.py")
    assert [(p.name, p.default) for p in flow.parameters] == [("alpha", 7)]


def test_a_chain_of_three_and_a_base_without_end():
    source = textwrap.dedent('''
        from flowc import FlowSpec, step

        class A(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

        class B(A):
            @step
            def end(self):
                pass

        class C(B):
            pass
    ''')
    flow, _ = load_flow(source, "flow.py")
    assert flow.name == "C" and list(steps_of(flow)) == ["start", "end"]


def test_a_plain_method_in_the_subclass_replaces_the_base_step():
    source = BASE + "\n\nclass TrainFlow(BaseFlow):\n    def middle(self):\n        pass\n"
    with pytest.raises(CompileError, match="goes to 'middle'|'middle'.* not a step|no step 'middle'"):
        load_flow(source, "flow.py")


@pytest.mark.parametrize("target", available())
def test_base_and_derived_compile_for_every_target(target):
    with_decorators = ("skypilot",) if target == "skypilot" else ()  # SkyPilot runs only @skypilot steps
    artifact = compile_flow(DERIVED, "flow.py", target, Options(), with_decorators)
    assert "TrainFlow" in artifact.text or "trainflow" in artifact.text.lower()
    assert "extra" in artifact.text


UNRELATED = [
    (
        "two-leaves-of-one-base",
        "class F(FlowSpec):\n    pass\n\nclass G(F):\n    pass\n\nclass H(F):\n    pass\n",
        "flow.py:8:1: error: a second FlowSpec class 'H' (the first is 'G' at line 5)",
    ),
    (
        "two-flowspecs",
        "class F(FlowSpec):\n    pass\n\nclass G(FlowSpec):\n    pass\n",
        "flow.py:5:1: error: a second FlowSpec class 'G' (the first is 'F' at line 2)",
    ),
    (
        "no-consistent-order",
        "class A(FlowSpec):\n    pass\n\nclass B(A):\n    pass\n\nclass C(A, B):\n    pass\n",
        "flow.py:8:1: error: class 'C' cannot derive from these flow classes",
    ),
]


@pytest.mark.parametrize("body, expected", [u[1:] for u in UNRELATED], ids=[u[0] for u in UNRELATED])
def test_flows_that_do_not_derive_from_each_other_are_an_error(body, expected):
    with pytest.raises(CompileError) as caught:
        load_flow("from flowc import FlowSpec, step\n" + body, "flow.py")
    assert expected in str(caught.value)


def test_flowc_run_of_the_derived_flow_runs_end_to_end(tmp_path):
    flow_file = tmp_path / "train.py"
    flow_file.write_text(DERIVED)
    result = run_flowc("run", str(flow_file), "--param", "alpha=4", "--datastore", str(tmp_path / "ds"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "result 40" in result.stdout + result.stderr
    assert "4 tasks done" in result.stdout + result.stderr
