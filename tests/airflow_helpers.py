"""Airflow-side halves of tests/test_airflow.py, run in subprocesses (AIRFLOW_HOME in a temp dir).

    python tests/airflow_helpers.py inspect DAGS_DIR   -> JSON: each DAG's tasks, as Airflow loaded them
    python tests/airflow_helpers.py run SPEC.json      -> JSON: the state of each `dag.test()` run

Airflow's import and configuration never enter the pytest process.  The JSON
goes to the last line of stdout (Airflow logs to stdout too).
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")


def _seconds(delta) -> float | None:
    return None if delta is None else delta.total_seconds()


def _task_facts(task) -> dict:
    mapped = type(task).__name__ == "MappedOperator"
    fields = dict(task.partial_kwargs) if mapped else vars(task)
    facts = {
        "operator": task.operator_name if mapped else type(task).__name__,
        "mapped": mapped,
        "upstream": sorted(task.upstream_task_ids),
        "retries": task.retries,
        "retry_delay": _seconds(task.retry_delay) if task.retries else None,
        "execution_timeout": _seconds(task.execution_timeout),
        "trigger_rule": str(getattr(task.trigger_rule, "value", task.trigger_rule)),
    }
    for name in (
        "argv_spec",
        "foreach",
        "branch",
        "iteration",
        "run_if",
        "image",
        "namespace",
        "service_account_name",
        "pod_resources",
        "node_selector",
        "tolerations",
        "secret_names",
        "env_vars",
        "labels",
        "annotations",
        "image_pull_policy",
        "volumes",
        "volume_mounts",
    ):
        if name in fields:
            facts[name] = fields[name]
    if mapped:
        expand = task._get_specified_expand_input().value
        source = expand.get("flowc_task_id")
        facts["expand_from"] = getattr(getattr(source, "operator", None), "task_id", None)
    elif hasattr(task, "pod_operator"):
        pod = task.pod_operator(
            ["python", "-m", "flowc.runtime", "pay $$5 to $(HOST)"]
        )  # the real KubernetesPodOperator it would run
        facts["pod"] = pod_facts(pod)
    return facts


def pod_facts(pod) -> dict:
    """What the KubernetesPodOperator would ask of the cluster (no cluster runs here: its fields are the evidence)."""
    return {
        "class": type(pod).__name__,
        "bases": [c.__name__ for c in type(pod).__mro__],
        "template_fields": list(pod.template_fields),
        "image": pod.image,
        "cmds": pod.cmds,
        "arguments": pod.arguments,
        "env": dict(pod.env_vars or {}),  # a dict until the pod is built
        "limits": pod.container_resources.limits,
        "requests": pod.container_resources.requests,
        "secrets": len(pod.secrets),
        "secret_names": [s.secret for s in pod.secrets],
        "tolerations": len(pod.tolerations or []),
        "toleration_dicts": [t.to_dict() for t in pod.tolerations or []],
        "node_selector": pod.node_selector,
        "labels": pod.labels,
        "annotations": pod.annotations,
        "image_pull_policy": pod.image_pull_policy,
        "namespace": pod.namespace,
        "service_account_name": pod.service_account_name,
        "volumes": [v.to_dict() for v in pod.volumes],
        "volume_mounts": [m.to_dict() for m in pod.volume_mounts],
    }


def inspect(dags_dir: str) -> dict:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=dags_dir)
    return {
        "import_errors": {k: str(v) for k, v in bag.import_errors.items()},
        "parse_seconds": {os.path.basename(s.file): s.duration.total_seconds() for s in bag.dagbag_stats},
        "dags": {
            dag_id: {
                "file": os.path.basename(dag.fileloc),
                "schedule": repr(dag.timetable),
                "params": {name: dag.params[name] for name in dag.params},
                "tasks": {task.task_id: _task_facts(task) for task in dag.tasks},
            }
            for dag_id, dag in bag.dags.items()
        },
    }


def run(spec_path: str) -> list:
    """Each run (its file inside AIRFLOW__CORE__DAGS_FOLDER): {"file", "dag_id", "conf", "env"}
    -> {"state", "run_id", "tasks": {task: [states]}, "tries": {task: [try numbers]}}."""
    from airflow.utils.cli import get_bagged_dag  # parses and serializes to the DB, as `airflow dags test` does

    with open(spec_path, encoding="utf-8") as f:
        runs = json.load(f)
    results = []
    for item in runs:
        saved = {k: os.environ.get(k) for k in item.get("env", {})}
        os.environ.update(item.get("env", {}))
        try:
            dag = get_bagged_dag(None, item["dag_id"], dagfile_path=item["file"])
            dag_run = dag.test(run_conf=item.get("conf") or None)
            tasks: dict[str, list] = {}
            tries: dict[str, list] = {}
            for ti in dag_run.get_task_instances():
                tasks.setdefault(ti.task_id, []).append(str(ti.state))
                tries.setdefault(ti.task_id, []).append(ti.try_number)
            results.append(
                {
                    "state": str(dag_run.state),
                    "run_id": dag_run.run_id,
                    "tasks": tasks,
                    "tries": tries,
                    "asset_events": _asset_events(dag_run.run_id),
                }
            )
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails with it
            results.append({"state": "exception", "error": f"{type(exc).__name__}: {exc}"})
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    return results


def _asset_events(run_id: str) -> list:
    """The asset events the run's tasks emitted (their outlets), as [asset URI, task id]."""
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        found = session.query(AssetEvent).filter(AssetEvent.source_run_id == run_id).all()
        return sorted([event.asset.uri, event.source_task_id] for event in found)


if __name__ == "__main__":
    command, argument = sys.argv[1], sys.argv[2]
    result = inspect(argument) if command == "inspect" else run(argument)
    sys.stdout.flush()
    print("\n" + json.dumps(result, sort_keys=True, default=str))
