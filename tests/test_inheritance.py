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


SPLIT_BASE = """
from flowc import FlowSpec, step


class Base(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.join)

    @step
    def b(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


class Derived(Base):
    @step
    def c(self):
        self.next(self.join)

    @step
    def a(self):
        self.next(self.c)
"""


def test_the_runtime_reads_inherited_steps_as_the_compiler_does(tmp_path):
    from flowc.runtime.graph import scan
    from flowc.runtime.loader import find_flow_class, import_flow_module

    flow_file = tmp_path / "split_inherited.py"
    flow_file.write_text(SPLIT_BASE)
    flow, _ = load_flow(SPLIT_BASE, str(flow_file))
    runtime = scan(find_flow_class(import_flow_module(str(flow_file))))
    assert {s.name: tuple(s.parents) for s in flow.steps} == {n: tuple(i.parents) for n, i in runtime.items()}
    assert steps_of(flow)["join"].parents == tuple(runtime["join"].parents) and set(runtime["join"].parents) == {
        "b",
        "c",
    }


SIBLING_BASE = '''
from metaflow import FlowSpec, step, Parameter, retry

GREETING = "hello"


class BaseFlow(FlowSpec):
    alpha = Parameter("alpha", default=2)

    @step
    def start(self):
        self.x = self.alpha
        self.next(self.middle)

    @retry(times=1)
    @step
    def middle(self):
        self.y = self.x
        self.next(self.end)

    @step
    def end(self):
        print(GREETING, self.y)
'''

SIBLING_DERIVED = '''
from metaflow import step
from base_flows import BaseFlow


class TrainFlow(BaseFlow):
    @step
    def middle(self):
        self.y = self.x * 100
        self.next(self.end)
'''


def write_sibling_flows(folder, base=SIBLING_BASE):
    (folder / "base_flows.py").write_text(base)
    flow_file = folder / "train.py"
    flow_file.write_text(SIBLING_DERIVED)
    return flow_file


def test_a_flow_class_from_a_sibling_module_is_read_without_importing_it(tmp_path):
    flow_file = write_sibling_flows(tmp_path, "import sys\nsys.exit('imported!')\n" + SIBLING_BASE)
    flow, _ = load_flow(flow_file.read_text(), str(flow_file))
    assert flow.name == "TrainFlow" and list(steps_of(flow)) == ["start", "middle", "end"]
    assert steps_of(flow)["start"].location.file == str(tmp_path / "base_flows.py")
    assert steps_of(flow)["middle"].location.file == str(flow_file) and steps_of(flow)["middle"].retry is None
    assert [(p.name, p.default) for p in flow.parameters] == [("alpha", 2)]


def test_an_error_in_the_sibling_base_is_located_in_its_file(tmp_path):
    flow_file = write_sibling_flows(tmp_path, SIBLING_BASE.replace("@retry(times=1)", "@retry(times='x')"))
    with pytest.raises(CompileError) as caught:
        load_flow(flow_file.read_text(), str(flow_file))
    line = SIBLING_BASE.splitlines().index("    @retry(times=1)") + 1
    assert f"{tmp_path / 'base_flows.py'}:{line}:" in str(caught.value)


@pytest.mark.parametrize("target", available())
def test_a_sibling_base_compiles_for_every_target(tmp_path, target):
    flow_file = write_sibling_flows(tmp_path)
    with_decorators = ("skypilot",) if target == "skypilot" else ()
    artifact = compile_flow(flow_file.read_bytes(), str(flow_file), target, Options(), with_decorators)
    assert "middle" in artifact.text and "start" in artifact.text


def test_flowc_run_of_a_flow_deriving_from_a_sibling_module(tmp_path):
    flow_file = write_sibling_flows(tmp_path)
    result = run_flowc("run", str(flow_file), "--datastore", str(tmp_path / "ds"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "hello 200" in result.stdout + result.stderr
