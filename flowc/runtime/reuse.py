"""Resume: a task the origin run finished is reused by reference, unless its record or blobs are bad.

Reusing is a copy of its meta.json (naming the same content-addressed blobs),
its split list or branch choice, and DONE into the new run.  A task whose record is unreadable,
or one of whose blobs is missing or corrupt, runs again instead: reusing it
would hand the same bad bytes on, and running it writes them anew.

Both resumes use it: the local runner (`flowc resume RUN`, flowc/local/runner.py) before it starts a task,
and the runtime itself for a remote resume (`--origin-run ORIGIN[/STEP]`, flowc/contract/command.py), where
the orchestrator starts every task of the new run and each decides whether it needs to run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

from flowc.contract import layout
from flowc.contract.ids import run_id_problem
from flowc.contract.layout import task_key


@dataclass(frozen=True)
class Origin:
    """The run a remote resume reuses, and the step from which everything runs again (None: only what failed)."""

    run_id: str
    from_step: str | None = None


def parse_origin(text: str, run_id: str) -> Origin | None:
    """--origin-run "RUN" or "RUN/STEP"; "" is a fresh run (None).  ValueError names what is wrong.

    The step's name is checked against the flow later (the flow is not imported yet); the run id here,
    before it names any key of the datastore."""
    if not text:
        return None
    origin, slash, step = text.partition("/")
    problem = run_id_problem(origin)
    if problem:
        raise ValueError(f"--origin-run {text!r}: {problem}")
    if slash and not step.isidentifier():
        raise ValueError(f"--origin-run {text!r}: expected RUN or RUN/STEP, and {step!r} is not a step name")
    if origin == run_id:
        raise ValueError(f"--origin-run {text!r}: a run cannot resume itself (--run-id is {run_id!r})")
    return Origin(origin, step if slash else None)


def rerun_steps(steps: dict, from_step: str | None) -> frozenset[str]:
    """`from_step` and every step reachable from it (`steps`: name -> an object with `.next`)."""
    if from_step is None:
        return frozenset()
    seen, todo = {from_step}, [from_step]
    while todo:
        for target in steps[todo.pop()].next:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return frozenset(seen)


def clone_task(store, flow: str, origin: str, run_id: str, task: tuple[str, str], echo: Callable[[str], None]) -> bool:
    """Copy task (step, task id) of run `origin` into run `run_id`; False when it must run again."""
    step_name, task_id = task
    source = task_key(flow, origin, step_name, task_id)
    if not store.exists(f"{source}/{layout.DONE}"):
        return False
    try:
        meta = json.loads(store.read_text(f"{source}/{layout.META}"))
    except (TypeError, ValueError):  # TypeError: DONE without a record
        echo(f"[{step_name}/{task_id}] its record in run {origin} is unreadable: running it again")
        return False
    damaged = damaged_blob(store, flow, meta)
    if damaged:
        echo(f"[{step_name}/{task_id}] artifact '{damaged}' of run {origin} is corrupt: running it again")
        return False
    meta.update(run_id=run_id, origin_run_id=origin)
    target = task_key(flow, run_id, step_name, task_id)
    for name in (layout.FOREACH, layout.BRANCH):  # a foreach's split list, a switch's choice
        text = store.read_text(f"{source}/{name}")
        if text is not None:
            store.write_text(f"{target}/{name}", text)
    store.write_text(f"{target}/{layout.META}", json.dumps(meta, indent=1, sort_keys=True))
    store.write_text(f"{target}/{layout.DONE}", "")
    return True


def damaged_blob(store, flow: str, meta: dict) -> str | None:
    """The name of the first artifact of a task record whose blob is missing or corrupt, else None."""
    refs = dict(meta.get("artifacts") or {})
    items = (meta.get("foreach") or {}).get("items")
    if items:
        refs["(foreach items)"] = items
    for name, sha in sorted(refs.items()):
        if not store.blob_intact(flow, sha, thorough=True):
            return name
    return None


def record_run(store, flow: str, run_id: str, params: dict, origin: Origin | None) -> None:
    """The run record of a run an orchestrator started, written once by its first task (the start step).

    The parameters are the strings the orchestrator passed (what `flowc resume -t` passes again) and the
    origin is the run this one resumes.  A run the local runner started already has its record: kept."""
    import time

    record = {
        "flow": flow,
        "run_id": run_id,
        "params": dict(params),
        "started_at": time.time(),
        "origin_run_id": origin.run_id if origin else None,
        "origin_from_step": origin.from_step if origin else None,
    }
    store.create_text(layout.run_record_key(flow, run_id), json.dumps(record, indent=1, sort_keys=True))
