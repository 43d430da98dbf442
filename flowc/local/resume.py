"""`flowc resume`: a task the origin run finished is reused by reference, unless its record or blobs are bad.

Reusing is a copy of its meta.json (naming the same content-addressed blobs),
its split list or branch choice, and DONE into the new run.  A task whose record is unreadable,
or one of whose blobs is missing or corrupt, runs again instead: reusing it
would hand the same bad bytes on, and running it writes them anew.
"""

from __future__ import annotations

import json
from typing import Callable

from flowc.contract import layout
from flowc.contract.layout import task_key


def clone_task(store, flow: str, origin: str, run_id: str, task: tuple[str, str], echo: Callable[[str], None]) -> bool:
    """Copy task (step, task id) of run `origin` into run `run_id`; False when it must run again."""
    step_name, task_id = task
    source = task_key(flow, origin, step_name, task_id)
    if not store.exists(f"{source}/{layout.DONE}"):
        return False
    try:
        meta = json.loads(store.read_text(f"{source}/{layout.META}"))
    except ValueError:
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
