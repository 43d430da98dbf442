"""`flowc run --batch`: the local runner sends @batch steps to AWS Batch; every other step stays local.

Each task is one Batch job made exactly as `deploy -t step-functions` makes it:
the job definition from the same content (flowc/compiler/targets/step_functions_jobs.py),
registered once by that content (flowc/deploy/step_functions.py), and per job the
step's resources (`resource_requirements`, the Step Functions target's) and
environment as container overrides, the runtime argv (with `--package`, the code
package the run uploaded) as the command, `@timeout` as `attemptDurationSeconds`.
The runner polls DescribeJobs with backoff, echoes the job's CloudWatch Logs lines
as they arrive, and names the usual failure causes in one line.  `@retry` is the
runner's own loop (one job per attempt, as the Step Functions retry loop submits
one); an interrupted run terminates every job it has in flight.

The job writes its logs to the datastore itself (the runtime does, on any
machine), so `flowc logs` shows a Batch task as it shows a local one.
"""

from __future__ import annotations

import threading

from flowc.compiler.targets.step_functions_argv import resource_requirements
from flowc.compiler.targets.step_functions_jobs import container_environment, container_properties, job_definition_name
from flowc.contract.command import EXIT_FAILED, EXIT_LAUNCH, EXIT_OK
from flowc.local.processes import TIMEOUT_GRACE_SECONDS, TIMED_OUT
from flowc.local.remote_jobs import LogTail, RemoteJobs, poll_delays

BACKEND = "batch"
LOG_GROUP = "/aws/batch/job"  # where Batch sends a container's output unless the job definition says otherwise
BATCH_LEAST_TIMEOUT_SECONDS = 60  # Batch refuses a shorter attemptDurationSeconds
TERMINATE_REASON = "flowc run was interrupted"
TIMEOUT_REASON = "Job attempt duration exceeded timeout"  # Batch's statusReason
DONE_STATES = ("SUCCEEDED", "FAILED")


def queue_of(step, options) -> str | None:
    """@batch(queue=...), else the job-queue setting (FLOWC_JOB_QUEUE, [tool.flowc.step-functions])."""
    batch = step.compute.batch
    return (batch.queue if batch else None) or options.job_queue


def batch_problems(steps, options) -> list[str]:
    """Why these @batch steps cannot be submitted (usage errors); [] when they can."""
    return [
        f"step '{step.name}' has @batch but no job queue: pass @batch(queue=...), --with batch:queue=..., "
        "FLOWC_JOB_QUEUE or job-queue in [tool.flowc.step-functions]"
        for step in steps
        if not queue_of(step, options)
    ]


def failure_message(job: dict) -> str:
    """One line saying why a FAILED job failed, naming the usual causes."""
    container = job.get("container") or {}
    status_reason, container_reason = job.get("statusReason") or "", container.get("reason") or ""
    said = f"{status_reason} {container_reason}"
    if "CannotPullContainerError" in said:
        return (
            f"AWS Batch could not pull the job's image (CannotPullContainerError): check the image name and that "
            f"the execution role may read its registry ({container_reason or status_reason})"
        )
    if "OutOfMemoryError" in said or "OOM" in said:
        return "the job ran out of memory (OutOfMemoryError): raise @resources(memory=...) or @batch(memory=...)"
    if "Host EC2" in said or "spot" in said.lower():
        return f"the job's instance went away (spot reclaim or host terminated: {status_reason}); a retry resubmits it"
    if TIMEOUT_REASON.lower() in said.lower():
        return "AWS Batch stopped the job at its @timeout (attemptDurationSeconds)"
    code = container.get("exitCode")
    ended = f"exited {code}" if code is not None else "ended without an exit code"
    return f"the job {ended}" + (f": {status_reason}" if status_reason else "")


class BatchSteps:
    """The @batch steps of one run: their job definitions, their jobs."""

    def __init__(self, flow, options, jobs: RemoteJobs, show_output: bool):
        self.flow, self.options, self.jobs, self.show_output = flow, options, jobs, show_output
        self._registered: set[str] = set()
        self._clients: dict = {}
        self._lock = threading.Lock()
        self._registering = threading.Lock()

    def launches(self, step) -> bool:
        return step.compute.backend == BACKEND

    def describe(self, step) -> str:
        return f"on AWS Batch (queue {queue_of(step, self.options)})"

    def client(self, service: str):
        with self._lock:
            if service not in self._clients:
                # boto3 (~0.3 s) only for a run that submits Batch jobs
                import boto3

                self._clients[service] = boto3.client(service)
            return self._clients[service]

    def job_definition(self, step, echo) -> str:
        """The step's job definition name, registered (once per run, and only when no ACTIVE one matches)."""
        from flowc.deploy.step_functions import register_job_definition  # deploy's registration by content

        properties = container_properties(step, self.options)
        name = job_definition_name(properties, self.options)
        batch = self.client("batch")
        with self._registering:  # held through the call: a second task must not submit before it is registered
            if name not in self._registered:
                call = lambda _service, operation, **kw: getattr(batch, operation)(**kw)  # noqa: E731
                register_job_definition(call, name, properties, echo)
                self._registered.add(name)
        return name

    def submission(self, step, task_id: str, argv: list[str], definition: str, timeout_seconds: int | None) -> dict:
        """SubmitJob's arguments: the Step Functions Task's parameters, spelled as boto3 takes them."""
        overrides: dict = {
            "command": argv,
            "resourceRequirements": [{"type": r["Type"], "value": r["Value"]} for r in resource_requirements(step)],
        }
        environment = container_environment(step)
        if environment:
            overrides["environment"] = [{"name": k, "value": v} for k, v in environment]
        job = {
            "jobName": f"{self.flow.name}-{step.name}-{task_id.replace('.', '_')}"[:128],
            "jobQueue": queue_of(step, self.options),
            "jobDefinition": definition,
            "containerOverrides": overrides,
        }
        if timeout_seconds:
            # The runtime stops the step at its @timeout; Batch's deadline is the backstop, as the runner's kill is.
            seconds = max(BATCH_LEAST_TIMEOUT_SECONDS, timeout_seconds + TIMEOUT_GRACE_SECONDS)
            job["timeout"] = {"attemptDurationSeconds": seconds}
        batch = step.compute.batch
        if batch is not None and batch.tags:
            job["tags"], job["propagateTags"] = dict(batch.tags), True
        return job

    def run(self, step, task_id: str, argv: list[str], prefix: str, timeout_seconds: int | None):
        """Submit one attempt as a job and wait for its end: (exit code, last log lines) as a local task gives."""
        from botocore.exceptions import BotoCoreError, ClientError  # with boto3, only for Batch runs

        tail = LogTail(prefix, self.jobs.echo, self.show_output)
        try:
            definition = self.job_definition(step, self.jobs.echo)
            job_id = self.client("batch").submit_job(
                **self.submission(step, task_id, argv, definition, timeout_seconds)
            )["jobId"]
        except (BotoCoreError, ClientError) as exc:
            tail.lines.append(f"flowc: could not submit step '{step.name}' task {task_id} to AWS Batch: {exc}")
            return EXIT_LAUNCH, tail.lines
        self.jobs.echo(f"{prefix}submitted AWS Batch job {job_id}")
        key, job, code = self.jobs.follow(
            f"AWS Batch job {job_id} ({step.name}/{task_id})",
            lambda: self.terminate(job_id),
            lambda: self.wait(job_id, tail),
            (BotoCoreError, ClientError),
            tail.lines,
        )
        if code is not None:
            return code, tail.lines
        self.jobs.forget(key)
        if job["status"] == "SUCCEEDED":
            return EXIT_OK, tail.lines
        message = failure_message(job)
        tail.lines.append(f"flowc: step '{step.name}' task {task_id}: {message}")
        if TIMEOUT_REASON.lower() in (job.get("statusReason") or "").lower():
            return TIMED_OUT, tail.lines
        code = (job.get("container") or {}).get("exitCode")
        return (code if isinstance(code, int) and code != 0 else EXIT_FAILED), tail.lines

    def wait(self, job_id: str, tail: LogTail) -> dict | None:
        """Poll the job until it ends, echoing its new log lines; None when the run is interrupted first."""
        logs = _LogStream(self.client("logs"))
        for delay in poll_delays():
            if self.jobs.stopping.wait(delay):
                return None
            job = self.client("batch").describe_jobs(jobs=[job_id])["jobs"][0]
            stream = (job.get("container") or {}).get("logStreamName")
            if stream:
                logs.read(stream, tail)
            if job["status"] in DONE_STATES:
                return job
        raise AssertionError("unreachable")

    def terminate(self, job_id: str) -> None:
        self.client("batch").terminate_job(jobId=job_id, reason=TERMINATE_REASON)


class _LogStream:
    """A job's CloudWatch Logs stream, read forward from where the last read stopped."""

    def __init__(self, logs_client):
        self.logs, self.token = logs_client, None

    def read(self, stream: str, tail: LogTail) -> None:
        from botocore.exceptions import ClientError

        while True:
            request = {"logGroupName": LOG_GROUP, "logStreamName": stream, "startFromHead": True}
            if self.token:
                request["nextToken"] = self.token
            try:
                page = self.logs.get_log_events(**request)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                    return  # the stream appears once the container has started
                raise
            for event in page.get("events", []):
                tail.add(event.get("message", ""))
            token = page.get("nextForwardToken")
            if not token or token == self.token:
                return
            self.token = token
