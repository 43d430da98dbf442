"""Set the environment variables a step's secrets provide, at task start (Step Functions' @secrets).

Each secret named in SECRET_SOURCES_ENV is read from AWS Secrets Manager with
the job's own role; its value must be a JSON object, and each key becomes an
environment variable of the task (Metaflow's @secrets does the same).  Values
are only ever put in `os.environ`: never printed, logged or stored, and an
error names the secret, not its content.
"""

from __future__ import annotations

import json
import os
import re
import sys

from flowc.contract.secrets import SECRET_SOURCES_ENV, decode_sources

EXIT_FAILED = 1
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SecretsError(Exception):
    """A secret cannot be read or is not a JSON object of variable names (its value is never in the message)."""


def secret_variables(source: str, client) -> dict[str, str]:
    """{variable: value} of one secret, read with `client` (a boto3 secretsmanager client)."""
    try:
        response = client.get_secret_value(SecretId=source)
    except Exception as exc:  # noqa: BLE001 - botocore's errors: not found, access denied, endpoint down
        raise SecretsError(f"cannot read secret {source!r}: {type(exc).__name__}") from None
    text = response.get("SecretString")
    try:
        values = json.loads(text) if text is not None else None
    except ValueError:
        values = None
    if not isinstance(values, dict):
        raise SecretsError(f"secret {source!r} must hold a JSON object of environment variables")
    bad = sorted(k for k in values if not _VARIABLE_NAME.match(k))
    if bad:
        raise SecretsError(f"secret {source!r} has keys that are not variable names: {', '.join(map(repr, bad))}")
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


def export_secret_sources(environ=os.environ) -> int | None:
    """Put every listed secret's variables in `environ`; None on success (or nothing listed), else an exit code."""
    text = environ.get(SECRET_SOURCES_ENV)
    if not text:
        return None
    try:
        sources = decode_sources(text)
        import boto3  # only tasks with secrets pay for it

        client = boto3.client("secretsmanager")
        for source in sources:
            environ.update(secret_variables(source, client))
    except (SecretsError, ValueError) as exc:
        print(f"flowc.runtime: error: @secrets: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return None
