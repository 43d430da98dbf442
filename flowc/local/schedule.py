"""Which tasks of a local run may start once one finishes: the runner's scheduling, in time linear in tasks.

A foreach's children come from its split list in the datastore (listed once);
a join instance counts down the parent tasks it waits for; a switch task's
successors are the branch its branch.json names, or its own next iteration.
"""

from __future__ import annotations

import json
from typing import Callable

from flowc.contract import layout
from flowc.contract.ids import iteration_task_id, parent_task_of_child, split_iteration
from flowc.contract.layout import task_key
from flowc.runtime.datastore import DatastoreError


class Schedule:
    def __init__(self, flow, run_id: str, read_text: Callable[[str], str | None]):
        self.flow = flow
        self.run_id = run_id
        self.read_text = read_text
        self.join_waits: dict[tuple[str, str], int] = {}  # join instance -> parent tasks still running

    def successors(self, step_name: str, task_id: str) -> list[tuple[str, str]]:
        """Tasks that may start now that (step_name, task_id) is done: constant work per task (a foreach's
        children are listed once), so scheduling stays linear in the number of tasks."""
        step = self.flow.step(step_name)
        base, iteration = split_iteration(task_id)
        found = []
        next_steps = step.next
        if step.is_switch:  # only the chosen branch runs; a recursive step's next iteration is its own task
            chosen = self.chosen_step(step_name, task_id)
            if chosen == step_name:
                return [(step_name, iteration_task_id(base, (iteration or 0) + 1))]
            next_steps = (chosen,)
        if step.foreach_var is not None:
            split = json.loads(
                self.read_text(task_key(self.flow.name, self.run_id, step_name, task_id, layout.FOREACH))
            )
            found += [(step.next[0], self.first_task(step.next[0], child)) for child in split]
        else:
            found += [(name, self.first_task(name, base)) for name in next_steps if not self.flow.step(name).is_join]
        if step.matching_join:
            # The join instance this split or foreach opens waits for one task per parent per branch/child.
            join = self.flow.step(step.matching_join)
            width = len(split) if step.foreach_var is not None else 1
            if width:
                self.join_waits[(join.name, base)] = width * len(join.parents)
            else:  # a foreach over nothing: its join runs at once
                found.append((join.name, base))
        return found + self.joins_reached(step, base, next_steps)

    def first_task(self, step_name: str, task_id: str) -> str:
        """The task that runs `step_name` at `task_id`: a recursive step starts at its iteration 0."""
        return iteration_task_id(task_id, 0) if self.flow.step(step_name).is_recursive else task_id

    def chosen_step(self, step_name: str, task_id: str) -> str:
        """The step a finished switch task chose, from its branch.json (what the orchestrators read too)."""
        text = self.read_text(task_key(self.flow.name, self.run_id, step_name, task_id, layout.BRANCH))
        if text is None:
            raise DatastoreError(f"switch task {step_name}/{task_id} is done but wrote no {layout.BRANCH}")
        return json.loads(text)[layout.BRANCH_NEXT]

    def joins_reached(self, step, task_id: str, next_steps: tuple) -> list[tuple[str, str]]:
        """The join instances (step, task_id) completes: one fewer parent task to wait for each."""
        ready = []
        for name in next_steps:
            join = self.flow.step(name)
            if not join.is_join:
                continue
            closes_foreach = self.flow.step(join.closes).foreach_var is not None
            key = (name, parent_task_of_child(task_id) if closes_foreach else task_id)
            self.join_waits[key] -= 1
            if self.join_waits[key] == 0:
                del self.join_waits[key]
                ready.append(key)
        return ready
