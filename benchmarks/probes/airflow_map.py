"""Run flowc's foreach DAG with Airflow's dag.test(): the mapping works, and past max_map_length it fails fast.

    python airflow_map.py DAG_FILE DAG_ID LIMITED_DAG_FILE LIMITED_DAG_ID LIMIT [--import-only]

--import-only (make bench-smoke): no run; the DAG is imported and its mapped tasks listed.

AIRFLOW_HOME (migrated) and AIRFLOW__CORE__DAGS_FOLDER come from the environment.  The first DAG runs
with Airflow's configured [core] max_map_length; the second with AIRFLOW__CORE__MAX_MAP_LENGTH=LIMIT (read
by the task when it runs, as in a deployment).  The JSON goes to the last line of stdout (Airflow logs
there too); the caller greps the whole output for the setting's name.
"""

from __future__ import annotations

import json
import os
import sys
import time


def run(dag_file: str, dag_id: str) -> dict:
    from airflow.utils.cli import get_bagged_dag  # parses and serializes to the DB, as `airflow dags test` does

    started = time.perf_counter()
    dag = get_bagged_dag(None, dag_id, dagfile_path=dag_file)
    dag_run = dag.test()
    mapped: dict[str, int] = {}
    for ti in dag_run.get_task_instances():
        if ti.map_index is not None and ti.map_index >= 0:
            mapped[ti.task_id] = mapped.get(ti.task_id, 0) + 1
    return {"state": str(dag_run.state), "mapped": mapped, "seconds": time.perf_counter() - started}


def main() -> int:
    dag_file, dag_id, limited_file, limited_id, limit = sys.argv[1:6]
    from airflow.configuration import conf

    default_limit = conf.getint("core", "max_map_length")
    if "--import-only" in sys.argv:
        from airflow.dag_processing.dagbag import DagBag

        started = time.perf_counter()
        bag = DagBag(dag_folder=dag_file)
        dag = bag.dags[dag_id]
        mapped = [t.task_id for t in dag.tasks if type(t).__name__ == "MappedOperator"]
        print(
            "\n"
            + json.dumps(
                {
                    "max_map_length": default_limit,
                    "imported": mapped,
                    "errors": len(bag.import_errors),
                    "seconds": time.perf_counter() - started,
                }
            )
        )
        return 0
    plain = run(dag_file, dag_id)
    os.environ["AIRFLOW__CORE__MAX_MAP_LENGTH"] = limit
    limited = run(limited_file, limited_id)
    sys.stdout.flush()
    print("\n" + json.dumps({"max_map_length": default_limit, "plain": plain, "limited": limited}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
