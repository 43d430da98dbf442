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
    exceptions = types.ModuleType("airflow.sdk.exceptions")
    exceptions.AirflowFailException = type("AirflowFailException", (Exception,), {})
    monkeypatch.setitem(sys.modules, "airflow.sdk.exceptions", exceptions)
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


@pytest.mark.parametrize(
    "run_id,expected",
    [
        ("manual__2024-01-01T00:00:00+00:00", "manual__2024-01-01T00:00:00_00:00-"),
        ("scheduled:ok_1", "scheduled:ok_1"),
        ("../escape", "_escape-"),
    ],
    ids=["airflow-default", "safe", "path"],
)
def test_flowc_run_id(helpers, run_id, expected):
    made = helpers.flowc_run_id(run_id)
    assert made.startswith(expected) and helpers.SAFE_RUN_ID.fullmatch(made)
    if run_id != expected:
        assert len(made) == len(expected) + 8  # the hash tag keeps two cleaned ids apart


@pytest.mark.parametrize(
    "value,kind,expected",
    [
        ({"b": 1, "a": [1, 2]}, "json", '{"a":[1,2],"b":1}'),
        ('{"a": 1}', "json", '{"a": 1}'),
        (True, "bool", "true"),
        (3, "int", "3"),
        ("hi", "str", "hi"),
    ],
    ids=["json-value", "json-text", "bool", "int", "str"],
)
def test_parameter_text(helpers, value, kind, expected):
    assert helpers.parameter_text(value, kind) == expected


def test_render_argv_fills_placeholders_and_drops_unset_parameters(helpers):
    context = {"run_id": "r1", "ti": types.SimpleNamespace(try_number=2), "params": {"n": 5, "unset": None}}
    spec = [
        {"placeholder": "python"},
        "-m",
        "flowc.runtime",
        "--run-id",
        {"placeholder": "run_id"},
        "--task-id",
        {"placeholder": "task_id"},
        "--attempt",
        {"placeholder": "attempt"},
        "--param",
        ["n=", {"placeholder": "param", "name": "n", "type": "int"}],
        "--param",
        ["unset=", {"placeholder": "param", "name": "unset", "type": "str"}],
    ]
    assert helpers.render_argv(spec, context, "3.1") == [
        sys.executable,
        "-m",
        "flowc.runtime",
        "--run-id",
        "r1",
        "--task-id",
        "3.1",
        "--attempt",
        "1",
        "--param",
        "n=5",
    ]


@pytest.mark.parametrize(
    "given, expected", [({}, ""), ({"flowc-origin-run": None}, ""), ({"flowc-origin-run": "r0/b"}, "r0/b")]
)
def test_render_argv_fills_the_origin_run_from_the_dag_param(helpers, given, expected):
    """A DAG compiled before the param existed has none, a run triggered without it has "": a fresh run."""
    context = {"run_id": "r1", "ti": types.SimpleNamespace(try_number=1), "params": given}
    spec = ["--origin-run", {"placeholder": "origin_run"}]
    assert helpers.render_argv(spec, context, "0") == ["--origin-run", expected]


def test_origin_run_input_matches_the_contract(helpers):
    """The DAG cannot import flowc, so it carries a copy of the contract's ORIGIN_RUN_INPUT: the two must agree."""
    from flowc.contract.command import ORIGIN_RUN_INPUT

    assert helpers.ORIGIN_RUN_INPUT == ORIGIN_RUN_INPUT


def test_check_map_length_names_the_setting(helpers):
    helpers.check_map_length([1, 2, 3], "t")
    with pytest.raises(RuntimeError, match="AIRFLOW__CORE__MAX_MAP_LENGTH"):
        helpers.concatenate_task_ids([[1, 2], [3, 4]])


def test_pod_operator_keeps_finished_values(helpers):
    op = helpers.FlowcKubernetesPodOperator(
        argv_spec=["python"],
        image="img",
        labels={"a": "b"},
        volumes=[{"name": "dshm", "empty_dir": {"medium": "Memory"}}],
    )
    assert (op.labels, op.annotations, op.tolerations, op.volume_mounts) == ({"a": "b"}, {}, [], [])


def kubelet_expand(text: str, variables: dict) -> str:
    """Kubernetes' expansion of container command, args and env values, ported line for line from
    k8s.io/kubernetes third_party/forked/golang/expansion/expand.go (Expand, tryReadVariableName):
    `$$` -> `$`; `$(NAME)` -> its value, or left as is when undefined; any other `$` stays."""
    out, checkpoint, cursor = [], 0, 0
    while cursor < len(text):
        if text[cursor] == "$" and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            rest = text[cursor + 1 :]
            if rest[0] == "$":
                read, advance = "$", 1
            elif rest[0] == "(":
                closer = rest.find(")", 1)
                if closer >= 0:
                    name = rest[1:closer]
                    read, advance = variables.get(name, f"$({name})"), closer + 1
                else:
                    read, advance = "$(", 1
            else:
                read, advance = "$" + rest[0], 1
            out.append(read)
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    return "".join(out) + text[checkpoint:]


HOSTILE_VALUES = [
    "pay $$5 to $(KUBERNETES_SERVICE_HOST)",
    "$(MODE)",
    "${HOME} $HOME $",
    "$$$(",
    "$(unclosed",
    "'single' \"double\" `back`",
    "line\nbreak\r\n",
    "{{ 7 * 7 }} {{ var.value.x }}",
    "$",
    "$$",
    "ends with $",
    "$(A)$(B)$$(C)",
    "é$(ü)ß",
    "",
]


def test_kubelet_expand_port_follows_kubernetes():
    """The port itself, on the cases Kubernetes documents: `$$` escapes, an undefined name stays."""
    variables = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "MODE": "prod"}
    assert kubelet_expand("pay $$5 to $(KUBERNETES_SERVICE_HOST)", variables) == "pay $5 to 10.96.0.1"
    assert kubelet_expand("$(MODE) $(NOPE) $(open", variables) == "prod $(NOPE) $(open"


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_kubelet_escape_arrives_byte_identical(helpers, value):
    variables = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "MODE": "prod", "A": "a", "B": "b", "C": "c", "ü": "u"}
    assert kubelet_expand(helpers.kubelet_escape(value), variables) == value


def test_not_retried_matches_the_contract(helpers):
    """The DAG cannot import flowc, so it carries a copy of the contract's NOT_RETRIED: the two must agree."""
    from flowc.contract.command import NOT_RETRIED

    assert tuple(helpers.NOT_RETRIED) == tuple(NOT_RETRIED)


@pytest.mark.parametrize("exit_code,no_retry", [(1, False), (2, True), (3, False), (4, True), (None, False)])
def test_step_failed_refuses_retries_only_for_not_retried_codes(helpers, exit_code, no_retry):
    failure = helpers.step_failed("train", "0", exit_code)
    assert (type(failure).__name__ == "AirflowFailException") is no_retry
    assert f"exited with {exit_code}" in str(failure)


def test_container_exit_code_reads_the_base_container(helpers):
    def status(name, exit_code):
        terminated = None if exit_code is None else types.SimpleNamespace(exit_code=exit_code)
        return types.SimpleNamespace(name=name, state=types.SimpleNamespace(terminated=terminated))

    pod = types.SimpleNamespace(
        status=types.SimpleNamespace(container_statuses=[status("airflow-xcom-sidecar", 0), status("base", 2)])
    )
    assert helpers.container_exit_code(pod) == 2
    running = types.SimpleNamespace(status=types.SimpleNamespace(container_statuses=[status("base", None)]))
    assert helpers.container_exit_code(running) is None and helpers.container_exit_code(None) is None


def test_pod_task_exiting_with_a_usage_code_is_not_retried(helpers):
    """The pod path: the provider raises on a failed pod; the operator reads the container's exit code."""
    pod_status = types.SimpleNamespace(
        container_statuses=[
            types.SimpleNamespace(
                name="base", state=types.SimpleNamespace(terminated=types.SimpleNamespace(exit_code=2))
            )
        ]
    )

    class FailingPod:
        remote_pod = types.SimpleNamespace(status=pod_status)

        def execute(self, context):
            raise RuntimeError("Pod returned a failure")

    op = helpers.FlowcKubernetesPodOperator(argv_spec=["python"], image="img")
    op.task_id, op.pod_operator = "start", lambda argv: FailingPod()
    with pytest.raises(Exception) as raised:
        op.execute({"params": {}})
    assert type(raised.value).__name__ == "AirflowFailException"
    FailingPod.remote_pod.status.container_statuses[0].state.terminated.exit_code = 1
    with pytest.raises(RuntimeError, match="Pod returned a failure"):
        op.execute({"params": {}})


def test_operators_render_no_template_fields(helpers):
    assert helpers.FlowcLocalOperator.template_fields == () == helpers.FlowcKubernetesPodOperator.template_fields


@pytest.mark.parametrize(
    "dag_run_id",
    [
        "manual__2026-11-30T11:36:11+00:00",
        "asset_triggered__2026-11-30T11:36:11.157619+00:00_x201QDbC",
        "scheduled__2026-11-30T00:00:00+00:00",
        "OperatedFlow-20261130100253-ccecbd",
        ".hidden/../x",
    ],
)
def test_the_dags_run_folder_rule_is_the_cli_s(helpers, dag_run_id):
    """`flowc status -t airflow` finds a dag run flowc did not name (asset-triggered, scheduled) where its tasks
    wrote: by the same mapping the DAG applies (contract/ids.py airflow_run_folder)."""
    from flowc.contract.ids import airflow_run_folder, is_run_id

    assert helpers.flowc_run_id(dag_run_id) == airflow_run_folder(dag_run_id)
    assert is_run_id(airflow_run_folder(dag_run_id))
