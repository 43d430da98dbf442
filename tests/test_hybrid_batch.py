"""`flowc run --batch`: @batch steps as AWS Batch jobs, the rest local, artifacts through S3.

Real boto3 clients against tests/batch_standin.py (Batch and CloudWatch Logs on
127.0.0.1; each job's command a local process) and moto's S3 server (the
`aws_env` fixture), with the real `flowc` CLI in a subprocess.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from batch_standin import BatchStandIn
from conftest import AWS_TEST_ENV, EXAMPLES, run_flowc
from flowc.runtime.client import Run

HYBRID = str(EXAMPLES / "hybrid.py")
QUEUE = "flowc-test-queue"


@pytest.fixture
def batch(aws_env, tmp_path):
    """(the stand-in, env for `flowc run`): jobs get what an image and an instance role would give them."""
    job_env = dict(
        AWS_TEST_ENV,
        AWS_ENDPOINT_URL=aws_env["AWS_ENDPOINT_URL"],  # the jobs' S3 is moto's
        PATH=os.pathsep.join([os.path.dirname(sys.executable), "/usr/bin", "/bin"]),  # the image's `python`
        HOME=str(tmp_path),
        FLOWC_PACKAGE_CACHE=str(tmp_path / "job-packages"),
    )
    with BatchStandIn(job_env) as standin:
        env = {
            "AWS_ENDPOINT_URL_BATCH": standin.url,
            "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": standin.url,
            "FLOWC_JOB_QUEUE": QUEUE,
        }
        yield standin, env


@pytest.fixture
def bucket(aws_env, request):
    import boto3

    name = "flowc-batch-" + request.node.name.replace("_", "-").lower()[:40].strip("-")
    boto3.client("s3").create_bucket(Bucket=name)
    return f"s3://{name}/x"


def run_id_of(output: str) -> str:
    return next(line.split()[1] for line in output.splitlines() if line.startswith("run ")).split("/")[1]


def local_total(tmp_path: Path) -> int:
    result = run_flowc("run", HYBRID, "--datastore", str(tmp_path / "local"), "--run-id", "local", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    return Run("HybridFlow/local", datastore=str(tmp_path / "local"))["end"].task.data.total


def test_batch_steps_run_as_jobs_the_rest_locally_same_artifacts(batch, bucket, tmp_path):
    standin, env = batch
    result = run_flowc("run", HYBRID, "--batch", "--datastore", bucket, "--max-workers", "2", "--run-id", "r1", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    submitted = standin.operations("SubmitJob")
    # One job per foreach split of the @batch step; start, join and end ran locally.
    assert sorted(job["jobName"] for job in submitted) == [f"HybridFlow-score-{i}" for i in range(3)]
    assert all(job["jobQueue"] == QUEUE for job in submitted)
    overrides = submitted[0]["containerOverrides"]
    assert overrides["resourceRequirements"] == [{"type": "VCPU", "value": "2"}, {"type": "MEMORY", "value": "8192"}]
    command = overrides["command"]
    assert command[0] == "python" and command[1] == "-c" and "--package" in command  # the code package, not this disk
    assert command[command.index("--package") + 1].startswith(bucket + "/HybridFlow/packages/")
    assert submitted[0]["timeout"] == {"attemptDurationSeconds": 605}  # @timeout(minutes=10) + the runner's grace
    # The job definition is registered once, by content, as deploy -t step-functions registers it.
    assert len(standin.operations("RegisterJobDefinition")) == 1
    assert standin.most_running <= 2  # --max-workers bounds the jobs in flight
    # The jobs' CloudWatch lines are in the run's output, and `flowc logs` shows them (the runtime saved them).
    assert "[score/1] scored part 1" in result.stdout
    logs = run_flowc("logs", "HybridFlow/r1/score/2", "--datastore", bucket)
    assert "scored part 2" in logs.stdout, logs.stdout + logs.stderr
    assert Run("HybridFlow/r1", datastore=bucket)["end"].task.data.total == local_total(tmp_path)
    assert standin.running() == []


def test_with_batch_sends_every_step(batch, bucket):
    standin, env = batch
    result = run_flowc("run", HYBRID, "--with", "batch", "--datastore", bucket, "--quiet", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    names = sorted(job["jobName"] for job in standin.operations("SubmitJob"))
    assert names == ["HybridFlow-end-0", "HybridFlow-join-0"] + [f"HybridFlow-score-{i}" for i in range(3)] + [
        "HybridFlow-start-0"
    ]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--batch"], "needs an s3:// datastore"),
        (["--with", "batch"], "needs an s3:// datastore"),
    ],
)
def test_remote_steps_with_a_local_datastore_are_a_usage_error(batch, tmp_path, args, message):
    _, env = batch
    result = run_flowc("run", HYBRID, *args, "--datastore", str(tmp_path / "ds"), env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "ds").exists()  # refused before anything was written


def test_a_batch_step_needs_a_job_queue(batch, bucket):
    _, env = batch
    result = run_flowc("run", HYBRID, "--batch", "--datastore", bucket, env=dict(env, FLOWC_JOB_QUEUE=""))
    assert result.returncode == 2
    assert "step 'score' has @batch but no job queue" in result.stderr


def test_without_the_flag_batch_steps_run_locally_with_a_note(batch, tmp_path):
    standin, env = batch
    result = run_flowc("run", HYBRID, "--datastore", str(tmp_path / "ds"), "--quiet", env=env)
    assert result.returncode == 0, result.stderr
    assert "note: step 'score' has @batch; `flowc run` runs it locally (pass --batch" in result.stderr
    assert standin.calls == []


RETRIED = '''
from flowc import FlowSpec, batch, current, retry, step


class RetriedFlow(FlowSpec):
    @batch
    @retry(times=1, minutes_between_retries=0)
    @step
    def start(self):
        if current.retry_count == 0:
            raise RuntimeError("first attempt fails")
        self.attempt = current.retry_count
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_retry_resubmits_the_job(batch, bucket, tmp_path):
    standin, env = batch
    flow = tmp_path / "retried.py"
    flow.write_text(RETRIED)
    result = run_flowc("run", str(flow), "--batch", "--datastore", bucket, "--run-id", "r", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    submitted = standin.operations("SubmitJob")
    assert [job["jobName"] for job in submitted] == ["RetriedFlow-start-0"] * 2
    attempts = [job["containerOverrides"]["command"] for job in submitted]
    assert [c[c.index("--attempt") + 1] for c in attempts] == ["0", "1"]
    assert Run("RetriedFlow/r", datastore=bucket)["end"].task.data.attempt == 1


SLEEPY = '''
import time

from flowc import FlowSpec, batch, step


class SleepyFlow(FlowSpec):
    @batch
    @step
    def start(self):
        print("sleeping", flush=True)
        time.sleep(120)
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_a_job_that_cannot_start_is_one_named_line(batch, bucket, tmp_path):
    standin, env = batch
    flow = tmp_path / "sleepy.py"
    flow.write_text(SLEEPY)
    result = run_flowc(
        "run", str(flow), "--batch", "--datastore", bucket, "--quiet", env=dict(env, FLOWC_IMAGE="example/unpullable:1")
    )
    assert result.returncode == 1
    assert "AWS Batch could not pull the job's image (CannotPullContainerError)" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_interrupting_the_run_terminates_its_jobs(batch, bucket, tmp_path):
    standin, env = batch
    flow = tmp_path / "sleepy.py"
    flow.write_text(SLEEPY)
    process = subprocess.Popen(
        [sys.executable, "-m", "flowc.cli", "run", str(flow), "--batch", "--datastore", bucket],
        env=dict(os.environ, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.time() + 60
    while not standin.running() and time.time() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert standin.running(), "the job never started"
    job_id = standin.running()[0]
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert [call["jobId"] for call in standin.operations("TerminateJob")] == [job_id]
    assert standin.running() == []
    assert f"cancelled AWS Batch job {job_id}" in output
    assert standin.jobs[job_id].describe()["status"] == "FAILED"


def test_resume_resubmits_only_what_failed(batch, bucket, tmp_path):
    standin, env = batch
    # No 2-minute wait before the retry of the broken split.
    source = (
        (EXAMPLES / "hybrid.py").read_text().replace("@retry(times=1)", "@retry(times=1, minutes_between_retries=0)")
    )
    marker = "        print(\"scored part\", self.input)\n"
    flow = tmp_path / "hybrid.py"
    flow.write_text(source.replace(marker, marker + "        assert self.input != 1, 'split 1 is broken'\n"))
    failed = run_flowc("run", str(flow), "--batch", "--datastore", bucket, "--run-id", "broken", "--quiet", env=env)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "split 1 is broken" in failed.stdout
    flow.write_text(source)  # fixed: resume runs only what did not finish, on AWS Batch again
    before = len(standin.operations("SubmitJob"))
    resumed = run_flowc("resume", "HybridFlow/broken", "--run-id", "fixed", "--datastore", bucket, "--quiet", env=env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert [job["jobName"] for job in standin.operations("SubmitJob")[before:]] == ["HybridFlow-score-1"]
    assert Run("HybridFlow/fixed", datastore=bucket)["end"].task.data.total == 8995500500


@pytest.mark.parametrize(
    "job, expected",
    [
        (
            {"statusReason": "Task failed to start", "container": {"reason": "CannotPullContainerError: not found"}},
            "could not pull the job's image (CannotPullContainerError)",
        ),
        (
            {"statusReason": "Essential container in task exited", "container": {"reason": "OutOfMemoryError: ..."}},
            "ran out of memory (OutOfMemoryError)",
        ),
        ({"statusReason": "Host EC2 (instance i-0abc) terminated."}, "spot reclaim or host terminated"),
        ({"statusReason": "Job attempt duration exceeded timeout"}, "stopped the job at its @timeout"),
        ({"statusReason": "Essential container in task exited", "container": {"exitCode": 3}}, "the job exited 3"),
    ],
    ids=["image", "oom", "spot", "timeout", "exit"],
)
def test_batch_failure_reasons_are_named(job, expected):
    from flowc.local.batch import failure_message

    assert expected in failure_message(job)
