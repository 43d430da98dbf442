"""Metaflow's Parameter shapes beyond name/default/type, each test from Metaflow's documented behaviour
(the Parameter docstring in metaflow/parameters.py, whose keyword arguments become a click option):

- `type=JSONType`: "the value must be a valid JSON object"; a default written as JSON text arrives parsed.
- `multiple=True` (click): the option may be given several times; the value is a tuple.
- `is_flag=True` (click): a boolean flag, False unless given.
- `separator=`: "Separator is only allowed for string parameters"; the text is split into a list.
- `required=True`: "Note that if a default is provide[d], the required flag is ignored" (Metaflow 2.19.39,
  the pinned peer, whose run takes the default; older docstrings said the opposite).
- a function as default: "implies that the parameter corresponds to a *deploy-time parameter*"; flowc
  cannot run it, so it is refused at its line unless the compiler can see the value (issue 14).

Each kind must mean the same on every target: examples/parameter_kinds.py runs locally and on
argo_sim (tests/test_runner.py EXPECTED), in Airflow (tests/test_airflow.py LOCAL_RUNS) and under
aws-local-stepfunctions (here), with defaults and with given values.
"""

from __future__ import annotations

import sys
import textwrap

import pytest

from conftest import EXAMPLES, run_flowc
from test_argo_execution import _explain, sim  # noqa: F401 - sim is the argo_sim fixture
from flowc.compiler import CompileError, load_flow

HEAD = "from metaflow import FlowSpec, step, Parameter, JSONType\n\ndef make_default(ctx):\n    return 'x'\n\n"
BODY = """
class F(FlowSpec):
    p = {parameter}

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""
LINE = 8  # the parameter's line in HEAD + BODY


def source(parameter: str) -> str:
    return HEAD + BODY.format(parameter=parameter)


def parameter(text: str):
    flow, warnings = load_flow(source(text), "f.py")
    return flow.parameters[0], warnings


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Parameter('cfg', type=JSONType, default='{\"a\": [1, 2]}')", ("json", {"a": [1, 2]}, False, None)),
        ("Parameter('tags', multiple=True, default=['a', 'b'])", ("str", ["a", "b"], True, None)),
        ("Parameter('seeds', multiple=True, type=int)", ("int", [], True, None)),
        ("Parameter('seeds', multiple=True, default=[1, 2])", ("int", [1, 2], True, None)),
        ("Parameter('dry', is_flag=True)", ("bool", False, False, None)),
        ("Parameter('cols', default='a,b', separator=',')", ("str", "a,b", False, ",")),
    ],
    ids=["jsontype-text-default", "multiple", "multiple-no-default", "multiple-int", "is-flag", "separator"],
)
def test_parameter_kinds_in_the_ir(text, expected):
    param, warnings = parameter(text)
    assert (param.type, param.default, param.multiple, param.separator) == expected
    assert param.has_default and not warnings


def test_required_with_a_default_keeps_the_default_with_a_warning():
    param, warnings = parameter("Parameter('x', required=True, default='kept')")
    assert (param.required, param.has_default, param.default) == (False, True, "kept")
    (warning,) = warnings
    assert str(warning).startswith(f"f.py:{LINE}:") and "required=True has no effect" in str(warning)


@pytest.mark.parametrize(
    "text,col,message",
    [
        ("Parameter('x', default=lambda ctx: 'x')", 32, "a deploy-time default (a function Metaflow calls"),
        ("Parameter('x', default=make_default)", 32, "a deploy-time default"),
        ("Parameter('x', type=int, default=1, separator=',')", 55, "separator= splits a str parameter's text"),
        ("Parameter('x', multiple=True, default='a')", 47, "multiple=True takes a list default"),
        ("Parameter('x', multiple=True, type=int, default=['a'])", 57, "is not of type int"),
        ("Parameter('x', type=JSONType, default='{not json')", 47, "the JSONType default is not JSON"),
        ("Parameter('x', is_flag=True, default='yes')", 46, "is_flag=True is a bool"),
        # the orchestrator input that carries a resume's origin (flowc/contract/command.py ORIGIN_RUN_INPUT)
        ("Parameter('flowc-origin-run', default='')", 19, "is flowc's own"),
    ],
    ids=["lambda", "function", "separator-int", "multiple-text", "multiple-type", "json-text", "flag-text", "origin"],
)
def test_refused_shapes_are_one_located_line(text, col, message):
    with pytest.raises(CompileError) as raised:
        load_flow(source(text), "f.py")
    (error,) = [str(e) for e in raised.value.errors]
    assert error.startswith(f"f.py:{LINE}:{col}: error: ") and message in error, error


def test_flowc_run_repeats_a_multiple_parameter(tmp_path):
    """click's multiple=True: `--tags x --tags y`; flowc run: `--param tags=x --param tags=y`."""
    result = run_flowc(
        "run",
        str(EXAMPLES / "parameter_kinds.py"),
        "--datastore",
        str(tmp_path / "ds"),
        "--param",
        "tags=x",
        "--param",
        "tags=y",
        "--param",
        "seeds=[4, 5]",
        "--param",
        "dry-run=true",
        "--param",
        "columns=a,b,c",
    )
    assert result.returncode == 0, result.stderr
    assert (
        "{'sizes': [64, 32], 'tags': ['x', 'y'], 'tags_is_tuple': True, 'seed_total': 9, 'dry_run': True, "
        "'columns': ['a', 'b', 'c']}"
    ) in result.stdout


def test_required_parameter_with_a_default_runs_with_the_default(tmp_path):
    """As Metaflow 2.19.39's `run` does (checked with the peer): the start step sees the default."""
    path = tmp_path / "flow.py"
    path.write_text(textwrap.dedent(source("Parameter('x', required=True, default='kept')")))
    result = run_flowc("run", str(path), "--datastore", str(tmp_path / "ds"))
    assert result.returncode == 0, result.stderr
    from flowc.runtime.client import Flow

    assert Flow("F", datastore=str(tmp_path / "ds")).latest_run["start"].task.data.p == "kept"


def test_step_functions_gives_each_kind_the_same_value(tmp_path):
    from test_step_functions import artifact, compiled, run_locally

    root = str(tmp_path / "ds")
    definition, flow = compiled("parameter_kinds", datastore=root, python=sys.executable)
    given = {"tags": '["x", "y"]', "seeds": "[7]", "dry-run": "true", "columns": "a;b,c"}
    for run_id, execution_input, expected in (
        ("kinds-default", {}, (["red", "blue"], 3, False, ["id", "name"])),
        ("kinds-given", {"parameters": given}, (["x", "y"], 7, True, ["a;b", "c"])),
    ):
        outcome = run_locally(definition, tmp_path, run_id, execution_input)
        assert outcome["status"] == "SUCCEEDED", [(c["state"], c["stderr"][-1500:]) for c in outcome["calls"]]
        summary = artifact(root, flow.name, run_id, "end", "summary")
        assert (summary["tags"], summary["seed_total"], summary["dry_run"], summary["columns"]) == expected
        assert summary["tags_is_tuple"] and summary["sizes"] == [64, 32]


def test_argo_gives_each_kind_the_same_value(sim):  # noqa: F811 - the fixture
    result, report = sim.run("parameter_kinds", 'tags=["x","y"]', "seeds=[7]", "dry-run=true", "columns=a,b,c")
    assert result.returncode == 0, _explain(result)
    summary = sim.flow_run("parameter_kinds", report)["end"].task.data.summary
    assert (summary["tags"], summary["seed_total"], summary["dry_run"], summary["columns"]) == (
        ["x", "y"],
        7,
        True,
        ["a", "b", "c"],
    )
