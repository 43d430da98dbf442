"""Regression tests for what a hostile or careless user can give flowc (issue 13), each failing on the code before its fix."""

from __future__ import annotations

import textwrap

import pytest
from conftest import run_flowc

from flowc.runtime.client import Run

TINY_FLOW = textwrap.dedent("""\
    from flowc import FlowSpec, step

    class TinyFlow(FlowSpec):
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            print("reached end")
""")


def test_a_flow_file_with_a_utf8_byte_order_mark_compiles_and_runs(tmp_path):
    """Python reads a UTF-8 BOM; flowc refused it as `invalid non-printable character U+FEFF`."""
    flow = tmp_path / "bom_flow.py"
    flow.write_bytes(b"\xef\xbb\xbf" + TINY_FLOW.encode())
    checked = run_flowc("check", str(flow))
    assert checked.returncode == 0, checked.stderr
    ran = run_flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--run-id", "r1")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert Run("TinyFlow/r1", datastore=str(tmp_path / "ds")).successful


@pytest.mark.parametrize("module", ["json", "pickle", "queue", "flowc", "boto3"])
def test_a_flow_file_named_like_a_module_the_task_imports_is_refused_at_its_name(tmp_path, module):
    """`json.py` checked fine, then failed at run time with errors that never named the cause."""
    flow = tmp_path / f"{module}.py"
    flow.write_text(TINY_FLOW)
    result = run_flowc("check", str(flow))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"{flow}:1:1: error: the flow file is named like the module '{module}' "
        f"({'what a task imports' if module in ('flowc', 'boto3') else 'Python' + chr(39) + 's standard library'}); "
        f"running it would shadow that module: rename the file, e.g. {module}_flow.py"]


UNORDERED_FOREACH = textwrap.dedent("""\
    from flowc import FlowSpec, step

    class SetFlow(FlowSpec):
        @step
        def start(self):
            self.words = {ITEMS}
            self.next(self.each, foreach="words")

        @step
        def each(self):
            self.word = self.input
            self.next(self.join)

        @step
        def join(self, inputs):
            self.seen = sorted(i.word for i in inputs)
            self.next(self.end)

        @step
        def end(self):
            pass
""")


@pytest.mark.parametrize("items", [
    "{f'w{i}' for i in range(12)}",
    "dict.fromkeys(f'w{i}' for i in range(12))",
    "frozenset(f'w{i}' for i in range(12))",
], ids=["set", "dict", "frozenset"])
def test_foreach_over_an_unordered_collection_gives_each_child_a_distinct_item(tmp_path, items):
    """Each child re-iterated the set in its own hash order: 7 of 12 items processed, the run 'ok'."""
    flow = tmp_path / "set_flow.py"
    flow.write_text(UNORDERED_FOREACH.replace("{ITEMS}", items))
    result = run_flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--run-id", "r1", "--quiet",
                       env={"PYTHONHASHSEED": "random"})
    assert result.returncode == 0, result.stdout + result.stderr
    seen = Run("SetFlow/r1", datastore=str(tmp_path / "ds"))["join"].task.data.seen
    assert seen == sorted(f"w{i}" for i in range(12))


def test_foreach_over_something_that_cannot_be_listed_fails_with_its_name(tmp_path):
    flow = tmp_path / "gen_flow.py"
    flow.write_text(UNORDERED_FOREACH.replace("self.words = {ITEMS}", "self.words = 12"))
    result = run_flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--run-id", "r1", "--quiet")
    assert result.returncode == 1
    assert "foreach artifact 'words' of step 'start' is a int, which cannot be listed once" in result.stdout + result.stderr
