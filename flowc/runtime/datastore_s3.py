"""The S3 datastore through boto3 (imported here, only when the root is s3://).

boto3 honours AWS_ENDPOINT_URL, so the same code talks to AWS or to a local
S3 API.  Throttling and 5xx answers are retried with backoff by botocore's
standard retry mode; whole-object puts make every write atomic.
"""

from __future__ import annotations

from flowc.runtime.datastore import Datastore


class S3Datastore(Datastore):
    def __init__(self, root: str):
        import boto3
        from botocore.config import Config

        self.root = root.rstrip("/")
        bucket, _, prefix = root[len("s3://"):].partition("/")
        if not bucket:
            raise ValueError(f"bad S3 datastore {root!r}: expected s3://bucket/prefix")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        config = Config(retries={"max_attempts": 8, "mode": "standard"}, connect_timeout=10, read_timeout=60)
        self.s3 = boto3.client("s3", config=config)
        from botocore.exceptions import ClientError

        self._client_error = ClientError

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def write(self, key: str, data: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def read(self, key: str) -> bytes | None:
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except self._client_error as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise

    def exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except self._client_error as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise

    def children(self, key: str) -> list[str]:
        prefix = self._key(key).rstrip("/") + "/"
        names: set[str] = set()
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                names.add(common["Prefix"][len(prefix):].rstrip("/"))
            for item in page.get("Contents", []):
                names.add(item["Key"][len(prefix):])
        return sorted(n for n in names if n)
