"""flowc/templates/airflow_helpers.py, unit-tested as a module (every generated DAG inlines its text verbatim).

Airflow never enters the pytest process (tests/test_airflow.py runs it in
subprocesses), so the module is imported here against a stand-in `airflow.sdk`
whose BaseOperator is a plain class; the operators' Airflow side is covered by
tests/test_airflow.py (DagBag import, dag.test runs, pod_operator).
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import pytest

HELPERS = Path(__file__).resolve().parents[1] / "flowc" / "templates" / "airflow_helpers.py"


@pytest.fixture()
def helpers(monkeypatch):
    sdk = types.ModuleType("airflow.sdk")
    sdk.BaseOperator = type("BaseOperator", (), {"__init__": lambda self, **kwargs: None})
    configuration = types.ModuleType("airflow.sdk.configuration")
    configuration.conf = types.SimpleNamespace(getint=lambda section, key, fallback: 3)
    monkeypatch.setitem(sys.modules, "airflow", types.ModuleType("airflow"))
    monkeypatch.setitem(sys.modules, "airflow.sdk", sdk)
    monkeypatch.setitem(sys.modules, "airflow.sdk.configuration", configuration)
    spec = importlib.util.spec_from_file_location("flowc_airflow_helpers_under_test", HELPERS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_inlines_without_a_future_import():
    """The text sits in the middle of the DAG file, where `from __future__` would be a SyntaxError."""
    import ast

    modules = [n.module for n in ast.walk(ast.parse(HELPERS.read_text())) if isinstance(n, ast.ImportFrom)]
    assert "__future__" not in modules


@pytest.mark.parametrize("run_id,expected", [
    ("manual__2024-01-01T00:00:00+00:00", "manual__2024-01-01T00:00:00_00:00-"),
    ("scheduled:ok_1", "scheduled:ok_1"),
    ("../escape", "_escape-"),
], ids=["airflow-default", "safe", "path"])
def test_flowc_run_id(helpers, run_id, expected):
    made = helpers.flowc_run_id(run_id)
    assert made.startswith(expected) and helpers.SAFE_RUN_ID.fullmatch(made)
    if run_id != expected:
        assert len(made) == len(expected) + 8  # the hash tag keeps two cleaned ids apart


@pytest.mark.parametrize("value,kind,expected", [
    ({"b": 1, "a": [1, 2]}, "json", '{"a":[1,2],"b":1}'),
    ('{"a": 1}', "json", '{"a": 1}'),
    (True, "bool", "true"),
    (3, "int", "3"),
    ("hi", "str", "hi"),
], ids=["json-value", "json-text", "bool", "int", "str"])
def test_parameter_text(helpers, value, kind, expected):
    assert helpers.parameter_text(value, kind) == expected


def test_render_argv_fills_placeholders_and_drops_unset_parameters(helpers):
    context = {"run_id": "r1", "ti": types.SimpleNamespace(try_number=2), "params": {"n": 5, "unset": None}}
    spec = [{"placeholder": "python"}, "-m", "flowc.runtime", "--run-id", {"placeholder": "run_id"},
            "--task-id", {"placeholder": "task_id"}, "--attempt", {"placeholder": "attempt"},
            "--param", ["n=", {"placeholder": "param", "name": "n", "type": "int"}],
            "--param", ["unset=", {"placeholder": "param", "name": "unset", "type": "str"}]]
    assert helpers.render_argv(spec, context, "3.1") == [sys.executable, "-m", "flowc.runtime", "--run-id", "r1",
                                                         "--task-id", "3.1", "--attempt", "1", "--param", "n=5"]


def test_check_map_length_names_the_setting(helpers):
    helpers.check_map_length([1, 2, 3], "t")
    with pytest.raises(RuntimeError, match="AIRFLOW__CORE__MAX_MAP_LENGTH"):
        helpers.concatenate_task_ids([[1, 2], [3, 4]])


def test_pod_operator_keeps_finished_values(helpers):
    op = helpers.FlowcKubernetesPodOperator(argv_spec=["python"], image="img", labels={"a": "b"},
                                            volumes=[{"name": "dshm", "empty_dir": {"medium": "Memory"}}])
    assert (op.labels, op.annotations, op.tolerations, op.volume_mounts) == ({"a": "b"}, {}, [], [])
