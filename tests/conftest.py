"""Shared test fixtures: golden files, the vendored Argo schemas, the CI rule for missing tools."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = ROOT / "tests" / "golden"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# Fixtures other modules define: airflow_server (a real Airflow 3 on 127.0.0.1, started only when a test asks)
pytest_plugins = ["airflow_server"]


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files from the current output (refused when CI is set)",
    )


def pytest_configure(config):
    if config.getoption("--update-golden") and IN_CI:
        raise pytest.UsageError(
            "--update-golden is refused when CI is set: goldens are reviewed, never regenerated in CI"
        )


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
    assert actual == expected, (
        f"{path.relative_to(ROOT)} differs; if intended, pytest --update-golden and review the diff"
    )


def need(condition: bool, reason: str) -> None:
    """Skip outside CI, fail under CI, when an external tool or file is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def schema_path(name: str = "argo-workflows.schema.json") -> Path:
    """Argo's JSON schema, vendored in tests/schemas (see its README)."""
    return ROOT / "tests" / "schemas" / name


def run_flowc(
    *args: str, cwd: Path = ROOT, env: dict | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run the real `flowc` CLI in a subprocess (as a user would)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "flowc.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def example_files() -> list[Path]:
    """Every example (each compiles for every orchestrator; a target's refusals are its `.error` goldens)."""
    return sorted(EXAMPLES.glob("*.py"))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def moto_endpoint():
    """moto's server mode on 127.0.0.1: a real HTTP S3 / Step Functions / Batch API for real boto3 clients.

    Yields the endpoint URL; tests point boto3 at it with AWS_ENDPOINT_URL (boto3 reads it natively).
    """
    import time
    import urllib.request

    need(
        subprocess.run([sys.executable, "-c", "import moto.server"], capture_output=True).returncode == 0,
        "moto[server] is not installed",
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, **AWS_TEST_ENV),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except OSError:
            if time.time() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("moto server did not start")
            time.sleep(0.1)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def aws_env(moto_endpoint, monkeypatch):
    """Environment for boto3 (in this process and in subprocesses) pointed at the moto server."""
    for key, value in AWS_TEST_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    return dict(AWS_TEST_ENV, AWS_ENDPOINT_URL=moto_endpoint)
