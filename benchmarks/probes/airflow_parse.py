"""Parse DAG files with Airflow's own DagBag, one file at a time (run with flowc's venv python).

    python airflow_parse.py DAG_FILE...   -> {"cold_s": .., "warm_s": .., "dags": N, "errors": {...}}

Airflow itself is imported before timing (the DAG processor has it loaded).  "cold" is the
first DagBag of the process (pays for what the DAG file imports), "warm" the median of the
next files (copies of the same DAG under other names, so nothing is cached by file name).
"""

import json
import statistics
import sys
import time

import airflow  # noqa: F401  - loaded before timing, as in Airflow's DAG processor
try:
    from airflow.dag_processing.dagbag import DagBag  # Airflow 3
except ImportError:  # Airflow 2
    from airflow.models.dagbag import DagBag

times, dags, errors = [], 0, {}
for path in sys.argv[1:]:
    t0 = time.perf_counter()
    bag = DagBag(dag_folder=path, safe_mode=False)
    times.append(time.perf_counter() - t0)
    dags += len(bag.dags)
    errors.update({k: str(v)[-400:] for k, v in bag.import_errors.items()})
print(json.dumps({"cold_s": times[0], "warm_s": statistics.median(times[1:]) if len(times) > 1 else None,
                  "dags": dags, "errors": errors}))
