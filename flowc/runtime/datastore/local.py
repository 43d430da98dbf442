"""A datastore in a local directory: atomic writes by temp file + rename, large blobs streamed."""

from __future__ import annotations

import hashlib
import os
import tempfile

from flowc.contract.layout import blob_key
from flowc.runtime.datastore.base import Datastore, DatastoreError
from flowc.runtime.datastore.blob import CHUNK, SMALL, Framed, _Hasher, _read_parts, _Truncated, sha256_hex, split_blob


class LocalDatastore(Datastore):
    def __init__(self, root: str):
        self.root = os.path.abspath(os.path.expanduser(root))

    def _path(self, key: str) -> str:
        return os.path.join(self.root, *key.split("/"))

    def write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        temporary = self._write_temporary(os.path.dirname(path), [data], None)
        self._commit(temporary, path, replace=True)

    def create(self, key: str, data: bytes) -> bool:
        """Complete in a temporary file, then hard-link into place: the link fails if the name exists."""
        path = self._path(key)
        temporary = self._write_temporary(os.path.dirname(path), [data], None)
        try:
            os.link(temporary, path)
            return True
        except FileExistsError:
            return False
        except OSError as exc:
            raise DatastoreError(f"cannot write to the datastore {self.root}: {_os_reason(exc)}") from None
        finally:
            self._discard(temporary)

    def _put_framed(self, flow: str, blob: Framed) -> str:
        """Stream the parts to a temporary file, hashing each chunk on a thread while the next is written."""
        hasher = _Hasher()
        try:
            temporary = self._write_temporary(self._path(f"{flow}/data"), blob.chunks(), hasher)
        finally:
            hasher.close()
        sha = hasher.hexdigest()
        self._commit(temporary, self._path(blob_key(flow, sha)), replace=not self.blob_intact(flow, sha, blob.size))
        return sha

    def _blob_intact(self, flow: str, sha: str, size: int | None, thorough: bool) -> bool:
        """Present with the right size; small blobs (and every blob when `thorough`) also hash to their name."""
        path = self._path(blob_key(flow, sha))
        try:
            found = os.stat(path).st_size
            if size is not None and found != size:
                return False
            if found > SMALL and not thorough:
                return True  # a bit flip here is still refused on read (get_parts checks the hash)
            digest = hashlib.sha256()
            with open(path, "rb", buffering=0) as f:
                for chunk in iter(lambda: f.read(CHUNK), b""):
                    digest.update(chunk)
            return digest.hexdigest() == sha
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            raise DatastoreError(f"cannot read the datastore {self.root}: {_os_reason(exc)}") from None

    def _write_temporary(self, folder: str, chunks, hasher) -> str:
        try:
            os.makedirs(folder, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        except OSError as exc:
            raise DatastoreError(f"cannot write to the datastore {self.root}: {_os_reason(exc)}") from None
        try:
            with os.fdopen(fd, "wb", buffering=0) as f:
                for chunk in chunks:
                    if hasher is not None:
                        hasher.update(chunk)
                    view, written = memoryview(chunk), 0
                    while written < len(view):
                        written += f.write(view[written:])
            return temporary
        except BaseException as exc:
            self._discard(temporary)
            if isinstance(exc, OSError):
                raise DatastoreError(f"cannot write to the datastore {self.root}: {_os_reason(exc)}") from None
            raise

    def _commit(self, temporary: str, path: str, replace: bool) -> None:
        """Rename into place (atomic); with `replace` False, what is already there is kept."""
        try:
            if not replace and os.path.exists(path):
                os.unlink(temporary)
            else:
                os.replace(temporary, path)
        except OSError as exc:
            self._discard(temporary)
            raise DatastoreError(f"cannot write to the datastore {self.root}: {_os_reason(exc)}") from None

    @staticmethod
    def _discard(temporary: str) -> None:
        try:
            os.unlink(temporary)
        except OSError:
            pass

    def read(self, key: str) -> bytes | None:
        try:
            with open(self._path(key), "rb") as f:
                return f.read()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise DatastoreError(f"cannot read the datastore {self.root}: {_os_reason(exc)}") from None

    def get_parts(self, flow: str, sha: str):
        """Small blobs: read whole and hashed; large ones: readinto preallocated parts, hashing on a thread."""
        self._check_ref(sha)
        try:
            f = open(self._path(blob_key(flow, sha)), "rb", buffering=0)
        except (FileNotFoundError, NotADirectoryError):
            raise FileNotFoundError(f"artifact blob {sha} is missing from {self.root}/{flow}/data") from None
        except OSError as exc:
            raise DatastoreError(f"cannot read the datastore {self.root}: {_os_reason(exc)}") from None
        hasher = _Hasher()
        try:
            with f:
                size = os.fstat(f.fileno()).st_size
                if size <= SMALL:
                    data = f.readall()
                    if sha256_hex(data) != sha:
                        raise self._corrupt(sha)
                    return split_blob(data)
                inband, buffers = _read_parts(f, size, hasher)
        except _Truncated:
            raise self._corrupt(sha) from None
        except OSError as exc:
            raise DatastoreError(f"cannot read the datastore {self.root}: {_os_reason(exc)}") from None
        finally:
            hasher.close()
        if hasher.hexdigest() != sha:
            raise self._corrupt(sha)
        return inband, buffers

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
