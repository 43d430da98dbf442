"""Where `metaflow.S3` (flowc/runtime/s3.py) keeps objects: S3 through boto3, or a local folder.

Both answer the same five questions (put, download, head, list one level, list all) in terms of keys
relative to the client's root; s3.py turns them into Metaflow's S3Objects.  The boto3 client is built
as the S3 datastore builds its own (AWS_ENDPOINT_URL, FLOWC_S3_* retries and timeouts), so an S3 that
works for the datastore works here.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass

TEMPORARY = ".flowc-partial-"  # a local object being written: never listed


class MetaflowS3Exception(Exception):
    """Metaflow's base error of the S3 client."""


class MetaflowS3NotFound(MetaflowS3Exception):
    """The object (or bucket) does not exist."""


class MetaflowS3AccessDenied(MetaflowS3Exception):
    """S3 refused the request (HTTP 403)."""


class MetaflowS3URLException(MetaflowS3Exception):
    """A URL or key the client cannot use."""


@dataclass
class Head:
    size: int
    content_type: str | None = None
    metadata: dict | None = None
    last_modified: float | None = None


class BotoBackend:
    """Objects under s3://bucket/prefix."""

    def __init__(self, bucket: str, prefix: str):
        import boto3  # only when a flow uses S3 on s3://
        from botocore.config import Config

        from flowc.runtime.datastore.s3 import s3_settings

        settings = s3_settings()
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.concurrency = settings["concurrency"]
        self.client = boto3.client(
            "s3",
            config=Config(
                retries={"max_attempts": settings["max_attempts"], "mode": "standard"},
                connect_timeout=settings["connect_timeout"],
                read_timeout=settings["read_timeout"],
                max_pool_connections=max(10, settings["concurrency"]),
            ),
        )
        from botocore.exceptions import BotoCoreError, ClientError

        self._errors = (ClientError, BotoCoreError)

    def full(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix and key else (self.prefix or key)

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.full(key)}"

    def _fail(self, action: str, key: str, exc: Exception) -> MetaflowS3Exception:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        where = self.url(key)
        if code in ("404", "NoSuchKey", "NotFound"):
            return MetaflowS3NotFound(f"{where} does not exist")
        if code == "NoSuchBucket":
            return MetaflowS3NotFound(f"S3 bucket '{self.bucket}' does not exist ({action} {where})")
        if code in ("403", "AccessDenied"):
            return MetaflowS3AccessDenied(f"access denied: {action} {where}")
        return MetaflowS3Exception(f"S3 {action} {where} failed: {exc}")

    def put(self, key: str, data: bytes | None, path: str | None, overwrite: bool, extra: dict) -> bool:
        if not overwrite and self.head(key) is not None:
            return False
        try:
            if path is not None:
                self.client.upload_file(path, self.bucket, self.full(key), ExtraArgs=extra or None)
            else:
                self.client.put_object(Bucket=self.bucket, Key=self.full(key), Body=data, **extra)
        except self._errors as exc:
            raise self._fail("put", key, exc) from None
        return True

    def head(self, key: str) -> Head | None:
        try:
            answer = self.client.head_object(Bucket=self.bucket, Key=self.full(key))
        except self._errors as exc:
            if str(getattr(exc, "response", {}).get("Error", {}).get("Code", "")) in ("404", "NoSuchKey", "NotFound"):
                return None  # HEAD has no body: a missing bucket answers 404 too, and get() says so (NotFound)
            raise self._fail("head", key, exc) from None
        modified = answer.get("LastModified")
        return Head(
            answer["ContentLength"],
            answer.get("ContentType"),
            answer.get("Metadata") or {},
            modified.timestamp() if modified else None,
        )

    def download(self, key: str, dest: str) -> Head | None:
        head = self.head(key)
        if head is None:
            return None
        try:
            self.client.download_file(self.bucket, self.full(key), dest)
        except self._errors as exc:
            raise self._fail("get", key, exc) from None
        return head

    def list(self, key: str, recursive: bool) -> tuple[list[tuple[str, int]], list[str]]:
        """(objects as (key, size), sub-prefixes as keys ending in '/') under `key` (a prefix)."""
        prefix = self.full(key)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        strip = len(self.prefix) + 1 if self.prefix else 0
        objects, prefixes = [], []
        kwargs = {"Bucket": self.bucket, "Prefix": prefix}
        if not recursive:
            kwargs["Delimiter"] = "/"
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(**kwargs):
                objects += [(o["Key"][strip:], o["Size"]) for o in page.get("Contents", [])]
                prefixes += [p["Prefix"][strip:] for p in page.get("CommonPrefixes", [])]
        except self._errors as exc:
            raise self._fail("list", key, exc) from None
        return objects, prefixes


class LocalBackend:
    """Objects as files under a folder: `S3(run=self)` when the run's datastore is a local folder."""

    concurrency = 8

    def __init__(self, folder: str):
        self.folder = os.path.abspath(folder)

    def _path(self, key: str) -> str:
        parts = key.split("/")
        if key.startswith("/") or any(p in ("..", ".") for p in parts):
            raise MetaflowS3URLException(f"key {key!r} would leave the S3 root folder {self.folder}")
        return os.path.join(self.folder, *[p for p in parts if p])

    def url(self, key: str) -> str:
        return "file://" + self._path(key)

    def put(self, key: str, data: bytes | None, path: str | None, overwrite: bool, extra: dict) -> bool:
        target = self._path(key)
        if not overwrite and os.path.isfile(target):
            return False
        os.makedirs(os.path.dirname(target), exist_ok=True)
        folder, name = os.path.split(target)
        temporary = os.path.join(folder, f"{TEMPORARY}{os.getpid()}-{threading.get_ident()}-{name}")
        if path is not None:
            shutil.copyfile(path, temporary)
        else:
            with open(temporary, "wb") as f:
                f.write(data)
        os.replace(temporary, target)  # a reader never sees half an object
        return True

    def head(self, key: str) -> Head | None:
        target = self._path(key)
        if not os.path.isfile(target):
            return None
        stat = os.stat(target)
        return Head(stat.st_size, None, {}, stat.st_mtime)

    def download(self, key: str, dest: str) -> Head | None:
        head = self.head(key)
        if head is not None:
            shutil.copyfile(self._path(key), dest)
        return head

    def list(self, key: str, recursive: bool) -> tuple[list[tuple[str, int]], list[str]]:
        base = self._path(key) if key else self.folder
        objects, prefixes = [], []
        if not os.path.isdir(base):
            return objects, prefixes
        for root, dirs, files in os.walk(base):
            rel = os.path.relpath(root, self.folder).replace(os.sep, "/")
            rel = "" if rel == "." else rel + "/"
            objects += [
                (rel + f, os.path.getsize(os.path.join(root, f))) for f in sorted(files) if not f.startswith(TEMPORARY)
            ]
            if not recursive:
                prefixes += [rel + d + "/" for d in sorted(dirs)]
                break
        return objects, prefixes
