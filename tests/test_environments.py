"""@pypi / @conda environments (issue 19): locked with uv, built once, shipped by hash, entered by the runtime.

Every test is offline: the wheels are made here (environments_support.py) and
are uv's only source; uv's cache is fresh and its index URL cannot resolve.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_flowc
from environments_support import TWO_VERSIONS_FLOW, offline_uv_env, wheel_folder

from flowc.compiler import CompileError, Options, compile_flow, load_flow
from flowc.compiler.environments import entry_sha, environment_spec, lock_path, parse_lock
from flowc.compiler.ir import Packages
from flowc.contract.platforms import current_platform


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """uv sees only the test's wheels, for this process and the flowc subprocesses it starts."""
    env = offline_uv_env(wheel_folder(tmp_path / "wheels"), tmp_path / "uv-cache")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def write_flow(folder: Path, text: str = TWO_VERSIONS_FLOW, name: str = "flow.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def lock(path: Path, refresh: bool = True):
    from flowc.environments.lock import lock_flow

    flow, _ = load_flow(path.read_text(), str(path))
    return lock_flow(flow, str(path), refresh=refresh)


# ---------------------------------------------------------------------------- what a decorator asks for


@pytest.mark.parametrize(
    "packages, requirements",
    [
        (Packages("pypi", (("pandas", "2.2"),), None), ["pandas==2.2"]),
        (Packages("pypi", (("pandas", ">=2.2,<3"),), None), ["pandas>=2.2,<3"]),
        (Packages("pypi", (("pandas", ""),), None), ["pandas"]),
        (Packages("conda", (("numpy", "2.1"),), None), ["numpy==2.1.*"]),
        (Packages("conda", (("pytorch", "2.3"),), None), ["torch==2.3.*"]),
        (Packages("conda", (("conda-forge::py-xgboost", "=2.0"),), None), ["xgboost==2.0.*"]),
        (Packages("conda", (("scikit-learn", ">=1.4"),), None), ["scikit-learn>=1.4"]),
    ],
    ids=["pin", "specifier", "any", "conda-fuzzy", "conda-rename", "conda-channel", "conda-specifier"],
)
def test_a_decorator_becomes_requirement_lines(packages, requirements):
    spec, problems = environment_spec(packages)
    assert problems == [] and spec["requirements"] == requirements


@pytest.mark.parametrize(
    "source, message",
    [
        ("@pypi(packages={'--index-url=http://evil': '1'})", "'--index-url=http://evil' is not a PyPI package name"),
        ("@pypi(packages={'ok': '1; os.system(1)'})", "ok: '1; os.system(1)' is not a version"),
        ("@pypi(packages={'ok': '1'}, python='three')", "python='three' must be a Python 3 version"),
        ("@conda(packages={'cudatoolkit': '11.8', 'r-base': '4'})", "'cudatoolkit' has no PyPI equivalent"),
    ],
    ids=["option-as-name", "injected-version", "bad-python", "conda-only"],
)
def test_bad_environment_requests_are_located_errors(tmp_path, source, message):
    flow = write_flow(
        tmp_path,
        f"from flowc import *\n\n\nclass F(FlowSpec):\n    {source}\n    @step\n"
        "    def start(self):\n        self.next(self.end)\n\n    @step\n    def end(self):\n        pass\n",
    )
    result = run_flowc("compile", str(flow), "-t", "argo")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{flow}:5:6: error: @" in result.stderr and message in result.stderr


# ---------------------------------------------------------------------------- flowc lock


def test_lock_is_deterministic_and_pins_with_hashes(tmp_path, offline, monkeypatch):
    flow = write_flow(tmp_path / "a")
    assert lock(flow) == (str(lock_path(str(flow))), 2)
    first = Path(lock_path(str(flow))).read_bytes()
    # again, from a fresh uv cache and another folder: the same bytes
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "other-cache"))
    again = write_flow(tmp_path / "b")
    lock(again)
    assert Path(lock_path(str(again))).read_bytes() == first
    entries = list(parse_lock(first.decode()).values())
    assert sorted(e["requirements"] for e in entries) == [["tinypkg==1.0"], ["tinypkg==2.0", "uses"]]
    pinned = next(e for e in entries if "uses" in e["requirements"])["lock"]
    assert "helper==0.1" in pinned and "--hash=sha256:" in pinned  # the dependency too, by hash


def test_lock_names_the_step_whose_package_is_missing(tmp_path, offline):
    flow = write_flow(tmp_path, TWO_VERSIONS_FLOW.replace('"uses": ""', '"nosuchpkg": "9"'))
    result = run_flowc("lock", str(flow))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{flow}:13:6: error: @pypi: cannot resolve nosuchpkg==9")
    assert not Path(lock_path(str(flow))).exists()  # nothing half-written


def test_compile_reads_the_lock_and_names_each_environment(tmp_path, offline, monkeypatch):
    flow = write_flow(tmp_path)
    with pytest.raises(CompileError) as caught:  # no lock: refused at the decorator, never run without it
        compile_flow(flow.read_text(), str(flow), "argo", Options())
    assert [f"{d.location.line}:{d.severity}" for d in caught.value.diagnostics] == ["5:error", "13:error"]
    assert "run `flowc lock" in str(caught.value)
    lock(flow)
    monkeypatch.setenv("UV_FIND_LINKS", str(tmp_path / "nowhere"))  # compile must not need uv or an index
    text = compile_flow(flow.read_text(), str(flow), "argo", Options()).text
    shas = sorted(entry_sha(e) for e in parse_lock(Path(lock_path(str(flow))).read_text()).values())
    assert all(text.count(sha) == 1 for sha in shas)
    stale = write_flow(tmp_path, TWO_VERSIONS_FLOW.replace('"tinypkg": "1.0"', '"tinypkg": "1.5"'))
    with pytest.raises(CompileError) as caught:
        compile_flow(stale.read_text(), str(stale), "argo", Options())
    assert "does not pin this environment (python any, tinypkg==1.5)" in str(caught.value)


# ---------------------------------------------------------------------------- flowc run


def test_local_run_gives_each_step_its_own_version_and_reuses_builds(tmp_path, offline):
    flow = write_flow(tmp_path)
    store = tmp_path / "ds"
    first = run_flowc("run", str(flow), "--datastore", str(store), "--run-id", "one")
    assert first.returncode == 0, first.stderr
    assert "versions 1.0 2.0" in first.stdout and first.stdout.count(": built, archive") == 2
    data = json.loads((store / "TwoVersionsFlow/runs/one/end/0/meta.json").read_text())
    assert {"first", "second", "helper_found"} <= set(data["artifacts"])
    # cache hit: nothing is built again, so uv may as well have no wheels at all now
    second = run_flowc(
        "run", str(flow), "--datastore", str(store), "--run-id", "two", env={"UV_FIND_LINKS": str(tmp_path / "gone")}
    )
    assert second.returncode == 0, second.stderr
    assert second.stdout.count(": already built") == 2 and "versions 1.0 2.0" in second.stdout


def test_no_env_runs_in_this_python_with_a_warning(tmp_path, offline):
    flow = write_flow(tmp_path, TWO_VERSIONS_FLOW.replace("import tinypkg", "pass").replace("import uses", "pass"))
    flow.write_text(flow.read_text().replace("tinypkg.VERSION", "'x'").replace("uses.VERSION", "'y'"))
    result = run_flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--no-env")
    assert result.returncode == 0, result.stderr
    assert "warning: --no-env: steps run in this Python" in result.stderr and "start, end" in result.stderr
    assert not Path(lock_path(str(flow))).exists()


# ---------------------------------------------------------------------------- the container path (moto S3)


def run_in_container(flow: Path, step: str, package_url: str, datastore: str, env: dict, cwd: Path):
    """The step as a container runs it: the compiled argv (fixed bootstrap, --package, --environment)."""
    from flowc.compiler import command

    options = Options(datastore=datastore, package_url=package_url)
    compiled = compile_flow(flow.read_text(), str(flow), "ir", options).flow
    values = {command.RUN_ID: "c1", command.TASK_ID: "0", command.ATTEMPT: "0", command.ORIGIN_RUN: ""}
    argv = command.render(command.runtime_argv(compiled, compiled.step(step), options), lambda p: values[p.kind])
    argv[0] = sys.executable
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_container_bootstrap_fetches_each_environment_from_s3_by_hash(tmp_path, offline, aws_env):
    import boto3

    from flowc.deploy.package import build_package, upload_package
    from flowc.environments.prepare import prepare_environments

    boto3.client("s3").create_bucket(Bucket="envs")
    root = "s3://envs/root"
    flow = write_flow(tmp_path / "src")
    loaded, _ = load_flow(flow.read_text(), str(flow))
    prepare_environments(loaded, str(flow), root, (current_platform(),), lambda line: None)
    data, sha = build_package(str(flow))
    url = upload_package(root, "TwoVersionsFlow", data, sha)
    # the node: no wheels, no uv cache, no index; a cache folder of its own; flowc only from the package
    (tmp_path / "wheels").rename(tmp_path / "wheels-gone")
    node = tmp_path / "node"
    node.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "FLOWC_PACKAGE_CACHE": str(tmp_path / "node-cache"),
        "UV_OFFLINE": "1",
        **aws_env,
    }
    for step in ("start", "end"):
        result = run_in_container(flow, step, url, root, env, node)
        assert result.returncode == 0, result.stderr
    logs = (
        boto3.client("s3")
        .get_object(Bucket="envs", Key="root/TwoVersionsFlow/runs/c1/end/0/logs/attempt-0.stdout")["Body"]
        .read()
    )
    assert b"versions 1.0 2.0" in logs
    # the two archives, unpacked once each on the node, beside the code package
    assert len([p for p in (tmp_path / "node-cache").iterdir() if not p.name.startswith(".")]) == 3


def test_runtime_refuses_an_environment_it_cannot_use(tmp_path, offline):
    from flowc.contract.layout import environment_pointer_key
    from flowc.environments.prepare import prepare_environments

    flow = write_flow(tmp_path / "src")
    store = tmp_path / "ds"
    loaded, _ = load_flow(flow.read_text(), str(flow))
    named = prepare_environments(loaded, str(flow), str(store), (current_platform(),), lambda line: None)
    lock_sha = named.step("start").packages.lock
    env = dict(os.environ, FLOWC_PACKAGE_CACHE=str(tmp_path / "cache"))

    def start(sha: str = lock_sha):
        argv = [sys.executable, "-m", "flowc.runtime", "step", "flow.py", "start", "--run-id", "r", "--task-id", "0"]
        argv += ["--datastore", str(store), "--environment", sha]
        return subprocess.run(argv, cwd=flow.parent, env=env, capture_output=True, text=True, timeout=60)

    missing = start("0" * 64)
    assert missing.returncode == 2 and "was not built for " + current_platform() in missing.stderr
    pointer = store / environment_pointer_key(lock_sha, current_platform())
    archive_sha = json.loads(pointer.read_text())["archive"]
    archive = store / "envs" / f"{archive_sha}.tar.gz"
    archive.write_bytes(archive.read_bytes() + b"tampered")
    tampered = start()
    assert tampered.returncode == 4 and "sha256 mismatch" in tampered.stderr
    assert "Traceback" not in missing.stderr + tampered.stderr


def test_runtime_refuses_an_environment_locked_for_another_python(tmp_path, offline):
    other = "3.9" if sys.version_info[:2] != (3, 9) else "3.10"
    flow = write_flow(
        tmp_path, TWO_VERSIONS_FLOW.replace('{"tinypkg": "1.0"}', f'{{"tinypkg": "1.0"}}, python="{other}"')
    )
    result = run_flowc("run", str(flow), "--datastore", str(tmp_path / "ds"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"is locked for Python {other}, but this is Python {sys.version_info[0]}.{sys.version_info[1]}" in (
        result.stderr + result.stdout
    )


def test_conda_is_served_from_pypi_and_disabled_is_honoured(tmp_path, offline):
    flow = write_flow(
        tmp_path,
        TWO_VERSIONS_FLOW.replace("pypi", "conda").replace('"uses": ""', '"uses": ">=1"')
        + "\n\n# a disabled @conda step needs no environment\n",
    )
    assert lock(flow)[1] == 2
    artifact = compile_flow(flow.read_text(), str(flow), "argo", Options())
    assert [str(w).split(": ", 1)[1] for w in artifact.warnings] == [
        "warning: @conda: installed from PyPI with uv under the names in the lock"
    ] * 2
    disabled = write_flow(
        tmp_path / "d", TWO_VERSIONS_FLOW.replace('@pypi(packages={"tinypkg": "1.0"})', "@pypi(disabled=True)")
    )
    lock(disabled)
    named = compile_flow(disabled.read_text(), str(disabled), "ir", Options()).flow
    assert named.step("start").packages is None and named.step("end").packages.lock


# ---------------------------------------------------------------------------- flowc deploy


def test_deploy_locks_builds_for_the_image_platform_and_uploads_before_the_code(tmp_path, offline):
    flow = write_flow(tmp_path / "src")
    store, dags = tmp_path / "ds", tmp_path / "dags"
    dry = run_flowc(
        "deploy", str(flow), "-t", "airflow", "--datastore", str(store), "--dags-folder", str(dags), "--dry-run"
    )
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.count("would build and upload environment") == 2 and not store.exists()
    deployed = run_flowc("deploy", str(flow), "-t", "airflow", "--datastore", str(store), "--dags-folder", str(dags))
    assert deployed.returncode == 0, deployed.stderr
    assert deployed.stdout.count("(linux-x86_64): uploaded") == 2
    shas = {entry_sha(e) for e in parse_lock(Path(lock_path(str(flow))).read_text()).values()}
    assert {p.name for p in (store / "envs").iterdir() if p.is_dir()} == shas
    assert all((store / "envs" / sha / "linux-x86_64.json").is_file() for sha in shas)
    dag = next(dags.glob("*.py")).read_text()
    assert dag.count("'--environment'") == 2 and all(f"'{sha}'" in dag for sha in shas)
    again = run_flowc("deploy", str(flow), "-t", "airflow", "--datastore", str(store), "--dags-folder", str(dags))
    assert again.returncode == 0 and again.stdout.count("already in the datastore") == 2


def test_deploy_builds_for_the_platforms_given(tmp_path, offline):
    flow = write_flow(tmp_path / "src")
    base = ("deploy", str(flow), "-t", "argo", "--datastore", str(tmp_path / "ds"), "--dry-run")
    arm = run_flowc(*base, "--env-platform", "linux-aarch64,linux-x86_64")
    assert arm.returncode == 0, arm.stderr
    assert arm.stdout.count("for linux-aarch64, linux-x86_64") == 2
    bad = run_flowc(*base, "--env-platform", "windows-x86")
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "error: --env-platform 'windows-x86': each must be one of "
        "linux-x86_64, linux-aarch64, darwin-arm64, darwin-x86_64"
    ]


def test_resume_reruns_a_step_in_its_environment(tmp_path, offline):
    flow = write_flow(
        tmp_path,
        TWO_VERSIONS_FLOW.replace(
            "        self.second = tinypkg.VERSION\n",
            "        import os\n\n        assert not os.environ.get('FAIL_END'), 'told to fail'\n"
            "        self.second = tinypkg.VERSION\n",
        ),
    )
    store = str(tmp_path / "ds")
    failed = run_flowc("run", str(flow), "--datastore", store, "--run-id", "r1", env={"FAIL_END": "1"})
    assert failed.returncode == 1 and "told to fail" in failed.stdout
    resumed = run_flowc("resume", "TwoVersionsFlow/r1", "--datastore", store, "--flow", str(flow), "--run-id", "r2")
    assert resumed.returncode == 0, resumed.stderr
    assert "versions 1.0 2.0" in resumed.stdout


# ---------------------------------------------------------------------------- @conda_base with a step's @conda

BASE_AND_STEP = """from metaflow import FlowSpec, step, conda, conda_base


@conda_base(python="3.9.10", libraries={"numpy": "1.26", "pandas": "2.1"})
class F(FlowSpec):
    @conda(libraries={"editdistance": "0.5.3", "pandas": "2.2"})
    @step
    def start(self):
        self.next(self.middle)

    @conda(disabled=True)
    @step
    def middle(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_a_step_conda_merges_with_the_flow_conda_base_as_metaflow_does(tmp_path):
    """Metaflow: a step's @conda adds its libraries to @conda_base's (the step's version wins) and keeps the
    base's python unless it names one; @conda(disabled=True) runs that step without the base's environment."""
    flow = write_flow(tmp_path, BASE_AND_STEP)
    graph, _ = load_flow(flow.read_bytes(), str(flow))
    start = graph.step("start").packages
    assert start.python == "3.9.10"
    assert dict(start.packages) == {"numpy": "1.26", "pandas": "2.2", "editdistance": "0.5.3"}
    assert graph.step("middle").packages is None
    assert dict(graph.step("end").packages.packages) == {"numpy": "1.26", "pandas": "2.1"}


def test_a_base_problem_is_one_line_not_one_per_step(tmp_path):
    flow = write_flow(tmp_path, BASE_AND_STEP.replace('python="3.9.10"', 'python="3.x"'))
    result = run_flowc("compile", str(flow), "-t", "argo")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if "python='3.x'" in line]
    # the base's line once; the merged step (line 6) carries the base's python, so it is named there too
    assert len(lines) == len(set(lines)) == 2, result.stderr


def test_a_patch_version_locks_for_its_major_minor(tmp_path, offline):
    flow = write_flow(tmp_path, TWO_VERSIONS_FLOW.replace("@pypi(", '@pypi(python="3.11.4", ', 1))
    lock(flow)
    entries = parse_lock(Path(lock_path(str(flow))).read_text())
    versions = {(e["python"], e["python_version"]) for e in entries.values()}
    assert ("3.11.4", "3.11") in versions
