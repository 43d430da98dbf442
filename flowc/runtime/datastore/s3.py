"""The S3 datastore through boto3 (imported here, only when the root is s3://).

boto3 honours AWS_ENDPOINT_URL, so the same code talks to AWS or to a local
S3 API.  Throttling, 5xx answers, dropped connections and timeouts are retried
with backoff by botocore's standard retry mode; a body cut off mid-download is
fetched again here (botocore does not retry a streaming read).  Whole-object
puts make every write atomic.  Settings (environment):

    FLOWC_S3_MAX_ATTEMPTS     attempts per request, first included (default 10)
    FLOWC_S3_CONNECT_TIMEOUT  seconds to connect (default 10)
    FLOWC_S3_READ_TIMEOUT     seconds without a byte from S3 (default 60)

Any failure that is left after the retries is a DatastoreError whose one-line
message names S3, the bucket, the key and the endpoint.
"""

from __future__ import annotations

import os
import random
import time

from flowc.runtime.datastore.base import Datastore, DatastoreError, blob_key

MISSING = ("NoSuchKey", "404", "NotFound")


def _env_number(name: str, default: float, kind=float):
    text = os.environ.get(name, "")
    try:
        value = kind(text) if text else default
    except ValueError:
        raise DatastoreError(f"{name}={text!r} is not a number") from None
    if value <= 0:
        raise DatastoreError(f"{name} must be positive, got {text!r}")
    return value


def s3_settings() -> dict:
    return {"max_attempts": _env_number("FLOWC_S3_MAX_ATTEMPTS", 10, int),
            "connect_timeout": _env_number("FLOWC_S3_CONNECT_TIMEOUT", 10.0),
            "read_timeout": _env_number("FLOWC_S3_READ_TIMEOUT", 60.0)}


class S3Datastore(Datastore):
    def __init__(self, root: str):
        import boto3
        from botocore import exceptions
        from botocore.config import Config

        self.root = root.rstrip("/")
        bucket, _, prefix = root[len("s3://"):].partition("/")
        if not bucket:
            raise DatastoreError(f"bad S3 datastore {root!r}: expected s3://bucket/prefix")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        settings = s3_settings()
        self.max_attempts = settings["max_attempts"]
        config = Config(retries={"max_attempts": self.max_attempts, "mode": "standard"},
                        connect_timeout=settings["connect_timeout"], read_timeout=settings["read_timeout"])
        self.s3 = boto3.client("s3", config=config)
        self.endpoint = self.s3.meta.endpoint_url
        self._client_error = exceptions.ClientError
        self._botocore_error = exceptions.BotoCoreError
        # Errors of a body cut off after the response headers arrived: botocore does not retry these.
        self._stream_errors = (exceptions.IncompleteReadError, exceptions.ResponseStreamingError,
                               exceptions.ReadTimeoutError, exceptions.ConnectionClosedError)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _error(self, action: str, key: str, exc: Exception) -> DatastoreError:
        where = f"s3://{self.bucket}/{self._key(key)} (endpoint {self.endpoint})"
        if isinstance(exc, self._client_error):
            error = exc.response.get("Error", {})
            code = error.get("Code", "")
            if code == "NoSuchBucket":
                return DatastoreError(f"S3 bucket '{self.bucket}' does not exist (endpoint {self.endpoint})")
            if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                return DatastoreError(f"S3 denied access to {action} {where}: {code}")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            return DatastoreError(f"S3 could not {action} {where}: {code or status} {error.get('Message', '')}".strip())
        detail = " ".join(str(exc).split())
        return DatastoreError(f"S3 could not {action} {where} after {self.max_attempts} attempts: {detail}")

    def _call(self, action: str, key: str, function, **kwargs):
        try:
            return function(Bucket=self.bucket, Key=self._key(key), **kwargs)
        except self._client_error as exc:
            if exc.response.get("Error", {}).get("Code") in MISSING:
                return None
            raise self._error(action, key, exc) from None
        except self._botocore_error as exc:
            raise self._error(action, key, exc) from None

    def write(self, key: str, data: bytes) -> None:
        self._call("write", key, self.s3.put_object, Body=data)

    def create(self, key: str, data: bytes) -> bool:
        """A conditional put (If-None-Match: *): S3 refuses it with 412 when the key exists."""
        try:
            self.s3.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*")
            return True
        except self._client_error as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
                return False
            raise self._error("write", key, exc) from None
        except self._botocore_error as exc:
            raise self._error("write", key, exc) from None

    def _blob_intact(self, flow: str, sha: str, size: int | None, thorough: bool) -> bool:
        """Present with the right size: S3 stores whole objects, so a blob there is the one that was put."""
        response = self._call("look up", blob_key(flow, sha), self.s3.head_object)
        if response is None:
            self._check_bucket()
            return False
        return size is None or response.get("ContentLength") == size

    def read(self, key: str) -> bytes | None:
        for attempt in range(self.max_attempts):
            response = self._call("read", key, self.s3.get_object)
            if response is None:
                return None
            try:
                return response["Body"].read()
            except (self._stream_errors + (OSError,)) as exc:
                if attempt == self.max_attempts - 1:
                    raise self._error("read", key, exc) from None
                time.sleep(min(5.0, 0.1 * 2 ** attempt) * random.random())
        raise AssertionError("unreachable")

    def exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except self._client_error as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in MISSING:
                # HEAD answers have no body, so a missing bucket looks like a missing key: ask once.
                self._check_bucket()
                return False
            raise self._error("look up", key, exc) from None
        except self._botocore_error as exc:
            raise self._error("look up", key, exc) from None

    def _check_bucket(self) -> None:
        if getattr(self, "_bucket_ok", False):
            return
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except self._client_error as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket", "NotFound"):
                raise DatastoreError(f"S3 bucket '{self.bucket}' does not exist (endpoint {self.endpoint})") from None
            raise self._error("look up", "", exc) from None
        except self._botocore_error as exc:
            raise self._error("look up", "", exc) from None
        self._bucket_ok = True

    def children(self, key: str) -> list[str]:
        prefix = self._key(key).rstrip("/") + "/"
        names: set[str] = set()
        paginator = self.s3.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
                for common in page.get("CommonPrefixes", []):
                    names.add(common["Prefix"][len(prefix):].rstrip("/"))
                for item in page.get("Contents", []):
                    names.add(item["Key"][len(prefix):])
        except (self._client_error, self._botocore_error) as exc:
            raise self._error("list", key, exc) from None
        return sorted(n for n in names if n)
