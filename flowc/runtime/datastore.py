"""The datastore: a local directory or `s3://bucket/prefix`, same layout in both.

    ROOT/<Flow>/data/<sha256>                       artifact blobs (pickle 5), content-addressed
    ROOT/<Flow>/packages/<sha256>.tar.gz            code packages
    ROOT/<Flow>/runs/<run>/<step>/<task>/meta.json  artifacts {name: sha}, parents, attempt
    ROOT/<Flow>/runs/<run>/<step>/<task>/foreach.json  split list of a foreach step
    ROOT/<Flow>/runs/<run>/<step>/<task>/DONE       written last: a task is done iff present

Keys are '/'-separated paths relative to ROOT.  Every write is atomic (temp
file + rename locally, whole-object put on S3), so a killed writer leaves
nothing a reader could mistake for finished.  A blob whose content does not
hash to its name is refused.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile

SHA256 = re.compile(r"^[0-9a-f]{64}$")


class DatastoreError(Exception):
    """The datastore cannot be read or written (permissions, missing bucket, endpoint gone).

    The message is one line naming the datastore and the cause; the runtime and
    the runner print it as is, without a traceback.
    """


class CorruptBlob(DatastoreError):
    """A blob whose bytes do not hash to its name (or a reference that is not a sha256)."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_key(flow: str, sha: str) -> str:
    return f"{flow}/data/{sha}"


def task_key(flow: str, run_id: str, step: str, task_id: str, name: str = "") -> str:
    base = f"{flow}/runs/{run_id}/{step}/{task_id}"
    return f"{base}/{name}" if name else base


class Datastore:
    """Common logic over the storage primitives of a backend."""

    root: str

    # Backends implement: write(key, bytes), read(key) -> bytes | None, exists(key), children(key).

    def put_blob(self, flow: str, data: bytes) -> str:
        """Store `data` under its sha256 (once) and return the sha."""
        sha = sha256_hex(data)
        key = blob_key(flow, sha)
        if not self.exists(key):
            self.write(key, data)
        return sha

    def get_blob(self, flow: str, sha: str) -> bytes:
        """The bytes of blob `sha` of `flow`, refused unless they hash to `sha`.

        Only names of 64 lowercase hex digits are looked up, so a reference in a
        meta.json can never point outside ROOT/<flow>/data/.
        """
        if not isinstance(sha, str) or not SHA256.match(sha):
            raise CorruptBlob(f"artifact reference {sha!r} in {self.root} is not a sha256; refusing to load it")
        data = self.read(blob_key(flow, sha))
        if data is None:
            raise FileNotFoundError(f"artifact blob {sha} is missing from {self.root}/{flow}/data")
        if sha256_hex(data) != sha:
            raise CorruptBlob(f"artifact blob {sha} in {self.root} is corrupt (its content does not match its name)")
        return data

    def read_text(self, key: str) -> str | None:
        data = self.read(key)
        return None if data is None else data.decode("utf-8")

    def write_text(self, key: str, text: str) -> None:
        self.write(key, text.encode("utf-8"))

    def url(self, key: str) -> str:
        return f"{self.root.rstrip('/')}/{key}"


class LocalDatastore(Datastore):
    def __init__(self, root: str):
        self.root = os.path.abspath(os.path.expanduser(root))

    def _path(self, key: str) -> str:
        return os.path.join(self.root, *key.split("/"))

    def write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        folder = os.path.dirname(path)
        try:
            os.makedirs(folder, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        except OSError as exc:
            raise DatastoreError(f"cannot write to the datastore {self.root}: {_os_reason(exc)}") from None
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(temporary, path)
        except BaseException as exc:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            if isinstance(exc, OSError):
                raise DatastoreError(f"cannot write to the datastore {self.root}: {_os_reason(exc)}") from None
            raise

    def read(self, key: str) -> bytes | None:
        try:
            with open(self._path(key), "rb") as f:
                return f.read()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise DatastoreError(f"cannot read the datastore {self.root}: {_os_reason(exc)}") from None

    def exists(self, key: str) -> bool:
        return os.path.exists(self._path(key))

    def children(self, key: str) -> list[str]:
        """Names directly under `key` (folders and files), temporaries excluded, sorted."""
        try:
            return sorted(n for n in os.listdir(self._path(key)) if not n.startswith(".tmp-"))
        except (FileNotFoundError, NotADirectoryError):
            return []


def _os_reason(exc: OSError) -> str:
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    return f"{exc.strerror or type(exc).__name__}{where}"


def open_datastore(root: str) -> Datastore:
    """The datastore for ROOT: `s3://bucket/prefix` or a local directory."""
    if root.startswith("s3://"):
        from flowc.runtime.datastore_s3 import S3Datastore

        return S3Datastore(root)
    return LocalDatastore(root)
