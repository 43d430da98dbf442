"""The datastore: a local directory or `s3://bucket/prefix`, same layout in both (see base.py)."""

from __future__ import annotations

from flowc.contract.layout import blob_key, task_key  # re-exported: the layout is the contract's
from flowc.runtime.datastore.base import CorruptBlob, Datastore, DatastoreError
from flowc.runtime.datastore.blob import Framed, sha256_hex
from flowc.runtime.datastore.local import LocalDatastore

__all__ = [
    "CorruptBlob",
    "Datastore",
    "DatastoreError",
    "Framed",
    "LocalDatastore",
    "blob_key",
    "open_datastore",
    "sha256_hex",
    "task_key",
]


def open_datastore(root: str) -> Datastore:
    """The datastore for ROOT: `s3://bucket/prefix` or a local directory."""
    if root.startswith("s3://"):
        from flowc.runtime.datastore.s3 import S3Datastore

        return S3Datastore(root)
    return LocalDatastore(root)
