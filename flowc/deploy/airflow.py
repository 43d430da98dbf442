"""Deploy to Airflow: package the code to the datastore, then write the DAG file into the dags folder.

The DAG is `flowc compile --target airflow` with the package's URL
(flowc.deploy.compile_for_deploy), so every task fetches exactly this code,
whatever sits next to the DAG file, and deploy refuses what compile refuses.
The dags folder is a local path (written atomically: a temporary file renamed
over the old one, so the scheduler never parses half a file) or
`s3://bucket/prefix/` for managed Airflow (one PutObject, which S3 makes whole).
"""

from __future__ import annotations

import os
import re

from flowc.deploy import DeployError, DeployRequest, compile_for_deploy

SAFE_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def dag_file_name(dag_name: str, suffix: str) -> str:
    name = f"{dag_name}{suffix}"
    if not SAFE_FILE_NAME.fullmatch(name):
        raise DeployError(f"cannot name a DAG file {name!r}: use --name with letters, digits, '_', '.', '-'")
    return name


def deploy(request: DeployRequest) -> None:
    """Package the flow's code, then write its compiled DAG file to `request.dags_folder`."""
    if not request.dags_folder:
        raise DeployError("airflow deploy needs --dags-folder PATH (or s3://bucket/dags/)")
    deployment = compile_for_deploy(request)
    artifact = deployment.artifact
    from flowc.compiler.targets.airflow import dag_id  # the DAG id the compiled file declares

    dag_name = dag_id(artifact.flow, request.options)
    destination = _join(request.dags_folder, dag_file_name(dag_name, artifact.suffix))
    if request.dry_run:
        request.echo(f"would write {destination}")
        return
    if request.dags_folder.startswith("s3://"):
        _put_s3(destination, artifact.text)
    else:
        _write_local(destination, artifact.text)
    request.echo(f"deployed DAG {dag_name} to {destination} (code package {deployment.package_sha[:12]})")


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
    # boto3 only for an s3:// dags folder: it takes ~0.3 s to import.
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, key = destination[len("s3://") :].partition("/")
    try:
        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType="text/x-python")
    except (BotoCoreError, ClientError) as exc:
        raise DeployError(f"cannot write {destination}: {exc}") from exc


def deployed_dag(request: DeployRequest, artifact) -> tuple[str, str]:
    """(where, text) of the DAG file `deploy` would write for `artifact`, as the dags folder holds it (`flowc diff`).

    DeployError when there is no such file or it cannot be read.
    """
    if not request.dags_folder:
        raise DeployError("airflow diff needs --dags-folder PATH (or s3://bucket/dags/)")
    destination = _join(request.dags_folder, dag_file_name(request.options.name or artifact.flow.name, artifact.suffix))
    if not request.dags_folder.startswith("s3://"):
        try:
            with open(destination, encoding="utf-8") as f:
                return destination, f.read()
        except FileNotFoundError:
            raise DeployError(f"no DAG file {destination}: the flow is not deployed there") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DeployError(f"cannot read {destination}: {getattr(exc, 'strerror', None) or exc}") from None
    # boto3 only for an s3:// dags folder: it takes ~0.3 s to import.
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, key = destination[len("s3://") :].partition("/")
    try:
        body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            raise DeployError(f"no DAG file {destination}: the flow is not deployed there") from None
        raise DeployError(f"cannot read {destination}: {exc}") from None
    except BotoCoreError as exc:
        raise DeployError(f"cannot read {destination}: {exc}") from None
    return destination, body.decode("utf-8")
