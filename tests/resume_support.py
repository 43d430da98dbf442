"""The flow the remote-resume tests run on every engine, and how they read what ran.

ResumeFlow has a linear part, a foreach and a step (`check`) that fails until a marker file exists.  Every
step appends one line to `<marks>/<step>` each time its code runs: a count the datastore cannot fake, which
proves a reused task did not run again (the task records' `origin_run_id` says the same from the datastore).
"""

from __future__ import annotations

import json
from pathlib import Path

FLOW_NAME = "ResumeFlow"
FLOW_FILE = "resume_flow.py"
SOURCE = '''\
import os

from flowc import FlowSpec, Parameter, step


def mark(folder, name):
    with open(os.path.join(folder, name), "a") as f:
        f.write("ran\\n")


class ResumeFlow(FlowSpec):
    marks = Parameter("marks", default="", help="a folder: each step appends a line to <step> when its code runs")

    @step
    def start(self):
        mark(self.marks, "start")
        self.items = [1, 2, 3]
        self.next(self.square, foreach="items")

    @step
    def square(self):
        mark(self.marks, f"square-{self.input}")
        self.value = self.input * self.input
        self.next(self.gather)

    @step
    def gather(self, inputs):
        mark(self.marks, "gather")
        self.total = sum(i.value for i in inputs)
        self.next(self.check)

    @step
    def check(self):
        mark(self.marks, "check")
        if not os.path.exists(os.path.join(self.marks, "fixed")):
            raise RuntimeError("not fixed yet")
        self.checked = self.total
        self.next(self.end)

    @step
    def end(self):
        mark(self.marks, "end")
        self.result = self.checked
'''
# (step, task id) of every task, in the order a run finishes them
TASKS = [
    ("start", "0"),
    ("square", "0"),
    ("square", "1"),
    ("square", "2"),
    ("gather", "0"),
    ("check", "0"),
    ("end", "0"),
]
UP_TO_CHECK = ["start", "square-1", "square-2", "square-3", "gather"]


def write_flow(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FLOW_FILE
    path.write_text(SOURCE)
    return path


def runs_of_code(marks: Path) -> dict[str, int]:
    """How many times each step's code ran (square per item), across every run."""
    return {p.name: len(p.read_text().splitlines()) for p in sorted(marks.iterdir()) if p.name != "fixed"}


def task_meta(store, run_id: str, step: str, task: str = "0") -> dict:
    """A task's record (meta.json) in a datastore opened with open_datastore."""
    from flowc.contract.layout import META, task_key

    return json.loads(store.read_text(task_key(FLOW_NAME, run_id, step, task, META)))


def reused_and_ran(store, run_id: str) -> tuple[list, list]:
    """The tasks of `run_id` cloned from an origin run, and those that ran in it (each finished)."""
    from flowc.contract.layout import DONE, task_key

    reused, ran = [], []
    for step, task in TASKS:
        assert store.exists(task_key(FLOW_NAME, run_id, step, task, DONE)), f"{step}/{task} of {run_id} not done"
        meta = task_meta(store, run_id, step, task)
        (reused if meta.get("origin_run_id") else ran).append((step, task))
    return reused, ran
