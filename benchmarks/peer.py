"""Metaflow 2.19.39 as the peer: its own venv, a loopback moto server, its commands as argv lists.

Metaflow's three compilers refuse the local datastore and talk to AWS even with
`--only-json` (S3 upload of the code package; Step Functions ListStateMachines;
Batch Describe*/RegisterJobDefinition per step).  Everything goes to a moto
server on 127.0.0.1 (run from flowc's venv, which pins moto[server]) through
botocore's standard AWS_ENDPOINT_URL; fake ARNs fill the settings Metaflow
checks.  No Metaflow code is patched.  Metaflow never enters flowc's venv.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VERSION = "2.19.39"
# kubernetes: imported by the @kubernetes decorator argo/airflow attach.
# python-dateutil<3: kubernetes 37.0.2 wants >=3, botocore wants <3.
REQUIREMENTS = [f"metaflow=={VERSION}", "kubernetes", "python-dateutil<3"]
ACCOUNT = "123456789012"  # moto's default account
BUCKET = "bench-peer-bucket"
QUEUE = "bench-peer-queue"
TARGET_COMMANDS = {
    "argo": ["argo-workflows", "create", "--only-json"],
    "step-functions": ["step-functions", "create", "--only-json"],
}


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_venv(venv: Path, log=print) -> Path:
    venv = venv.resolve()
    """Create the peer venv with pinned Metaflow if missing or wrong; return its python."""
    python = venv_python(venv)
    if python.exists():
        probe = subprocess.run(
            [str(python), "-c", "import metaflow.metaflow_version as v; print(v.get_version())"],
            capture_output=True,
            text=True,
        )
        if probe.returncode == 0 and probe.stdout.strip().startswith(VERSION):
            return python
    log(f"creating {venv} with {' '.join(REQUIREMENTS)} (about a minute)")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", *REQUIREMENTS],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return python


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Moto:
    """A moto server on loopback for Metaflow's AWS calls, seeded with a bucket and a Batch queue."""

    def __init__(self, state: Path):
        self.state = state
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Moto":
        self.state.mkdir(parents=True, exist_ok=True)
        log = open(self.state / "moto.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.__exit__()
                    raise RuntimeError(f"moto server did not start (log: {self.state / 'moto.log'})")
                time.sleep(0.1)
        self.seed()
        return self

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def seed(self) -> None:
        """The resources Metaflow's compilers read: a bucket, a MANAGED EC2 compute environment and a queue."""
        import boto3

        kw = dict(
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        boto3.client("s3", **kw).create_bucket(Bucket=BUCKET)
        ec2, iam, batch = (boto3.client(s, **kw) for s in ("ec2", "iam", "batch"))
        subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
        group = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
        service_role = iam.create_role(RoleName="bench-batch-service", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        profile = iam.create_instance_profile(InstanceProfileName="bench-ecs-instance")["InstanceProfile"]["Arn"]
        # MANAGED with computeResources.type: Metaflow reads it to choose EC2 vs FARGATE.
        ce = batch.create_compute_environment(
            computeEnvironmentName="bench-ce",
            type="MANAGED",
            state="ENABLED",
            serviceRole=service_role,
            computeResources={
                "type": "EC2",
                "minvCpus": 0,
                "maxvCpus": 4,
                "desiredvCpus": 0,
                "instanceTypes": ["optimal"],
                "subnets": [subnet],
                "securityGroupIds": [group],
                "instanceRole": profile,
            },
        )
        batch.create_job_queue(
            jobQueueName=QUEUE,
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": ce["computeEnvironmentArn"]}],
        )


def base_env(home: Path) -> dict:
    """Isolation shared by compile and run: a user name (Metaflow requires one), a private METAFLOW_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("METAFLOW_", "AWS_", "VIRTUAL_ENV", "PYTHON"))}
    env.update(
        USERNAME="bench",
        METAFLOW_HOME=str(home),
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def compile_env(home: Path, moto: Moto) -> dict:
    env = base_env(home)
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=moto.endpoint,
        METAFLOW_DEFAULT_DATASTORE="s3",
        METAFLOW_DATASTORE_SYSROOT_S3=f"s3://{BUCKET}/metaflow",
        METAFLOW_BATCH_JOB_QUEUE=QUEUE,
        METAFLOW_ECS_S3_ACCESS_IAM_ROLE=f"arn:aws:iam::{ACCOUNT}:role/bench-ecs-s3-access",
        METAFLOW_SFN_IAM_ROLE=f"arn:aws:iam::{ACCOUNT}:role/bench-sfn",
        METAFLOW_SFN_DYNAMO_DB_TABLE="bench-sfn-table",
        METAFLOW_KUBERNETES_NAMESPACE="default",
    )
    return env


class Peer:
    """Runs Metaflow's own commands on copies of the benchmark flows."""

    def __init__(self, python: Path, state: Path, moto: Moto | None):
        self.python = python
        self.state = state
        self.home = state / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.moto = moto

    def scratch(self, flow: Path) -> Path:
        """A private folder holding only this flow: Metaflow packages every *.py beside the flow file."""
        work = Path(tempfile.mkdtemp(prefix="mf-", dir=self.state))
        shutil.copy(flow, work / flow.name)
        return work

    def compile_argv(self, target: str, flow: Path, out: Path) -> tuple[list[str], Path]:
        """(argv, cwd) of Metaflow's compile; argo/sfn print the artifact to stdout (caller redirects)."""
        work = self.scratch(flow)
        if target == "airflow":
            return [str(self.python), flow.name, "--no-pylint", "airflow", "create", str(out)], work
        return [str(self.python), flow.name, "--no-pylint", *TARGET_COMMANDS[target]], work

    def compile_env(self) -> dict:
        return compile_env(self.home, self.moto)

    def run_argv(self, flow: Path) -> tuple[list[str], Path]:
        """`python FLOW run` with the local datastore and metadata, in a private folder."""
        work = self.scratch(flow)
        # Metaflow refuses a foreach wider than 100 unless told (--max-num-splits); flowc has no such cap
        return [str(self.python), flow.name, "--no-pylint", "run", "--max-num-splits", "100000"], work

    def run_env(self) -> dict:
        return base_env(self.home)
