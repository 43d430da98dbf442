"""Benchmark flows, written once and saved in two flavours that differ only in the import line.

    linear(n)     start -> s0001 .. s(n-2) -> end                     (n steps)
    foreach(w)    start -> foreach over range(w) -> body -> join -> end
    branch(w)     start -> w parallel steps -> join -> end
    artifact(b)   start makes a b-byte bytearray; load touches it; end

`flavour` is "flowc" (`from flowc import ...`) or "metaflow" (`from metaflow import ...`).
Every step body calls `_mark()`, which writes how long the task process had been
alive and its peak RSS to $BENCH_MARK_DIR (when set), so the start-up row can
read the time from process start to user code for both runtimes the same way.
"""

from __future__ import annotations

from pathlib import Path

MARK = '''
def _mark(step):
    # Benchmark probe: seconds since this process started, and its peak RSS so far.
    import os, time
    folder = os.environ.get("BENCH_MARK_DIR")
    if not folder:
        return
    now = time.time()
    with open("/proc/self/stat") as f:
        start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    boot = now - uptime
    started = boot + start_ticks / os.sysconf("SC_CLK_TCK")
    hwm = 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    with open(os.path.join(folder, "%s.%d" % (step, os.getpid())), "w") as f:
        f.write("%r %r %d\\n" % (now, now - started, hwm))
'''


def _header(flavour: str, names: str, doc: str) -> str:
    module = {"flowc": "flowc", "metaflow": "metaflow"}[flavour]
    return f'"""{doc}"""\n\nfrom {module} import {names}\n{MARK}\n\n'


def _step(name: str, body: list[str], nxt: str | None, join: bool = False) -> str:
    lines = ["    @step\n", f"    def {name}(self{', inputs' if join else ''}):\n", f"        _mark({name!r})\n"]
    lines += [f"        {line}\n" for line in body]
    if nxt:
        lines.append(f"        self.next({nxt})\n")
    return "".join(lines) + "\n"


def _footer(cls: str) -> str:
    return f'\nif __name__ == "__main__":\n    {cls}()\n'


def linear(n: int, flavour: str = "flowc") -> tuple[str, str]:
    """(class name, source) of a chain of n >= 2 steps."""
    if n < 2:
        raise ValueError("linear needs n >= 2")
    cls = f"Linear{n}Flow"
    names = ["start"] + [f"s{i:04d}" for i in range(1, n - 1)] + ["end"]
    out = [_header(flavour, "FlowSpec, step", f"{n} steps in a chain."), f"class {cls}(FlowSpec):\n"]
    for i, name in enumerate(names):
        nxt = f"self.{names[i + 1]}" if i + 1 < len(names) else None
        body = ["self.i = 0"] if name == "start" else (["self.i += 1"] if nxt else [])
        out.append(_step(name, body, nxt))
    return cls, "".join(out) + _footer(cls)


def foreach(width: int, flavour: str = "flowc") -> tuple[str, str]:
    cls = f"Foreach{width}Flow"
    out = [
        _header(flavour, "FlowSpec, step", f"A foreach of width {width} with trivial bodies."),
        f"class {cls}(FlowSpec):\n",
        _step("start", [f"self.items = list(range({width}))"], 'self.body, foreach="items"'),
        _step("body", ["self.x = self.input"], "self.join"),
        _step("join", ["self.total = sum(i.x for i in inputs)"], "self.end", join=True),
        _step("end", [], None),
    ]
    return cls, "".join(out) + _footer(cls)


def branch(width: int, flavour: str = "flowc") -> tuple[str, str]:
    cls = f"Branch{width}Flow"
    arms = [f"b{i:04d}" for i in range(width)]
    out = [
        _header(flavour, "FlowSpec, step", f"A static split into {width} arms."),
        f"class {cls}(FlowSpec):\n",
        _step("start", [], ", ".join(f"self.{a}" for a in arms)),
    ]
    out += [_step(a, [], "self.join") for a in arms]
    out += [_step("join", [], "self.end", join=True), _step("end", [], None)]
    return cls, "".join(out) + _footer(cls)


def artifact(size_bytes: int, flavour: str = "flowc") -> tuple[str, str]:
    """start stores a bytearray of size_bytes; load times its first touch (lazy load) into $BENCH_MARK_DIR."""
    cls = "ArtifactFlow"
    load_body = [
        "import os, time",
        "t0 = time.perf_counter()",
        "n = len(self.blob)",
        "t1 = time.perf_counter()",
        "folder = os.environ.get('BENCH_MARK_DIR')",
        "if folder:",
        "    open(os.path.join(folder, 'load_seconds'), 'w').write(repr(t1 - t0))",
        f"assert n == {size_bytes}",
    ]
    out = [
        _header(flavour, "FlowSpec, step", "One large artifact, stored then loaded."),
        f"class {cls}(FlowSpec):\n",
        _step("start", [f"self.blob = bytearray({size_bytes})"], "self.load"),
        _step("load", load_body, "self.end"),
        _step("end", [], None),
    ]
    return cls, "".join(out) + _footer(cls)


SHAPES = {"linear": linear, "foreach": foreach, "branch": branch, "artifact": artifact}


def write(folder: Path, shape: str, size: int, flavour: str = "flowc", stem: str | None = None) -> Path:
    """Write the flow to folder/<stem>.py (default: <shape><size>) and return the path."""
    _, source = SHAPES[shape](size, flavour)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem or f'{shape}{size}'}.py"
    path.write_text(source, encoding="utf-8")
    return path


def copy_example(example: Path, folder: Path, flavour: str) -> Path:
    """An example flow, with its `from flowc import` rewritten for the flavour."""
    text = example.read_text(encoding="utf-8")
    if flavour == "metaflow":
        text = text.replace("from flowc import", "from metaflow import")
        cls = next(line.split("(")[0].split()[1] for line in text.splitlines() if line.startswith("class "))
        if "__main__" not in text:
            text += _footer(cls)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / example.name
    path.write_text(text, encoding="utf-8")
    return path


if __name__ == "__main__":  # python benchmarks/flows.py linear 10 [metaflow]
    import sys

    print(SHAPES[sys.argv[1]](int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "flowc")[1], end="")
