"""The runtime command every target renders (flowc/compiler/command.py)."""

from __future__ import annotations

import subprocess
import sys

from conftest import EXAMPLES
from flowc.contract.bootstrap import BOOTSTRAP_SOURCE
from flowc.compiler import Options, load_flow
from flowc.compiler.command import ATTEMPT, ORIGIN_RUN, PARAM, RUN_ID, TASK_ID, Placeholder, render, runtime_argv
from flowc.deploy.package import build_package


def argv_of(example: str, step: str, **options) -> list[str]:
    flow, _ = load_flow((EXAMPLES / example).read_text(), f"examples/{example}")
    names = {RUN_ID: "RUN", TASK_ID: "TASK", ATTEMPT: "N", ORIGIN_RUN: "ORIGIN"}
    return render(
        runtime_argv(flow, flow.step(step), Options(**options), foreach_out="/tmp/out.json"),
        lambda p: names.get(p.kind) or f"<{p.name}>",
    )


def test_shape_of_the_command():
    assert argv_of("foreach.py", "start") == [
        "python",
        "-m",
        "flowc.runtime",
        "step",
        "foreach.py",
        "start",
        "--run-id",
        "RUN",
        "--task-id",
        "0",
        "--datastore",
        "s3://flowc-datastore/flowc",
        "--origin-run",
        "ORIGIN",
        "--foreach-out",
        "/tmp/out.json",
    ]
    assert argv_of("foreach.py", "train")[8:10] == ["--task-id", "TASK"]
    assert argv_of("foreach.py", "train")[-4:] == ["--attempt", "N", "--max-attempts", "4"]


def test_parameters_go_to_start_only_as_single_items():
    flow, _ = load_flow((EXAMPLES / "parameters.py").read_text(), "parameters.py")
    start = runtime_argv(flow, flow.step("start"), Options())
    assert ("alpha=", Placeholder(PARAM, "alpha")) in start
    assert not any(
        isinstance(part, Placeholder) and part.kind == PARAM
        for item in runtime_argv(flow, flow.step("end"), Options())
        for part in item
    )


def test_with_a_package_the_image_needs_no_flowc(tmp_path):
    """The bootstrap runs the step from the hash-checked package with `python -S` (no site-packages flowc)."""
    data, sha = build_package(str(EXAMPLES / "linear.py"))
    package = tmp_path / f"{sha}.tar.gz"
    package.write_bytes(data)
    argv = argv_of(
        "linear.py", "start", package_url=str(package), datastore=str(tmp_path / "ds"), python=sys.executable
    )
    assert argv[1:3] == ["-c", BOOTSTRAP_SOURCE] and argv[-2:] == ["--package", str(package)]
    argv = [a.replace("RUN", "r1") for a in argv]
    result = subprocess.run(
        [argv[0], "-S", *argv[1:]],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ds" / "LinearFlow" / "runs" / "r1" / "start" / "0" / "DONE").exists()
