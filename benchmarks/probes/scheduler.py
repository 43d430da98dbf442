"""The local runner's scheduling cost alone: a foreach of WIDTH items whose tasks are stubs.

    python benchmarks/probes/scheduler.py WIDTH [WIDTH ...]  -> one JSON line per width

Each stub task commits as the runtime would (DONE, and the foreach step's split
list, to an in-memory datastore) without starting a process, so what is measured is the runner's own CPU:
finding ready tasks, counting joins, its progress lines (sent nowhere).  Issue 17's
target: a 100,000-wide foreach in <= 5 s of runner CPU.
"""

import json
import sys
import tempfile
import time

from flowc.compiler import load_flow
from flowc.contract import layout
from flowc.contract.ids import child_task_ids
from flowc.contract.layout import task_key
from flowc.local.runner import LocalRun, RunRequest, TaskResult

FLOW = """
from flowc import FlowSpec, step

class WideFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(WIDTH))
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


class MemoryStore:
    """The datastore calls the runner makes, in memory: the stub tasks' commits cost the runner nothing."""

    root = "memory"

    def __init__(self):
        self.files: dict[str, str] = {}

    def write_text(self, key: str, text: str) -> None:
        self.files[key] = text

    def create_text(self, key: str, text: str) -> bool:
        return self.files.setdefault(key, text) is text

    def read_text(self, key: str):
        return self.files.get(key)

    def exists(self, key: str) -> bool:
        return key in self.files


class StubRun(LocalRun):
    def run_task(self, step_name: str, task_id: str) -> TaskResult:
        key = task_key(self.flow.name, self.r.run_id, step_name, task_id)
        if step_name == "start":
            self.store.write_text(f"{key}/{layout.FOREACH}", json.dumps(child_task_ids(0, task_id, self.width)))
        self.store.write_text(f"{key}/{layout.DONE}", "")
        return TaskResult(step_name, task_id, 0, 1, 0.0)


def measure(width: int) -> dict:
    flow, _ = load_flow(FLOW.replace("WIDTH", str(width)), "wide.py")
    with tempfile.TemporaryDirectory() as folder:
        run = StubRun(
            RunRequest(
                flow=flow,
                flow_path=f"{folder}/wide.py",
                datastore=folder,
                run_id="r",
                max_workers=8,
                echo=lambda line: None,
                show_output=False,
            )
        )
        run.width, run.store = width, MemoryStore()
        cpu, wall = time.process_time(), time.perf_counter()
        code = run.execute()
        return {
            "width": width,
            "exit": code,
            "runner_cpu_s": round(time.process_time() - cpu, 3),
            "wall_s": round(time.perf_counter() - wall, 3),
        }


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        print(json.dumps(measure(int(argument))), flush=True)
