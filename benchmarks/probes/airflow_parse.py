"""Parse DAG files with Airflow's own DagBag, one file at a time (run with flowc's venv python).

    python airflow_parse.py WARMUP_DAG DAG_FILE [COPY...]
      -> {"first_s": .., "rest_s": .., "dags": N, "errors": {file: traceback tail}}

Airflow is imported and WARMUP_DAG parsed before timing, as in Airflow's DAG processor,
which has Airflow loaded.  "first" is the DAG file's first parse in the process (it pays
for what the file imports), "rest" the median over renamed copies of the same file.
"""

import contextlib
import json
import statistics
import sys
import time

import airflow  # noqa: F401  - loaded before timing

try:
    from airflow.dag_processing.dagbag import DagBag  # Airflow 3
except ImportError:  # Airflow 2
    from airflow.models.dagbag import DagBag

times, dags, errors = [], 0, {}
for i, path in enumerate(sys.argv[1:]):
    with contextlib.redirect_stdout(sys.stderr):  # a DAG file may print; stdout carries only the result
        t0 = time.perf_counter()
        bag = DagBag(dag_folder=path, safe_mode=False)
        times.append(time.perf_counter() - t0)
    if i:
        dags += len(bag.dags)
        errors.update({k: str(v)[-400:] for k, v in bag.import_errors.items()})
print(
    json.dumps(
        {
            "first_s": times[1],
            "rest_s": statistics.median(times[2:]) if len(times) > 2 else None,
            "dags": dags,
            "errors": errors,
        }
    )
)
