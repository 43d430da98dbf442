"""Conditional branches and a recursive step on the default Airflow DAG (FlowcKubernetesPodOperator), executed.

A pod's switch task reads the chosen step from the datastore's branch.json
(S3 GetObject from the worker) after its pod succeeds, and returns it as the
XCom its branches' run_if conditions read (docs/conditionals.md, Airflow).
tests/test_conditional_airflow.py runs the same examples with `--operator local`;
here each step is a pod on tests/kubernetes_standin.py with moto's S3 as the
datastore (run_on_kubernetes, tests/test_airflow_kubernetes.py), and the end
artifacts equal `flowc run`'s (tests/test_conditional.py).
"""

from __future__ import annotations

import pytest
from conftest import EXAMPLES
from test_airflow import airflow_home  # noqa: F401 - the migrated Airflow home fixture
from test_airflow_kubernetes import run_on_kubernetes


@pytest.mark.parametrize("route, summary", (("high", "high: 400"), ("low", "low: 4")))
def test_a_conditional_runs_only_the_chosen_branch_in_pods(airflow_home, aws_env, tmp_path, route, summary):  # noqa: F811
    home, _ = airflow_home
    run = run_on_kubernetes(EXAMPLES / "conditional.py", "ConditionalFlow", {"route": route}, home, aws_env, tmp_path)
    assert run.result["state"] == "success", (run.result, run.output[-4000:])
    other = {"high": "low", "low": "high"}[route]
    assert run.result["tasks"] == {
        "start": ["success"], route: ["success"], other: ["skipped"], "summarize": ["success"], "end": ["success"],
    }  # fmt: skip
    assert sorted(run.containers) == sorted(["start", route, "summarize", "end"])  # no pod for the branch not taken
    assert run.running == []
    flow_run = run.end_run("ConditionalFlow")
    assert flow_run["end"].task.data.summary == summary  # as `flowc run` computes
    assert flow_run["start"].task.branch == {"value": route, "next": route}


def test_a_recursive_step_runs_one_pod_per_iteration(airflow_home, aws_env, tmp_path):  # noqa: F811
    home, _ = airflow_home
    run = run_on_kubernetes(EXAMPLES / "recursive.py", "RecursiveFlow", {"bound": 2}, home, aws_env, tmp_path)
    assert run.result["state"] == "success", (run.result, run.output[-4000:])
    tasks = run.result["tasks"]
    assert tasks["count-0"] == tasks["count-1"] == ["success"] and tasks["end"] == ["success"]
    assert all(tasks[f"count-{i}"] == ["skipped"] for i in range(2, 20))  # unrolled to @recursion(max=20)
    assert sorted(run.containers) == ["count-0", "count-1", "end", "start"] and run.running == []
    assert run.end_run("RecursiveFlow")["end"].task.data.iterations == [0, 1]  # as `flowc run` computes
