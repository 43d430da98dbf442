"""Shared test fixtures: golden files, the shared schemas, the CI rule for missing tools."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = ROOT / "tests" / "golden"
SHARED = ROOT.parent / "shared"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden files from the current output (refused when CI is set)")


def pytest_configure(config):
    if config.getoption("--update-golden") and IN_CI:
        raise pytest.UsageError("--update-golden is refused when CI is set: goldens are reviewed, never regenerated in CI")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


def compare_golden(path: Path, actual: str, update: bool) -> None:
    """Byte-compare `actual` with the golden file, or rewrite it under --update-golden."""
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        message = f"missing golden file {path.relative_to(ROOT)}; run pytest --update-golden and review it"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path.relative_to(ROOT)} differs; if intended, pytest --update-golden and review the diff"


def need(condition: bool, reason: str) -> None:
    """Skip outside CI, fail under CI, when an external tool or file is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def schema_path(name: str = "argo-workflows.schema.json") -> Path:
    path = SHARED / "schemas" / name
    need(path.is_file(), f"Argo's JSON schema not found at {path}")
    return path


def run_flowc(*args: str, cwd: Path = ROOT, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real `flowc` CLI in a subprocess (as a user would)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "flowc.cli", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def example_files() -> list[Path]:
    return sorted(EXAMPLES.glob("*.py"))
