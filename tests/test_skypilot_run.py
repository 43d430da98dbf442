"""`flowc run --skypilot`: the local runner launches @skypilot steps through SkyPilot.

No cloud is reachable here.  `sky` is a stand-in executable these tests write
into a temporary folder put first on PATH (tests/test_skypilot.py's FAKE_SKY):
it records its argv and does what SkyPilot does on a VM, runs the task's
`run` script with bash with the task's envs plus the `--env` values.  So each
launched step really runs from the uploaded code package and commits to the
datastore, an s3:// one served by moto on 127.0.0.1 (the `aws_env` fixture).
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from conftest import EXAMPLES, run_flowc
from flowc.runtime.client import Run
from test_skypilot import FAKE_SKY

EXAMPLE = str(EXAMPLES / "skypilot.py")
NOTE = "has @skypilot: running it locally (pass --skypilot to launch it through SkyPilot)"


@pytest.fixture
def sky(tmp_path):
    """(env for `flowc run`, a function returning the stand-in's recorded calls)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "sky").write_text(FAKE_SKY.format(python=sys.executable))
    (folder / "sky").chmod(0o755)
    log = tmp_path / "sky-calls.jsonl"
    env = {
        "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}",
        "FAKE_SKY_LOG": str(log),
        # The VM's interpreter (the `python` setting): here, this venv's, which has boto3.
        "FLOWC_PYTHON": sys.executable,
    }

    def calls() -> list[list[str]]:
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    return env, calls


@pytest.fixture
def bucket(aws_env, request):
    import boto3

    name = "flowc-sky-" + request.node.name.replace("_", "-").lower()[:40].strip("-")
    boto3.client("s3").create_bucket(Bucket=name)
    return f"s3://{name}/x"


def envs_of(call: list[str]) -> dict[str, str]:
    return dict(call[i + 1].split("=", 1) for i, item in enumerate(call) if item == "--env")


def test_skypilot_steps_launch_through_sky_and_artifacts_land_in_the_datastore(sky, bucket):
    env, calls = sky
    # rows=10, not 1000: featurize reads `self.input` once per row, and each read is three S3 requests
    # (the runtime does not cache it), which the moto server answers at ~10 ms each.
    result = run_flowc(
        "run",
        EXAMPLE,
        "--skypilot",
        "--datastore",
        bucket,
        "--run-id",
        "r1",
        "--param",
        "rows=10",
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert NOTE not in result.stderr
    made = calls()
    managed = [c for c in made if c[:2] == ["jobs", "launch"]]
    on_cluster = [c for c in made if c[0] == "exec"]
    assert len(made) == 4 and len(managed) == 3 and len(on_cluster) == 1, made
    assert on_cluster[0][1] == "flowc-train"  # the named cluster is reused: `sky exec` ran it
    package = f"{bucket}/SkyFlow/packages/"
    for call in made:
        values = envs_of(call)
        assert values["FLOWC_RUN_ID"] == "r1" and values["FLOWC_PACKAGE"].startswith(package), call
        assert "FLOWC_ATTEMPT" not in values  # a managed job's restarts are SkyPilot's; train has no @retry
    assert sorted(envs_of(c)["FLOWC_TASK_ID"] for c in managed) == ["0", "1", "2"]  # one job per split
    assert len({envs_of(c)["FLOWC_PACKAGE"] for c in made}) == 1  # built and uploaded once
    assert result.stdout.count("code package for SkyPilot:") == 1

    run = Run("SkyFlow/r1", datastore=bucket)
    assert run.successful
    # seeds 1, 2, 3; a split sums seed * i for i < 10 = seed * 45; 6 * 45 = 270 = 2 * 97 + 76
    assert (run["end"].task.data.total, run["end"].task.data.score) == (270, 76)
    assert [t.data.features[:3] for t in run["featurize"]] == [[0, 1, 2], [0, 2, 4], [0, 3, 6]]
    # The launched steps ran from the code package (as on a VM); the others as local processes.
    assert all(t.meta["package"].startswith(package) for t in run["featurize"])
    assert run["train"].task.meta["package"].startswith(package)
    assert run["gather"].task.meta["package"] is None and run["start"].task.meta["package"] is None


def test_a_failed_managed_job_is_not_retried_by_the_runner(sky, bucket):
    env, calls = sky
    env["FAKE_SKY_CODES"] = "jobs launch=100"  # SkyPilot: the job failed (after its own restarts)
    result = run_flowc(
        "run",
        EXAMPLE,
        "--skypilot",
        "--datastore",
        bucket,
        "--run-id",
        "bad",
        "--max-workers",
        "1",
        "--param",
        "rows=10",
        env=env,
        timeout=300,
    )
    assert result.returncode == 1
    assert "failed: step 'featurize' task" in result.stdout and "(after 1 attempt)" in result.stdout, result.stdout
    assert "the step failed on SkyPilot" in result.stdout
    # featurize has @retry(times=2): SkyPilot restarts it (max_restarts_on_errors), so each split launches once.
    made = calls()
    assert made and all(c[:2] == ["jobs", "launch"] for c in made)
    task_ids = [envs_of(c)["FLOWC_TASK_ID"] for c in made]
    assert len(task_ids) == len(set(task_ids)), task_ids
    assert "retrying" not in result.stdout


def test_with_skypilot_launches_every_step_and_parameters_travel_as_env(sky, bucket):
    env, calls = sky
    greeting = "$(touch pwned) 'x'"
    result = run_flowc(
        "run",
        str(EXAMPLES / "parameters.py"),
        "--with",
        "skypilot:managed=False",
        "--datastore",
        bucket,
        "--run-id",
        "p1",
        "--param",
        f"greeting={greeting}",
        "--param",
        "alpha=0.5",
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    made = calls()
    assert [c[0] for c in made] == ["launch", "launch"] and all("--down" in c for c in made)  # fresh clusters
    assert envs_of(made[0])["FLOWC_PARAM_0"] == f"greeting={greeting}"
    assert Run("ParameterFlow/p1", datastore=bucket).data.message == f"hello {greeting} 0.5"


def test_without_the_flag_skypilot_steps_run_locally_with_a_note(sky, tmp_path):
    env, calls = sky
    store = str(tmp_path / "ds")
    result = run_flowc("run", EXAMPLE, "--datastore", store, "--run-id", "local", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("featurize", "train"):
        assert result.stderr.count(f"step '{name}' {NOTE}") == 1
    assert calls() == []
    assert Run("SkyFlow/local", datastore=store).data.score == 88


@pytest.mark.parametrize("args", [["--skypilot"], ["--with", "skypilot"]])
def test_launching_needs_an_s3_datastore(sky, tmp_path, args):
    env, calls = sky
    result = run_flowc("run", EXAMPLE, *args, "--datastore", str(tmp_path / "ds"), env=env)
    assert result.returncode == 2
    assert "needs an s3:// datastore" in result.stderr and "local folder" in result.stderr
    assert calls() == [] and not (tmp_path / "ds").exists()


def test_launching_needs_sky_and_a_skypilot_step(sky, tmp_path):
    env, _ = sky
    result = run_flowc(
        "run", EXAMPLE, "--skypilot", "--datastore", "s3://b/x", env=dict(env, FLOWC_SKY=str(tmp_path / "no-sky"))
    )
    assert result.returncode == 2 and "command was not found" in result.stderr
    result = run_flowc("run", str(EXAMPLES / "linear.py"), "--skypilot", "--datastore", "s3://b/x", env=env)
    assert result.returncode == 2 and "no step of LinearFlow has @skypilot" in result.stderr
