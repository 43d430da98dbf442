"""The code package: deterministic bytes, the right files, and tasks that start from it."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile

from conftest import EXAMPLES

from flowc.deploy.package import build_package, upload_package


def test_package_is_deterministic_and_holds_flow_modules_and_runtime(tmp_path):
    (tmp_path / "helpers.py").write_text("FACTOR = 3\n")
    (tmp_path / "unused.py").write_text("raise SystemExit('never imported')\n")
    (tmp_path / "flow.py").write_text(
        (EXAMPLES / "linear.py")
        .read_text()
        .replace("from flowc import", "from helpers import FACTOR\nfrom flowc import")
        .replace("n * n", "n * FACTOR")
    )
    first, sha = build_package(str(tmp_path / "flow.py"))
    os.utime(tmp_path / "helpers.py", (1, 1))  # mtimes do not matter
    assert build_package(str(tmp_path / "flow.py")) == (first, sha)
    with tarfile.open(fileobj=io.BytesIO(first), mode="r:gz") as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names)
    assert {"flow.py", "helpers.py", "flowc/runtime/__main__.py", "flowc/api/flowspec.py"} <= set(names)
    assert "unused.py" not in names
    assert not [n for n in names if n.startswith(("flowc/compiler/", "flowc/cli/", "flowc/deploy/"))]
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, 0, "", "")}


def test_task_runs_from_a_package_without_flowc_installed(tmp_path):
    data, sha = build_package(str(EXAMPLES / "linear.py"))
    store = tmp_path / "ds"
    url = upload_package(str(store), "LinearFlow", data, sha)
    from flowc.contract.bootstrap import BOOTSTRAP_SOURCE

    empty = tmp_path / "empty"
    empty.mkdir()
    env = {"PATH": os.environ["PATH"], "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    for step in ("start", "transform", "end"):
        # -S: no site-packages, so flowc comes only from the package.
        result = subprocess.run(
            [
                sys.executable,
                "-S",
                "-c",
                BOOTSTRAP_SOURCE,
                "step",
                "linear.py",
                step,
                "--run-id",
                "pkg",
                "--task-id",
                "0",
                "--datastore",
                str(store),
                "--package",
                url,
            ],
            cwd=empty,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
    meta = json.loads((store / "LinearFlow/runs/pkg/end/0/meta.json").read_text())
    assert meta["package"] == url
    assert "sum of squares: 385" in (store / "LinearFlow/runs/pkg/end/0/logs/attempt-0.stdout").read_text()


def test_package_with_a_wrong_hash_is_refused(tmp_path):
    data, sha = build_package(str(EXAMPLES / "linear.py"))
    bad = tmp_path / ("0" * 64 + ".tar.gz")
    bad.write_bytes(data)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowc.runtime",
            "step",
            "linear.py",
            "start",
            "--run-id",
            "x",
            "--task-id",
            "0",
            "--datastore",
            str(tmp_path / "ds"),
            "--package",
            str(bad),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=dict(os.environ, FLOWC_PACKAGE_CACHE=str(tmp_path / "cache")),
    )
    assert result.returncode == 1 and "sha256 mismatch" in result.stderr


def test_flowc_package_cli_prints_the_url(tmp_path):
    from conftest import run_flowc

    result = run_flowc("package", str(EXAMPLES / "linear.py"), "--datastore", str(tmp_path))
    assert result.returncode == 0, result.stderr
    path = result.stdout.strip()
    assert path.endswith(".tar.gz") and os.path.isfile(path)
