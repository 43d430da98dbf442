"""Conditionals and recursion inside a task: the branch a switch chooses, and which parent task ran.

A switch task reads its condition artifact after the body, checks it against
the map its own `self.next({...}, condition=...)` passed, and writes the
choice (`branch.json`, and `--branch-out` for the orchestrator) before DONE.
The tasks after it find their parent by listing the datastore: the meeting
step takes the one parent that ran, the step after a recursion takes the last
iteration.  The contract is flowc/contract/command.py's docstring.
"""

from __future__ import annotations

import json
import os

from flowc.contract import layout
from flowc.contract.ids import iteration_task_id, split_iteration
from flowc.contract.layout import task_key
from flowc.runtime.artifacts import TaskFailure


class BranchError(TaskFailure):
    """The switch cannot choose (an unknown value, no condition, past @recursion's max): the flow is wrong,
    so the task exits EXIT_USAGE and no retry runs it again."""


def choose(flow, info, iteration: int | None) -> dict:
    """{"value": ..., "next": step} for the switch step `info` whose body has run on `flow`."""
    recorded = vars(flow).get("_switch")
    if recorded is None:
        raise BranchError(
            f"conditional step '{info.name}' ended without calling self.next({{...}}, condition=...), "
            "so no branch can be chosen"
        )
    mapping, condition = recorded
    if not isinstance(condition, str):
        raise BranchError(f"conditional step '{info.name}' passed no condition= naming an artifact")
    try:
        value = getattr(flow, condition)
    except AttributeError:
        raise BranchError(f"conditional step '{info.name}' did not set its condition artifact '{condition}'") from None
    allowed = ", ".join(repr(v) for v in mapping)
    try:
        target = mapping.get(value)
    except TypeError:  # an unhashable value cannot be a key of the map
        target = None
    if target is None:
        raise BranchError(
            f"conditional step '{info.name}': {condition} = {value!r} names no branch; allowed values: {allowed}"
        )
    if target == info.name and info.recursion_max is not None and (iteration or 0) + 1 >= info.recursion_max:
        raise BranchError(
            f"recursive step '{info.name}' chose to run again after iteration {iteration or 0}, but "
            f"@recursion(max={info.recursion_max}) allows {info.recursion_max} iterations"
        )
    return {
        layout.BRANCH_VALUE: value if isinstance(value, (str, int, float, bool)) else repr(value),
        layout.BRANCH_NEXT: target,
    }


def write_branch(store, key: str, branch: dict, branch_out: str | None) -> None:
    """branch.json in the task folder (before DONE) and, for the orchestrator, the chosen step's name."""
    store.write_text(f"{key}/{layout.BRANCH}", json.dumps(branch, sort_keys=True))
    if branch_out:
        write_branch_out(branch_out, branch[layout.BRANCH_NEXT])


def write_branch_out(path: str, step: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(step)
    os.replace(temporary, path)


def write_next_iteration_out(path: str, iteration: int) -> None:
    """`--next-iteration-out`: the next iteration's number, for an orchestrator that cannot add (Argo)."""
    write_branch_out(path, str(iteration + 1))


def read_branch(store, flow: str, run_id: str, step: str, task_id: str) -> dict | None:
    text = store.read_text(task_key(flow, run_id, step, task_id, layout.BRANCH))
    return json.loads(text) if text is not None else None


def last_iteration(store, flow: str, run_id: str, step: str, task_id: str) -> str | None:
    """The last finished iteration of recursive step `step` at `task_id` (its stored task id), by listing."""
    found = []
    for name in store.children(f"{layout.run_key(flow, run_id, step)}"):
        base, iteration = split_iteration(name)
        if base == task_id and iteration is not None:
            found.append(iteration)
    for iteration in sorted(found, reverse=True):
        stored = iteration_task_id(task_id, iteration)
        if store.exists(task_key(flow, run_id, step, stored, layout.DONE)):
            return stored
    return None
