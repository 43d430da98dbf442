"""Run-id and task-id rules, shared by every emitter, the runtime, the runner and the client.

Task ids derive from the foreach index path: `0` outside any foreach, `3` for
the fourth child of a top-level foreach, `3.7` for the eighth child of a
foreach nested in it.  So a join finds its inputs by listing, with no help
from the orchestrator.

A recursive step (a conditional naming itself) runs as one task per
iteration: iteration N of the step whose task id would be T is the task
`T-N` (`0-0`, `0-1`, ...; `3.7-2` inside a foreach).  An orchestrator passes
`--task-id T --iteration N` and the runtime names the folder; iteration N's
parent is iteration N-1, and the step after the loop finds the last
iteration by listing.

A run id becomes one folder of the datastore's keys, so it must never climb
out of it: `.`, `..` and anything starting with `.` are refused.  Every name
an orchestrator gives a run passes (Argo workflow names `flow-abc12`, Step
Functions execution names, flowc's own `20240101T000000-a1b2c3`).
"""

from __future__ import annotations

import re

TASK_ID = re.compile(r"^\d+(\.\d+)*$")  # what --task-id takes: the foreach index path
ITERATION_TASK_ID = re.compile(r"^(\d+(?:\.\d+)*)-(\d+)$")  # a recursive step's task: T-N
ITERATION_SEPARATOR = "-"
RUN_ID = re.compile(r"^[A-Za-z0-9_:-][A-Za-z0-9_.:-]*$")
RUN_ID_MAX = 128  # above any orchestrator's run names (Step Functions: 80, Argo: 63); keys stay short
FIRST_TASK_ID = "0"  # the task id of every step outside a foreach


def is_task_id(text: str) -> bool:
    return bool(TASK_ID.fullmatch(text))


def is_stored_task_id(text: str) -> bool:
    """A task folder's name: a task id, or a recursive step's iteration (`T-N`)."""
    return is_task_id(text) or bool(ITERATION_TASK_ID.fullmatch(text))


def iteration_task_id(task_id: str, iteration: int) -> str:
    """The task of iteration `iteration` (0-based) of a recursive step whose task id would be `task_id`."""
    return f"{task_id}{ITERATION_SEPARATOR}{iteration}"


def split_iteration(stored_id: str) -> tuple[str, int | None]:
    """('3.7-2') -> ('3.7', 2); a task id without an iteration -> (it, None)."""
    found = ITERATION_TASK_ID.fullmatch(stored_id)
    return (found.group(1), int(found.group(2))) if found else (stored_id, None)


def is_run_id(text: str) -> bool:
    return bool(RUN_ID.fullmatch(text)) and len(text) <= RUN_ID_MAX


def run_id_problem(text: str) -> str | None:
    """Why `text` cannot be a run id (one line), or None."""
    if is_run_id(text):
        return None
    if len(text) > RUN_ID_MAX:
        return f"run id {text[:20]!r}... is {len(text)} characters; at most {RUN_ID_MAX}"
    return (
        f"run id {text!r} must be letters, digits and '_', '.', ':', '-', not starting with '.' "
        "(it names a folder of the datastore)"
    )


def parent_task_of_child(task_id: str) -> str:
    """The foreach step's task id for a child task `task_id` ('3' -> '0', '3.7' -> '3')."""
    head, dot, _ = task_id.rpartition(".")
    return head if dot else FIRST_TASK_ID


def child_task_ids(foreach_depth: int, task_id: str, count: int) -> list[str]:
    """The split list: task ids of the children of a foreach step at `foreach_depth` running as `task_id`."""
    if foreach_depth == 0:
        return [str(i) for i in range(count)]
    return [f"{task_id}.{i}" for i in range(count)]


def task_sort_key(task_id: str) -> tuple:
    """Orders task ids as numbers ('2' before '10', '3.2' before '3.10')."""
    base, iteration = split_iteration(task_id)
    return tuple(int(p) if p.isdigit() else p for p in base.split(".")) + ((-1 if iteration is None else iteration),)


def airflow_run_folder(airflow_run_id: str) -> str:
    """The datastore run id of an Airflow dag run: the dag run id, or (for ids with characters a datastore path
    must not hold, e.g. an asset-triggered run's `+00:00`) a cleaned copy tagged with its sha256.  The generated
    DAG's helper module (flowc/templates/airflow_helpers.py flowc_run_id) spells the same rule; a test keeps
    them equal."""
    import hashlib
    import re

    if re.fullmatch(r"[A-Za-z0-9_:-][A-Za-z0-9_.:-]*", airflow_run_id):
        return airflow_run_id
    cleaned = re.sub(r"[^A-Za-z0-9_.:-]", "_", airflow_run_id).lstrip(".")
    return f"{cleaned}-{hashlib.sha256(airflow_run_id.encode()).hexdigest()[:8]}"
