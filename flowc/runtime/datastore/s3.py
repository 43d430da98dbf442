"""The S3 datastore through boto3 (imported here, only when the root is s3://).

boto3 honours AWS_ENDPOINT_URL, so the same code talks to AWS or to a local
S3 API.  Throttling, 5xx answers, dropped connections and timeouts are retried
with backoff by botocore's standard retry mode; a body cut off mid-download is
fetched again here (botocore does not retry a streaming read).  Whole-object
puts make every write atomic.

Objects of FLOWC_S3_PART_MIB and up move in parallel parts through boto3's
transfer manager (s3transfer): a multipart upload, which S3 makes visible only
when it is completed (a failed one is aborted: nothing appears), and ranged
GETs written straight into the blob's preallocated parts (blob.allocate_parts),
hashed before anything is unpickled.  Settings (environment):

    FLOWC_S3_MAX_ATTEMPTS     attempts per request, first included (default 10)
    FLOWC_S3_CONNECT_TIMEOUT  seconds to connect (default 10)
    FLOWC_S3_READ_TIMEOUT     seconds without a byte from S3 (default 60)
    FLOWC_S3_PART_MIB         part size, and the size from which transfers use parts (default 8; S3's minimum is 5)
    FLOWC_S3_CONCURRENCY      parts in flight per transfer (default 8)

Any failure that is left after the retries is a DatastoreError whose one-line
message names S3, the bucket, the key and the endpoint.
"""

from __future__ import annotations

import os
import random
import time

from flowc.runtime.datastore.base import Datastore, DatastoreError, blob_key
from flowc.runtime.datastore.blob import (
    CHUNK,
    SMALL,
    Framed,
    _Hasher,
    _Truncated,
    allocate_parts,
    head_size,
    sha256_hex,
    split_blob,
)
from flowc.runtime.datastore.s3_parts import PartsReader, PartsWriter

MISSING = ("NoSuchKey", "404", "NotFound")
MIN_PART_MIB = 5  # S3 refuses smaller parts (all but the last)


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
    return {
        "max_attempts": _env_number("FLOWC_S3_MAX_ATTEMPTS", 10, int),
        "connect_timeout": _env_number("FLOWC_S3_CONNECT_TIMEOUT", 10.0),
        "read_timeout": _env_number("FLOWC_S3_READ_TIMEOUT", 60.0),
        "part_mib": _part_mib(),
        "concurrency": _env_number("FLOWC_S3_CONCURRENCY", 8, int),
    }


def _part_mib() -> int:
    part_mib = _env_number("FLOWC_S3_PART_MIB", 8, int)
    if part_mib < MIN_PART_MIB:
        raise DatastoreError(f"FLOWC_S3_PART_MIB must be at least {MIN_PART_MIB} (S3's smallest part), got {part_mib}")
    return part_mib


class S3Datastore(Datastore):
    def __init__(self, root: str):
        import boto3
        from botocore import exceptions
        from botocore.config import Config

        self.root = root.rstrip("/")
        bucket, _, prefix = root[len("s3://") :].partition("/")
        if not bucket:
            raise DatastoreError(f"bad S3 datastore {root!r}: expected s3://bucket/prefix")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        settings = s3_settings()
        self.max_attempts = settings["max_attempts"]
        config = Config(
            retries={"max_attempts": self.max_attempts, "mode": "standard"},
            connect_timeout=settings["connect_timeout"],
            read_timeout=settings["read_timeout"],
        )
        self.s3 = boto3.client("s3", config=config)
        from boto3.s3.transfer import TransferConfig

        self.part_size = settings["part_mib"] << 20
        # s3transfer retries a cut-off part body itself (num_download_attempts); each request has botocore's retries.
        self.transfer_config = TransferConfig(
            multipart_threshold=self.part_size,
            multipart_chunksize=self.part_size,
            max_concurrency=settings["concurrency"],
            num_download_attempts=self.max_attempts,
        )
        self.endpoint = self.s3.meta.endpoint_url
        self._client_error = exceptions.ClientError
        self._botocore_error = exceptions.BotoCoreError
        # Errors of a body cut off after the response headers arrived: botocore does not retry these.
        self._stream_errors = (
            exceptions.IncompleteReadError,
            exceptions.ResponseStreamingError,
            exceptions.ReadTimeoutError,
            exceptions.ConnectionClosedError,
        )
        from boto3.exceptions import S3TransferFailedError, S3UploadFailedError
        from s3transfer.exceptions import RetriesExceededError, TransferNotDoneError

        # What a transfer raises once its own retries are spent (besides ClientError and BotoCoreError).
        self._transfer_errors = (
            S3TransferFailedError,
            S3UploadFailedError,
            RetriesExceededError,
            TransferNotDoneError,
            OSError,
        )

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
        if len(data) >= self.part_size:
            self._upload(key, [memoryview(data).cast("B")])
        else:
            self._call("write", key, self.s3.put_object, Body=data)

    def _upload(self, key: str, parts: list) -> None:
        """One object from `parts` (views, not copied), in parallel parts; visible only once complete."""
        self._transfer(
            "write",
            key,
            lambda: self.s3.upload_fileobj(
                PartsReader(parts), self.bucket, self._key(key), Config=self.transfer_config
            ),
        )

    def _transfer(self, action: str, key: str, function) -> None:
        try:
            function()
        except self._client_error as exc:
            raise self._error(action, key, exc) from None
        except (self._botocore_error,) + self._transfer_errors as exc:
            # RetriesExceededError keeps the cause of the last attempt
            raise self._error(action, key, getattr(exc, "last_exception", None) or exc) from None

    def _put_framed(self, flow: str, blob: Framed) -> str:
        """Hash, then upload the parts as they are (no joined copy of the value)."""
        sha = blob.sha256()
        if not self.blob_intact(flow, sha, blob.size):
            if blob.size >= self.part_size:
                self._upload(blob_key(flow, sha), blob.parts)
            else:
                self.write(blob_key(flow, sha), b"".join(blob.parts))
        return sha

    def get_parts(self, flow: str, sha: str):
        """(in-band pickle, [buffers]) of blob `sha`: a small blob in one GET; a large one in parallel ranged
        GETs into its preallocated parts.  Refused unless the bytes hash to `sha`."""
        self._check_ref(sha)
        key = blob_key(flow, sha)
        first = self._read_range(key, 0, SMALL - 1)
        if first is None:
            self._check_bucket()
            raise FileNotFoundError(f"artifact blob {sha} is missing: no {self.url(key)}")
        prefix, size = first
        try:
            if len(prefix) == size:  # the whole blob
                if sha256_hex(prefix) != sha:
                    raise self._corrupt(sha)
                return split_blob(prefix)
            framing = head_size(prefix)
            if framing > len(prefix):  # a length table longer than the first range (a very long list of buffers)
                if framing > size:
                    raise _Truncated()
                rest = self._read_range(key, len(prefix), framing - 1)
                prefix += rest[0] if rest else b""
            inband, buffers, views = allocate_parts(prefix[:framing], size)
        except _Truncated:
            raise self._corrupt(sha) from None
        writer = PartsWriter(views)
        self._transfer(
            "read",
            key,
            lambda: self.s3.download_fileobj(self.bucket, self._key(key), writer, Config=self.transfer_config),
        )
        if not writer.complete() or views[0][:framing] != prefix[:framing]:
            raise self._corrupt(sha)
        hasher = _Hasher()
        for view in views:
            for offset in range(0, len(view), CHUNK):
                hasher.update(view[offset : offset + CHUNK])
        if hasher.hexdigest() != sha:
            raise self._corrupt(sha)
        return inband, buffers

    def _read_range(self, key: str, first: int, last: int) -> tuple[bytes, int] | None:
        """(bytes first..last of `key`, the object's size), or None when it is missing; cut bodies fetched again."""
        for attempt in range(self.max_attempts):
            response = self._call("read", key, self.s3.get_object, Range=f"bytes={first}-{last}")
            if response is None:
                return None
            try:
                data = response["Body"].read()
            except self._stream_errors + (OSError,) as exc:
                if attempt == self.max_attempts - 1:
                    raise self._error("read", key, exc) from None
                time.sleep(min(5.0, 0.1 * 2**attempt) * random.random())
                continue
            content_range = response.get("ContentRange") or ""
            total = content_range.rpartition("/")[2]
            return data, int(total) if total.isdigit() else len(data)
        raise AssertionError("unreachable")

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
            except self._stream_errors + (OSError,) as exc:
                if attempt == self.max_attempts - 1:
                    raise self._error("read", key, exc) from None
                time.sleep(min(5.0, 0.1 * 2**attempt) * random.random())
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
                    names.add(common["Prefix"][len(prefix) :].rstrip("/"))
                for item in page.get("Contents", []):
                    names.add(item["Key"][len(prefix) :])
        except (self._client_error, self._botocore_error) as exc:
            raise self._error("list", key, exc) from None
        return sorted(n for n in names if n)
