"""The bad-input corpus: each file in tests/bad/ names the error it must produce.

The first line of a case is `# expect: LINE:COL: message`, where the message
is a substring of one reported error.  Adding a case means adding a file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT, run_flowc
from flowc.compiler import CompileError, load_flow

BAD = ROOT / "tests" / "bad"
CASES = sorted(BAD.glob("*.py"))


def expectation(path: Path) -> tuple[int, int, str]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} has no '# expect:' line"
    line, col, message = first[len("# expect: ") :].split(":", 2)
    return int(line), int(col), message.strip()


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_bad_flow_is_a_located_error(case):
    line, col, message = expectation(case)
    relative = case.relative_to(ROOT).as_posix()
    with pytest.raises(CompileError) as raised:
        load_flow(case.read_bytes(), relative)
    errors = raised.value.errors
    rendered = [str(e) for e in errors]
    wanted = f"{relative}:{line}:{col}: error: "
    assert any(r.startswith(wanted) and message in r for r in rendered), "\n".join(rendered)


def test_cli_reports_every_bad_file_with_exit_2_and_no_traceback():
    result = run_flowc("check", *[c.relative_to(ROOT).as_posix() for c in CASES])
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    for case in CASES:
        line, col, message = expectation(case)
        assert f"{case.relative_to(ROOT).as_posix()}:{line}:{col}: error: " in result.stderr, case.name


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.py"
    path.write_bytes(b"from flowc import FlowSpec\n# caf\xe9\n")
    result = run_flowc("check", str(path))
    assert result.returncode == 2
    assert f"{path}:2:1: error: the file is not UTF-8" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_file():
    result = run_flowc("compile", "no/such/flow.py", "-t", "ir")
    assert result.returncode == 2
    assert "no/such/flow.py:1:1: error: cannot read the file: No such file or directory" in result.stderr


def test_all_errors_of_a_file_are_reported_together(tmp_path):
    path = tmp_path / "several.py"
    path.write_text(
        "from flowc import FlowSpec, step, resources\n"
        "class F(FlowSpec):\n"
        "    @resources(memory=-1)\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.next(self.missing)\n"
        "    @resources(cpu='x')\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
    )
    with pytest.raises(CompileError) as raised:
        load_flow(path.read_text(), "several.py")
    lines = sorted(e.location.line for e in raised.value.errors)
    assert lines == [3, 6, 7]


def linear_source(steps: int) -> str:
    lines = ["from flowc import FlowSpec, step", "class Big(FlowSpec):"]
    names = ["start"] + [f"s{i}" for i in range(steps - 2)] + ["end"]
    for name, following in zip(names, names[1:] + [None]):
        lines += [
            "    @step",
            f"    def {name}(self):",
            f"        self.next(self.{following})" if following else "        pass",
        ]
    return "\n".join(lines) + "\n"


HOSTILE = {
    # name: (source text, expected message fragment)
    "ten-thousand-steps": (linear_source(10_000), "flow has 10000 steps; flowc compiles at most 5000"),
    "deeply-nested-literal": (
        "from flowc import FlowSpec, step, environment\nX = " + "[" * 5000 + "]" * 5000 + "\n",
        "syntax error: too many nested parentheses",
    ),
    "huge-file": ("# " + "x" * (9 * 1024 * 1024) + "\n", "flowc reads flow files up to"),
    "huge-dict-literal": (
        "from flowc import FlowSpec, step, environment\n"
        "class F(FlowSpec):\n"
        "    @environment(vars={" + ", ".join(f"'K{i}': 'v'" for i in range(60_000)) + "})\n"
        "    @step\n    def start(self):\n        self.next(self.end)\n"
        "    @step\n    def end(self):\n        pass\n",
        "a literal too large to evaluate",
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_is_one_located_error_in_bounded_time(name, tmp_path):
    source, fragment = HOSTILE[name]
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    result = run_flowc("check", str(path), timeout=120)  # the timeout only guards against a hang
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert errors and all(line.startswith(f"{path}:") for line in errors), result.stderr[-2000:]
    assert any(fragment in line for line in errors), result.stderr[-2000:]


def test_names_that_collide_after_sanitizing_stay_distinct():
    """`Load` and `load` would both be `load` on Kubernetes; the naming rule keeps them apart."""
    source = (
        "from flowc import FlowSpec, step\nclass F(FlowSpec):\n"
        "    @step\n    def start(self):\n        self.next(self.Load, self.load)\n"
        "    @step\n    def Load(self):\n        self.next(self.join)\n"
        "    @step\n    def load(self):\n        self.next(self.join)\n"
        "    @step\n    def join(self, inputs):\n        self.next(self.end)\n"
        "    @step\n    def end(self):\n        pass\n"
    )
    flow, _ = load_flow(source, "collide.py")
    from flowc.compiler.targets.argo_names import step_name

    assert step_name("Load") != step_name("load")
    import yaml

    from flowc.compiler import Options, compile_flow

    document = yaml.safe_load(compile_flow(source, "collide.py", "argo", Options()).text)
    templates = [t["name"] for t in document["spec"]["templates"]]
    assert len(templates) == len(set(templates)) == len(flow.steps) + 1  # + the main DAG


def nested_foreach_source(depth: int) -> str:
    lines = ["from flowc import FlowSpec, step", "class Deep(FlowSpec):"]
    for level in range(depth):
        name = "start" if level == 0 else f"f{level}"
        following = f"f{level + 1}" if level + 1 < depth else "body"
        lines += [
            "    @step",
            f"    def {name}(self):",
            "        self.items = [1]",
            f"        self.next(self.{following}, foreach='items')",
        ]
    lines += ["    @step", "    def body(self):", "        self.next(self.j0)"]
    for level in range(depth):
        following = f"j{level + 1}" if level + 1 < depth else "end"
        lines += ["    @step", f"    def j{level}(self, inputs):", f"        self.next(self.{following})"]
    lines += ["    @step", "    def end(self):", "        pass"]
    return "\n".join(lines) + "\n"


def test_very_deep_foreach_nesting_compiles_or_is_refused_with_a_location(tmp_path):
    from flowc.compiler import CompileError, Options, compile_flow
    from flowc.compiler.targets import available

    source = nested_foreach_source(40)
    flow, _ = load_flow(source, "deep.py")
    assert flow.max_foreach_depth == 40
    for target in available():
        try:
            compile_flow(source, "deep.py", target, Options())
        except CompileError as exc:
            assert all(e.location.file == "deep.py" and e.location.line >= 1 for e in exc.errors)
