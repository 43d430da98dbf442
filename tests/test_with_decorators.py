"""`--with` reaches inside the task: decorators whose work the runtime does travel in the command."""

from __future__ import annotations

import json

from conftest import run_flowc
from flowc.compiler import Options, load_flow
from flowc.compiler.command import render, runtime_argv

FLAKY = '''
import time
from flowc import FlowSpec, step


class WithFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.broken)

    @step
    def broken(self):
        import os
        self.mode = os.environ.get("MODE", "unset")
        if self.mode != "slow":
            raise ValueError("always fails")
        time.sleep(30)
        self.next(self.end)

    @step
    def end(self):
        self.seen = type(self.error).__name__
'''


def test_with_catch_and_environment_reach_the_task(tmp_path):
    (tmp_path / "flow.py").write_text(FLAKY)
    result = run_flowc(
        "run",
        "flow.py",
        "--datastore",
        str(tmp_path / "ds"),
        "--run-id",
        "r1",
        "--quiet",
        "--with",
        "catch:var=error",
        "--with",
        "environment:vars={'MODE': 'fast'}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    from flowc import Run

    run = Run("WithFlow/r1", datastore=str(tmp_path / "ds"))
    assert run["end"].task.data.seen == "ValueError"
    assert run["broken"].task.data.mode == "fast"


def test_with_timeout_is_enforced_in_the_task(tmp_path):
    (tmp_path / "flow.py").write_text(FLAKY)
    result = run_flowc(
        "run",
        "flow.py",
        "--datastore",
        str(tmp_path / "ds"),
        "--run-id",
        "r2",
        "--quiet",
        "--with",
        "timeout:seconds=2",
        "--with",
        "environment:vars={'MODE': 'slow'}",
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 1
    assert "step 'broken' exceeded its @timeout of 2 s" in result.stdout + result.stderr


def test_attached_decorators_are_one_json_argv_item_and_own_ones_are_not_repeated(tmp_path):
    source = FLAKY.replace("    @step\n    def broken", "    @catch(var='own')\n    @step\n    def broken").replace(
        "from flowc import FlowSpec, step", "from flowc import FlowSpec, step, catch"
    )
    flow, _ = load_flow(source, "flow.py", ("catch:var=error", "timeout:minutes=1"))
    argv = render(runtime_argv(flow, flow.step("broken"), Options()), lambda p: "X")
    attached = [json.loads(argv[i + 1]) for i, item in enumerate(argv) if item == "--decorator"]
    assert attached == [{"timeout": {"minutes": 1}}]  # the step's own @catch wins; not sent again
    argv = render(runtime_argv(flow, flow.step("start"), Options()), lambda p: "X")
    assert [json.loads(argv[i + 1]) for i, item in enumerate(argv) if item == "--decorator"] == [
        {"catch": {"var": "error"}},
        {"timeout": {"minutes": 1}},
    ]
