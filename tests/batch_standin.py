"""A stand-in for AWS Batch and CloudWatch Logs on 127.0.0.1, for real boto3 clients.

What it stands in for: the AWS Batch API operations the local runner and
`deploy -t step-functions` call (RegisterJobDefinition, DescribeJobDefinitions,
SubmitJob, DescribeJobs, TerminateJob; REST-JSON, as botocore speaks it) and
CloudWatch Logs' GetLogEvents (JSON 1.1) on the log group `/aws/batch/job`.
Point boto3 at it with AWS_ENDPOINT_URL_BATCH and AWS_ENDPOINT_URL_CLOUDWATCH_LOGS.

What a job does here: its container command (the job definition's, or the
SubmitJob override) runs as a local process, an argv list (never a shell), in
a fresh folder, with `base_env` (what the image and the instance role give:
PATH with a `python`, AWS credentials and endpoint) plus the job definition's
and the override's environment.  Its output (stdout and stderr) becomes the
job's log stream.  Status: RUNNING while the process lives, then SUCCEEDED
(exit 0) or FAILED with `container.exitCode` and Batch's statusReason;
`timeout.attemptDurationSeconds` kills it with Batch's "Job attempt duration
exceeded timeout"; TerminateJob kills its process group and records the call.
An image whose name contains "unpullable" fails at once as Batch does on a
CannotPullContainerError.

What it does not implement: images (every image is this machine's `python`),
compute environments, queues (any name is accepted), scheduling delays,
array and multi-node jobs, job dependencies, resource limits (recorded, not
enforced), retries by Batch (`retryStrategy`), IAM, pagination beyond one page
of log events, and every other operation (answered 400).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REGION_ACCOUNT = "us-east-1:123456789012"
LOG_GROUP = "/aws/batch/job"
TIMEOUT_REASON = "Job attempt duration exceeded timeout"


class _Job:
    def __init__(self, job_id: str, request: dict, definition: dict):
        self.id, self.request, self.definition = job_id, request, definition
        self.status, self.status_reason, self.exit_code, self.container_reason = "RUNNING", None, None, None
        self.process: subprocess.Popen | None = None
        self.stream = f"{definition['jobDefinitionName']}/default/{job_id}"
        self.lines: list[str] = []
        self.lock = threading.Lock()

    def describe(self) -> dict:
        with self.lock:
            container = {"command": self.command(), "logStreamName": self.stream}
            if self.exit_code is not None:
                container["exitCode"] = self.exit_code
            if self.container_reason:
                container["reason"] = self.container_reason
            found = {
                "jobId": self.id,
                "jobArn": f"arn:aws:batch:{REGION_ACCOUNT}:job/{self.id}",
                "jobName": self.request["jobName"],
                "jobQueue": self.request["jobQueue"],
                "jobDefinition": self.definition["jobDefinitionArn"],
                "status": self.status,
                "createdAt": 0,
                "container": container,
            }
            if self.status_reason:
                found["statusReason"] = self.status_reason
            return found

    def command(self) -> list[str]:
        return (self.request.get("containerOverrides") or {}).get("command") or self.definition[
            "containerProperties"
        ].get("command", [])


class BatchStandIn:
    """The server; `calls` records every operation (name, request body) in order."""

    def __init__(self, base_env: dict):
        self.base_env = dict(base_env)
        self.definitions: dict[str, list[dict]] = {}
        self.jobs: dict[str, _Job] = {}
        self.calls: list[tuple[str, dict]] = []
        self.most_running = 0  # the most jobs whose processes ran at once
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        for job in self.jobs.values():
            _kill(job)

    def operations(self, name: str) -> list[dict]:
        return [body for op, body in self.calls if op == name]

    def running(self) -> list[str]:
        """Ids of the jobs whose process is still alive."""
        return [j.id for j in self.jobs.values() if j.process is not None and j.process.poll() is None]

    # -- operations --------------------------------------------------------------

    def register_job_definition(self, body: dict) -> dict:
        name = body["jobDefinitionName"]
        with self.lock:
            revisions = self.definitions.setdefault(name, [])
            revision = len(revisions) + 1
            definition = dict(
                body,
                revision=revision,
                status="ACTIVE",
                jobDefinitionArn=f"arn:aws:batch:{REGION_ACCOUNT}:job-definition/{name}:{revision}",
            )
            revisions.append(definition)
        return {"jobDefinitionName": name, "jobDefinitionArn": definition["jobDefinitionArn"], "revision": revision}

    def describe_job_definitions(self, body: dict) -> dict:
        found = self.definitions.get(body.get("jobDefinitionName"), [])
        return {"jobDefinitions": [d for d in found if body.get("status") in (None, d["status"])]}

    def submit_job(self, body: dict) -> dict:
        name, _, revision = body["jobDefinition"].rpartition("/")[2].partition(":")
        revisions = self.definitions.get(name)
        if not revisions:
            raise _ClientError(f"job definition {body['jobDefinition']} not found")
        definition = revisions[int(revision) - 1] if revision else revisions[-1]
        job = _Job(uuid.uuid4().hex, body, definition)
        self.jobs[job.id] = job
        image = definition["containerProperties"]["image"]
        if "unpullable" in image:
            job.status = "FAILED"
            job.status_reason = "Task failed to start"
            job.container_reason = f"CannotPullContainerError: pull image manifest has been retried 5 time(s): {image}"
        else:
            self._start(job)
            with self.lock:
                self.most_running = max(self.most_running, len(self.running()))
        return {"jobId": job.id, "jobName": body["jobName"], "jobArn": f"arn:aws:batch:{REGION_ACCOUNT}:job/{job.id}"}

    def describe_jobs(self, body: dict) -> dict:
        return {"jobs": [self.jobs[i].describe() for i in body["jobs"] if i in self.jobs]}

    def terminate_job(self, body: dict) -> dict:
        job = self.jobs.get(body["jobId"])
        if job is None:
            raise _ClientError(f"job {body['jobId']} not found")
        with job.lock:
            if job.status == "RUNNING":
                job.status, job.status_reason = "FAILED", body.get("reason", "terminated")
        _kill(job)
        return {}

    def get_log_events(self, body: dict) -> dict:
        job = next((j for j in self.jobs.values() if j.stream == body.get("logStreamName")), None)
        if job is None or body.get("logGroupName") != LOG_GROUP:
            raise _ClientError("The specified log stream does not exist.", "ResourceNotFoundException")
        start = int(body["nextToken"].split("/")[1]) if body.get("nextToken") else 0
        with job.lock:
            lines = job.lines[start:]
        events = [{"timestamp": int(time.time() * 1000), "message": line, "ingestionTime": 0} for line in lines]
        return {"events": events, "nextForwardToken": f"f/{start + len(lines)}", "nextBackwardToken": "b/0"}

    # -- a job's process ------------------------------------------------------------

    def _start(self, job: _Job) -> None:
        env = dict(self.base_env)
        for source in (
            job.definition["containerProperties"].get("environment") or [],
            (job.request.get("containerOverrides") or {}).get("environment") or [],
        ):
            env.update({e["name"]: e["value"] for e in source})
        job.process = subprocess.Popen(
            job.command(),
            cwd=tempfile.mkdtemp(prefix="batch-job-"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = (job.request.get("timeout") or {}).get("attemptDurationSeconds")
        threading.Thread(target=self._follow, args=(job, deadline), daemon=True).start()

    def _follow(self, job: _Job, deadline: int | None) -> None:
        timer = None
        if deadline:

            def overdue():
                with job.lock:
                    if job.status == "RUNNING":
                        job.status, job.status_reason = "FAILED", TIMEOUT_REASON
                _kill(job)

            timer = threading.Timer(deadline, overdue)
            timer.daemon = True
            timer.start()
        for raw in iter(job.process.stdout.readline, b""):
            with job.lock:
                job.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
        code = job.process.wait()
        if timer is not None:
            timer.cancel()
        with job.lock:
            job.exit_code = code if code >= 0 else 128 - code
            if job.status == "RUNNING":
                job.status = "SUCCEEDED" if code == 0 else "FAILED"
                if code != 0:
                    job.status_reason = "Essential container in task exited"

    # -- HTTP ----------------------------------------------------------------------

    def _handler(self):
        standin = self
        rest = {
            "/v1/registerjobdefinition": ("RegisterJobDefinition", standin.register_job_definition),
            "/v1/describejobdefinitions": ("DescribeJobDefinitions", standin.describe_job_definitions),
            "/v1/submitjob": ("SubmitJob", standin.submit_job),
            "/v1/describejobs": ("DescribeJobs", standin.describe_jobs),
            "/v1/terminatejob": ("TerminateJob", standin.terminate_job),
        }
        targets = {"Logs_20140328.GetLogEvents": ("GetLogEvents", standin.get_log_events)}

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                found = rest.get(self.path) or targets.get(self.headers.get("X-Amz-Target", ""))
                if found is None:
                    return self._send(400, {"__type": "ClientException", "message": f"not implemented: {self.path}"})
                name, operation = found
                standin.calls.append((name, body))
                try:
                    self._send(200, operation(body))
                except _ClientError as exc:
                    self._send(400, {"__type": exc.code, "message": str(exc)}, exc.code)

            def _send(self, status: int, payload: dict, error_type: str | None = None):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                if error_type:
                    self.send_header("x-amzn-ErrorType", error_type)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler


class _ClientError(Exception):
    def __init__(self, message: str, code: str = "ClientException"):
        super().__init__(message)
        self.code = code


def _kill(job: _Job) -> None:
    if job.process is not None and job.process.poll() is None:
        try:
            os.killpg(job.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        job.process.wait()
