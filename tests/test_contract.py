"""The contract both sides read (flowc/contract): layout keys, id rules, the graph derivation, the bootstrap."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from conftest import EXAMPLES
from flowc.compiler import load_flow
from flowc.contract import layout
from flowc.contract.bootstrap import BOOTSTRAP_SOURCE
from flowc.contract.graph import Node, derive
from flowc.contract.ids import child_task_ids, is_run_id, is_task_id, parent_task_of_child, task_sort_key
from flowc.deploy.package import build_package

SHA = "ab" * 32

# ---------------------------------------------------------------------------
# Layout keys


@pytest.mark.parametrize(
    "key, expected",
    [
        pytest.param(layout.blob_key("F", SHA), f"F/data/{SHA}", id="blob"),
        pytest.param(layout.package_key("F", SHA), f"F/packages/{SHA}.tar.gz", id="package"),
        pytest.param(layout.runs_key("F"), "F/runs", id="runs"),
        pytest.param(layout.run_key("F", "r1"), "F/runs/r1", id="run"),
        pytest.param(layout.run_key("F", "r1", "train"), "F/runs/r1/train", id="run-step"),
        pytest.param(layout.run_record_key("F", "r1"), "F/runs/r1/run.json", id="run-record"),
        pytest.param(layout.task_key("F", "r1", "train", "3.7"), "F/runs/r1/train/3.7", id="task"),
        pytest.param(layout.task_key("F", "r1", "train", "0", layout.DONE), "F/runs/r1/train/0/DONE", id="done"),
        pytest.param(layout.task_key("F", "r1", "s", "0", layout.META), "F/runs/r1/s/0/meta.json", id="meta"),
        pytest.param(layout.task_key("F", "r1", "s", "0", layout.FOREACH), "F/runs/r1/s/0/foreach.json", id="foreach"),
        pytest.param(layout.logs_key("F/runs/r1/s/0"), "F/runs/r1/s/0/logs", id="logs"),
        pytest.param(
            layout.attempt_log_key("F/runs/r1/s/0", 2, layout.STDERR),
            "F/runs/r1/s/0/logs/attempt-2.stderr",
            id="attempt-stderr",
        ),
        pytest.param(
            layout.attempt_log_key("K", 0, layout.ATTEMPT_RECORD), "K/logs/attempt-0.json", id="attempt-record"
        ),
    ],
)
def test_layout_keys(key, expected):
    assert key == expected


def test_task_key_parts_leave_room_for_placeholders():
    marker = object()
    parts = layout.task_key_parts("F", marker, "s", marker, layout.FOREACH)
    assert parts == ("F/runs/", marker, "/s/", marker, "/foreach.json")


@pytest.mark.parametrize(
    "name, attempt",
    [
        ("attempt-0.stdout", 0),
        ("attempt-12.json", 12),
        ("attempt-x.json", None),
        ("other.txt", None),
    ],
    ids=["stdout", "record", "not-a-number", "other"],
)
def test_attempt_of_log_name(name, attempt):
    assert layout.attempt_of_log_name(name) == attempt


# ---------------------------------------------------------------------------
# Id rules


@pytest.mark.parametrize(
    "task_id, ok",
    [
        ("0", True),
        ("3", True),
        ("3.7", True),
        ("10.0.2", True),
        ("", False),
        (".", False),
        ("3.", False),
        ("a", False),
        ("-1", False),
        ("3\n", False),
        ("../0", False),
    ],
    ids=["zero", "top", "nested", "deep", "empty", "dot", "trailing-dot", "letter", "negative", "newline", "climb"],
)
def test_task_id_rule(task_id, ok):
    assert is_task_id(task_id) is ok


@pytest.mark.parametrize(
    "run_id, ok",
    [
        ("0", True),
        ("3.7", True),
        ("flow-abc12", True),  # Argo: generateName
        ("d2c1a1f0-9b1e-4f7e-8c2d-3a4b5c6d7e8f", True),  # Step Functions: the console's default execution name
        ("manual-run_2024-01-01", True),  # Step Functions: a chosen execution name
        ("20240101T000000-a1b2c3", True),  # flowc run
        ("scheduled:2024", True),
        (".", False),
        ("..", False),
        ("../x", False),
        (".hidden", False),
        ("a/b", False),
        ("", False),
        ("a b", False),
        ("r1\n", False),
    ],
    ids=[
        "zero",
        "dotted",
        "argo",
        "sfn-uuid",
        "sfn-named",
        "flowc-run",
        "colon",
        "dot",
        "dotdot",
        "climb",
        "hidden",
        "slash",
        "empty",
        "space",
        "newline",
    ],
)
def test_run_id_rule(run_id, ok):
    assert is_run_id(run_id) is ok


@pytest.mark.parametrize("child, parent", [("3", "0"), ("3.7", "3"), ("1.2.3", "1.2")], ids=["top", "nested", "deep"])
def test_parent_task_of_child(child, parent):
    assert parent_task_of_child(child) == parent


def test_child_task_ids_and_order():
    assert child_task_ids(0, "0", 3) == ["0", "1", "2"]
    assert child_task_ids(1, "4", 2) == ["4.0", "4.1"]
    assert sorted(["10", "2", "3.10", "3.2"], key=task_sort_key) == ["2", "3.2", "3.10", "10"]


# ---------------------------------------------------------------------------
# One graph derivation: the compiler's IR and the runtime's scan agree

HEADER = "from flowc import FlowSpec, step\n\n\nclass ShapeFlow(FlowSpec):\n"

SHAPES = {
    "linear": """
        @step
        def start(self):
            self.next(self.middle)

        @step
        def middle(self):
            self.next(self.end)

        @step
        def end(self):
            pass
    """,
    "split": """
        @step
        def start(self):
            self.next(self.b, self.a)

        @step
        def b(self):
            self.next(self.join)

        @step
        def a(self):
            self.next(self.join)

        @step
        def join(self, inputs):
            self.next(self.end)

        @step
        def end(self):
            pass
    """,
    "foreach": """
        @step
        def start(self):
            self.items = [1, 2]
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
    """,
    "nested-foreach": """
        @step
        def start(self):
            self.xs = [1, 2]
            self.next(self.outer, foreach="xs")

        @step
        def outer(self):
            self.ys = [1, 2]
            self.next(self.inner, foreach="ys")

        @step
        def inner(self):
            self.next(self.inner_join)

        @step
        def inner_join(self, inputs):
            self.next(self.outer_join)

        @step
        def outer_join(self, inputs):
            self.next(self.end)

        @step
        def end(self):
            pass
    """,
}

EXPECTED = {  # step: (parents, closes, foreach_scope)
    "linear": {"start": ((), None, ()), "middle": (("start",), None, ()), "end": (("middle",), None, ())},
    "split": {
        "b": (("start",), None, ()),
        "a": (("start",), None, ()),
        "join": (("b", "a"), "start", ()),
        "end": (("join",), None, ()),
    },
    "foreach": {"body": (("start",), None, ("start",)), "join": (("body",), "start", ()), "end": (("join",), None, ())},
    "nested-foreach": {
        "outer": (("start",), None, ("start",)),
        "inner": (("outer",), None, ("start", "outer")),
        "inner_join": (("inner",), "outer", ("start",)),
        "outer_join": (("inner_join",), "start", ()),
        "end": (("outer_join",), None, ()),
    },
}


@pytest.mark.parametrize("shape", list(SHAPES), ids=list(SHAPES))
def test_compiler_and_runtime_derive_the_same_graph(shape, tmp_path, monkeypatch):
    from flowc.runtime.graph import scan
    from flowc.runtime.loader import find_flow_class, import_flow_module

    source = HEADER + textwrap.indent(textwrap.dedent(SHAPES[shape]).strip("\n"), "    ") + "\n"
    path = tmp_path / f"shape_{shape.replace('-', '_')}.py"
    path.write_text(source)
    flow, diagnostics = load_flow(source, str(path))
    assert not diagnostics
    monkeypatch.setattr(sys, "path", list(sys.path))
    runtime = scan(find_flow_class(import_flow_module(str(path))))
    compiled = {s.name: (s.parents, s.closes if s.takes_inputs else None, s.foreach_scope) for s in flow.steps}
    scanned = {n: (tuple(i.parents), i.closes, i.foreach_scope) for n, i in runtime.items()}
    assert compiled == scanned
    for name, facts in EXPECTED[shape].items():
        assert compiled[name] == facts, name
    closed_by = {closes: join for join, (_, closes, _) in EXPECTED[shape].items() if closes}
    assert {s.name: s.matching_join for s in flow.steps if s.matching_join} == closed_by


def test_topological_order_breaks_ties_by_source_order():
    nodes = [
        Node("start", ("b", "a")),
        Node("b", ("join",)),
        Node("a", ("join",)),
        Node("join", ("end",), takes_inputs=True),
        Node("end"),
    ]
    structure = derive(nodes)
    assert structure.order == ["start", "b", "a", "join", "end"]
    assert structure.matching_join == {"start": "join"}
    assert structure.split_stack["b"] == ("start",) and structure.split_stack["end"] == ()


@pytest.mark.parametrize(
    "nodes, fact, expected",
    [
        pytest.param(
            [
                Node("start", ("a", "b")),
                Node("a", ("x", "y")),
                Node("x", ("j",)),
                Node("y", ("j",)),
                Node("b", ("j",)),
                Node("j", ("end",), takes_inputs=True),
                Node("end"),
            ],
            "mixed_join",
            {"j": ["x", "y", "b"]},
            id="join-mixes-two-splits",
        ),
        pytest.param(
            [Node("start", ("a",)), Node("a", ("end",), takes_inputs=True), Node("end")],
            "closes",
            {"a": None},
            id="inputs-but-nothing-to-close",
        ),
        pytest.param([Node("start", ("a",)), Node("a", ("start",)), Node("end")], "acyclic", False, id="cycle"),
        pytest.param(
            [Node("start", ("a", "b")), Node("a", ("end",)), Node("b", ("end",)), Node("end")],
            "closes",
            {"end": "start"},
            id="join-without-inputs-still-closes",
        ),
    ],
)
def test_broken_graphs_are_recorded_not_raised(nodes, fact, expected):
    assert getattr(derive(nodes), fact) == expected


def test_runtime_refuses_a_cycle_in_one_line(tmp_path):
    from flowc.runtime.graph import GraphError, scan
    from flowc.runtime.loader import find_flow_class, import_flow_module

    path = tmp_path / "shape_cycle.py"
    path.write_text(
        HEADER
        + textwrap.indent(
            textwrap.dedent("""
        @step
        def start(self):
            self.next(self.a)

        @step
        def a(self):
            self.next(self.start)
    """),
            "    ",
        )
    )
    with pytest.raises(GraphError, match="cycle"):
        scan(find_flow_class(import_flow_module(str(path))))


# ---------------------------------------------------------------------------
# The bootstrap: an explicit sha256 check that holds under python -O


def test_bootstrap_text_has_no_assert_and_stays_small():
    assert "assert" not in BOOTSTRAP_SOURCE
    assert len(BOOTSTRAP_SOURCE) < 2000  # it travels inside Step Functions' 8,192-character overrides


def _bootstrap(tmp_path, package, *flags):
    argv = [
        sys.executable,
        *flags,
        "-c",
        BOOTSTRAP_SOURCE,
        "step",
        "linear.py",
        "start",
        "--run-id",
        "r1",
        "--task-id",
        "0",
        "--datastore",
        str(tmp_path / "ds"),
        "--package",
        str(package),
    ]
    env = {"PATH": "/usr/bin:/bin", "FLOWC_PACKAGE_CACHE": str(tmp_path / "cache")}
    return subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=60, env=env)


@pytest.mark.parametrize("flags", [("-O", "-S"), ("-S",)], ids=["optimized", "plain"])
def test_bootstrap_refuses_a_tampered_package(tmp_path, flags):
    data, sha = build_package(str(EXAMPLES / "linear.py"))
    tampered = tmp_path / f"{sha}.tar.gz"
    tampered.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    result = _bootstrap(tmp_path, tampered, *flags)
    assert result.returncode == 1, result.stderr
    assert "sha256 mismatch" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "cache").exists() or not os.listdir(tmp_path / "cache")
    assert not (tmp_path / "ds").exists()


def test_bootstrap_runs_the_step_under_python_O(tmp_path):
    data, sha = build_package(str(EXAMPLES / "linear.py"))
    package = tmp_path / f"{sha}.tar.gz"
    package.write_bytes(data)
    result = _bootstrap(tmp_path, package, "-O", "-S")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ds" / "LinearFlow" / "runs" / "r1" / "start" / "0" / layout.DONE).exists()
    assert os.listdir(tmp_path / "cache") == [sha]
