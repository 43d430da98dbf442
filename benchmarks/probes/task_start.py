"""What a local task costs to start: `flowc run` with the warm zygote against plain subprocesses.

    python benchmarks/probes/task_start.py [REPEATS [SMALL BIG]]  -> one JSON line per (mode, flow)

Each row runs the real CLI in a subprocess (FLOWC_NO_ZYGOTE=1 for the old path) and reads the CPU of
everything it started, runner, zygote and tasks, from getrusage(RUSAGE_CHILDREN) once they are reaped.
per_task_cpu_ms is the marginal CPU of one more trivial task: (cpu(foreach-BIG) - cpu(foreach-SMALL)) / (BIG - SMALL),
by default foreach-200 and foreach-20.
Wall times are the best of REPEATS (default 3).  Issue 17's target: <= 25 ms of CPU per task.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

FOREACH = """
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


def linear(length: int) -> str:
    steps = ["from flowc import FlowSpec, step\n\nclass LinearFlow(FlowSpec):"]
    for i in range(length):
        following = f"s{i + 1}" if i + 1 < length else "end"
        name = "start" if i == 0 else f"s{i}"
        steps.append(f"    @step\n    def {name}(self):\n        self.x = {i}\n        self.next(self.{following})\n")
    steps.append("    @step\n    def end(self):\n        pass\n")
    return "\n".join(steps)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(folder: str, source: str, zygote: bool) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the runner and all it started) of one `flowc run`."""
    flow = os.path.join(folder, "probe_flow.py")
    with open(flow, "w") as f:
        f.write(source)
    env = dict(os.environ)
    env.pop("FLOWC_NO_ZYGOTE", None)
    if not zygote:
        env["FLOWC_NO_ZYGOTE"] = "1"
    cpu, wall = children_cpu(), time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "flowc.cli",
            "run",
            flow,
            "--datastore",
            os.path.join(folder, "ds"),
            "--quiet",
            "--max-workers",
            str(os.cpu_count() or 2),
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - wall, children_cpu() - cpu


def measure(repeats: int, small: int = 20, big: int = 200) -> list[dict]:
    rows = []
    flows = {
        f"foreach-{small}": (FOREACH.replace("WIDTH", str(small)), small + 3),
        f"foreach-{big}": (FOREACH.replace("WIDTH", str(big)), big + 3),
        "linear-10": (linear(10), 11),
    }
    for zygote in (False, True):
        cpu_of = {}
        for name, (source, tasks) in flows.items():
            best_wall, best_cpu = float("inf"), float("inf")
            for _ in range(repeats):
                with tempfile.TemporaryDirectory() as folder:
                    wall, cpu = run_once(folder, source, zygote)
                best_wall, best_cpu = min(best_wall, wall), min(best_cpu, cpu)
            cpu_of[name] = best_cpu
            rows.append(
                {
                    "mode": "zygote" if zygote else "subprocess",
                    "flow": name,
                    "tasks": tasks,
                    "wall_s": round(best_wall, 3),
                    "cpu_s": round(best_cpu, 3),
                    "cpu_per_task_ms": round(1000 * best_cpu / tasks, 1),
                }
            )
        rows.append(
            {
                "mode": "zygote" if zygote else "subprocess",
                "flow": "marginal",
                "per_task_cpu_ms": round(
                    1000 * (cpu_of[f"foreach-{big}"] - cpu_of[f"foreach-{small}"]) / (big - small), 1
                ),
            }
        )
    return rows


if __name__ == "__main__":
    widths = [int(a) for a in sys.argv[2:4]]
    for row in measure(int(sys.argv[1]) if len(sys.argv) > 1 else 3, *widths):
        print(json.dumps(row), flush=True)
