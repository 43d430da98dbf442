"""The incremental compile: a folder of N small flows compiled into DIR, one flow changed, compiled again.

    python benchmarks/probes/incremental_compile.py [N] [TARGET ...]  -> one JSON line per target

Each line holds the wall and CPU seconds of the cold compile of all N flows, of the
recompile after one flow changed (the `flowc compile` process, start to exit,
as a user runs it), and of a recompile with nothing changed.  Issue 17's
target: 50 flows with one changed in <= 1 s.
"""

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOW = '''
from flowc import FlowSpec, Parameter, resources, retry, step
from shared import ALPHA


class Flow{index}(FlowSpec):
    size = Parameter("size", default={index})

    @step
    def start(self):
        self.items = list(range(self.size))
        self.next(self.work, foreach="items")

    @resources(cpu=1, memory=512)
    @retry(times=2)
    @step
    def work(self):
        self.value = self.input * ALPHA
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print(self.total)
'''


def compile_seconds(flows: list[Path], target: str, output: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one `flowc compile` process (CPU: user + system; the machine may be shared)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "flowc.cli", "compile", *map(str, flows), "-t", target, "-o", f"{output}/"],
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    targets = sys.argv[2:] or ["argo", "step-functions", "airflow"]
    for target in targets:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            (root / "shared.py").write_text("ALPHA = 3\n")
            flows = []
            for index in range(count):
                flows.append(root / f"flow_{index:03d}.py")
                flows[-1].write_text(FLOW.format(index=index))
            cold = compile_seconds(flows, target, root / "build")
            changed = flows[min(7, count - 1)]
            changed.write_text(changed.read_text().replace("print(self.total)", "print('total', self.total)"))
            one_changed = compile_seconds(flows, target, root / "build")
            unchanged = compile_seconds(flows, target, root / "build")
        row = {"target": target, "flows": count}
        for name, (wall, cpu) in (("cold", cold), ("one_changed", one_changed), ("unchanged", unchanged)):
            row[f"{name}_s"], row[f"{name}_cpu_s"] = round(wall, 3), round(cpu, 3)
        print(json.dumps(row))


if __name__ == "__main__":
    main()
