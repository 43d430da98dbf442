"""Deploy to Airflow: package the code to the datastore, then write the DAG file into the dags folder.

The dags folder is a local path (written atomically: a temporary file renamed
over the old one, so the scheduler never parses half a file) or
`s3://bucket/prefix/` for managed Airflow (one PutObject, which S3 makes whole).
The DAG is re-emitted with the package's URL so every task fetches exactly
this code, whatever sits next to the DAG file.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace

from flowc.deploy import DeployError, DeployRequest, package_code

SAFE_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def dag_file_name(request: DeployRequest) -> str:
    from flowc.compiler.targets.airflow import SUFFIX

    name = f"{request.options.name or request.artifact.flow.name}{SUFFIX}"
    if not SAFE_FILE_NAME.fullmatch(name):
        raise DeployError(f"cannot name a DAG file {name!r}: use --name with letters, digits, '_', '.', '-'")
    return name


def deploy(request: DeployRequest) -> None:
    """Package the flow's code, then write its DAG file to `request.dags_folder`."""
    if not request.dags_folder:
        raise DeployError("airflow deploy needs --dags-folder PATH (or s3://bucket/dags/)")
    from flowc.compiler.targets.airflow import emit

    flow = request.artifact.flow
    name = dag_file_name(request)
    url, sha = package_code(request)
    if request.dry_run:
        request.echo(f"would write {_join(request.dags_folder, name)}")
        return
    text = emit(flow, replace(request.options, package_url=url, package_sha=sha))
    destination = _join(request.dags_folder, name)
    if request.dags_folder.startswith("s3://"):
        _put_s3(destination, text)
    else:
        _write_local(destination, text)
    request.echo(f"deployed DAG {request.options.name or flow.name} to {destination} (code package {sha[:12]})")


def _join(folder: str, name: str) -> str:
    return folder.rstrip("/") + "/" + name if folder.startswith("s3://") else os.path.join(folder, name)


def _write_local(destination: str, text: str) -> None:
    folder = os.path.dirname(destination) or "."
    # The temporary name does not end in .py, so Airflow never parses it.
    temporary = os.path.join(folder, f".{os.path.basename(destination)}.{os.getpid()}.tmp")
    try:
        os.makedirs(folder, exist_ok=True)
        with open(temporary, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temporary, destination)
    except OSError as exc:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise DeployError(f"cannot write {destination}: {exc.strerror or exc}") from exc


def _put_s3(destination: str, text: str) -> None:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, key = destination[len("s3://"):].partition("/")
    try:
        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"),
                                      ContentType="text/x-python")
    except (BotoCoreError, ClientError) as exc:
        raise DeployError(f"cannot write {destination}: {exc}") from exc
