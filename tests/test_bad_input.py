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
    line, col, message = first[len("# expect: "):].split(":", 2)
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
        "        pass\n")
    with pytest.raises(CompileError) as raised:
        load_flow(path.read_text(), "several.py")
    lines = sorted(e.location.line for e in raised.value.errors)
    assert lines == [3, 6, 7]
