"""Golden review as commands: `flowc compile --check` (committed outputs vs. the flows) and `flowc diff`
(the flow vs. what is deployed: the stand-in Argo Server, moto's Step Functions, a dags folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT, run_flowc
from flowc.compiler.targets import TARGETS

# ---------------------------------------------------------------------------- compile --check

# Flows that compile for each target (skypilot: one file per @skypilot step in a directory).
CHECKED_FLOWS = {target: ["examples/linear.py", "examples/foreach.py"] for target in TARGETS}
CHECKED_FLOWS["skypilot"] = ["examples/skypilot.py"]


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_check_passes_on_what_compile_wrote_and_writes_nothing(tmp_path, target):
    out = tmp_path / "out"
    written = run_flowc("compile", *CHECKED_FLOWS[target], "-t", target, "-o", f"{out}/")
    assert written.returncode == 0, written.stderr
    before = snapshot(out)
    checked = run_flowc("compile", *CHECKED_FLOWS[target], "-t", target, "-o", f"{out}/", "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout == "" and snapshot(out) == before


def test_check_prints_a_unified_diff_per_file_and_exits_1(tmp_path):
    out = tmp_path / "out"
    flows = ("examples/linear.py", "examples/branch.py", "examples/foreach.py")
    assert run_flowc("compile", *flows, "-t", "argo", "-o", str(out)).returncode == 0
    stale = out / "linear.argo.yaml"
    stale.write_text(stale.read_text().replace("python:3.11-slim", "python:3.10"))
    (out / "branch.argo.yaml").unlink()  # a missing file counts as a difference
    before = snapshot(out)
    checked = run_flowc("compile", *flows, "-t", "argo", "-o", str(out), "--check")
    assert checked.returncode == 1, checked.stderr
    assert f"--- committed {stale}\n+++ compiled {stale}\n" in checked.stdout
    assert "-      image: python:3.10\n+      image: python:3.11-slim\n" in checked.stdout
    assert f"--- committed {out / 'branch.argo.yaml'} (missing)\n+++ compiled {out / 'branch.argo.yaml'}\n" \
        in checked.stdout
    assert "foreach.argo.yaml" not in checked.stdout
    assert "2 file(s) would change" in checked.stderr
    assert snapshot(out) == before  # nothing written, nothing created


def test_check_compares_each_skypilot_task_file(tmp_path):
    out = tmp_path / "out"
    assert run_flowc("compile", "examples/skypilot.py", "-t", "skypilot", "-o", f"{out}/").returncode == 0
    assert sorted(p.name for p in out.iterdir()) == ["skypilot.featurize.sky.yaml", "skypilot.train.sky.yaml"]
    (out / "skypilot.train.sky.yaml").unlink()
    checked = run_flowc("compile", "examples/skypilot.py", "-t", "skypilot", "-o", f"{out}/", "--check")
    assert checked.returncode == 1
    assert f"+++ compiled {out / 'skypilot.train.sky.yaml'}" in checked.stdout
    assert "featurize" not in checked.stdout.split("\n")[0]
    assert not (out / "skypilot.train.sky.yaml").exists()


def test_check_of_a_single_output_file(tmp_path):
    out = tmp_path / "linear.json"
    assert run_flowc("compile", "examples/linear.py", "-t", "ir", "-o", str(out)).returncode == 0
    assert run_flowc("compile", "examples/linear.py", "-t", "ir", "-o", str(out), "--check").returncode == 0
    out.write_text(out.read_text().rstrip("\n"))  # only the final newline differs
    checked = run_flowc("compile", "examples/linear.py", "-t", "ir", "-o", str(out), "--check")
    assert checked.returncode == 1 and "\\ No newline at end of file" in checked.stdout


def test_check_with_a_compile_error_exits_2_with_the_located_line(tmp_path):
    out = tmp_path / "out"
    checked = run_flowc("compile", "examples/linear.py", "tests/bad/cycle.py", "-t", "ir", "-o", str(out), "--check")
    assert checked.returncode == 2
    assert "tests/bad/cycle.py:" in checked.stderr and "error:" in checked.stderr
    assert "Traceback" not in checked.stderr and not out.exists()


def test_check_needs_an_output():
    checked = run_flowc("compile", "examples/linear.py", "-t", "ir", "--check")
    assert checked.returncode == 2 and "--check compares with the files in -o" in checked.stderr


def test_pre_commit_hook_runs_compile_check():
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "flowc-check")
    assert hook["entry"] == "flowc compile --check" and hook["language"] == "python"
