"""The datastore: a local directory or `s3://bucket/prefix`, same layout in both.

    ROOT/<Flow>/data/<sha256>                       artifact blobs (pickle 5, plain or framed), content-addressed
    ROOT/<Flow>/packages/<sha256>.tar.gz            code packages
    ROOT/<Flow>/runs/<run>/<step>/<task>/meta.json  artifacts {name: sha}, parents, attempt
    ROOT/<Flow>/runs/<run>/<step>/<task>/foreach.json  split list of a foreach step
    ROOT/<Flow>/runs/<run>/<step>/<task>/DONE       written last: a task is done iff present

Keys are '/'-separated paths relative to ROOT.  Every write is atomic (temp
file + rename locally, whole-object put on S3), so a killed writer leaves
nothing a reader could mistake for finished.  A blob whose content does not
hash to its name is refused.

A blob is a plain pickle (protocol 5), or, when the value has buffers of
64 KiB and up, framed: MAGIC (8 bytes, 0xff first: no pickle starts so), a u64
count (1 + buffers), the u64 lengths (bit 63: read-only), the in-band pickle,
the raw buffers (docs/running.md).  Framed blobs are written and read in chunks,
hashed on a thread, into one preallocated buffer per part (no copy of the
value); nothing is unpickled before the whole blob has hashed to its name.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
import tempfile

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAGIC = b"\xffflowc\x01\n"
READONLY = 1 << 63
CHUNK = 8 << 20  # I/O and hashing unit of large blobs
SMALL = 1 << 20  # blobs up to this size are read whole, hashed inline


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


class Framed:
    """A framed blob as the list of its parts (none of them copied), in file order."""

    def __init__(self, inband: list, buffers: list):
        views = [memoryview(b).cast("B") for b in inband]
        raws = [_raw(b) for b in buffers]
        lengths = [sum(len(v) for v in views)] + [len(r) | (READONLY if r.readonly else 0) for r in raws]
        head = MAGIC + struct.pack(f"<{len(lengths) + 1}Q", len(lengths), *lengths)
        self.parts = [memoryview(head), *views, *raws]
        self.size = sum(len(p) for p in self.parts)

    def chunks(self):
        for part in self.parts:
            for offset in range(0, len(part), CHUNK):
                yield part[offset:offset + CHUNK]


def _raw(buffer) -> memoryview:
    raw = getattr(buffer, "raw", None)  # pickle.PickleBuffer
    return raw() if raw is not None else memoryview(buffer).cast("B")


class _Hasher:
    """sha256 of a sequence of views; from the first large one on, on a thread, so I/O overlaps it."""

    def __init__(self):
        self._sha = hashlib.sha256()
        self._queue = self._thread = None

    def update(self, view) -> None:
        if self._queue is None:
            if len(view) < SMALL:
                self._sha.update(view)
                return
            import queue
            import threading

            self._queue = queue.SimpleQueue()
            self._thread = threading.Thread(target=self._run, name="flowc-sha256", daemon=True)
            self._thread.start()
        self._queue.put(view)

    def _run(self) -> None:
        while (view := self._queue.get()) is not None:
            self._sha.update(view)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def hexdigest(self) -> str:
        self.close()
        return self._sha.hexdigest()


class _Unhashed:
    def update(self, view) -> None:
        pass


def _fill(f, view: memoryview, hasher) -> None:
    """Read exactly len(view) bytes into `view`, chunk by chunk, handing each chunk to `hasher`."""
    for offset in range(0, len(view), CHUNK):
        chunk = view[offset:offset + CHUNK]
        got = 0
        while got < len(chunk):
            n = f.readinto(chunk[got:])
            if not n:
                raise _Truncated()
            got += n
        hasher.update(chunk)


def _read_bytes(f, n: int) -> bytes:
    data = f.read(n)  # one read(2) into a new bytes object: no copy (a part over 2 GiB comes in pieces)
    if len(data) == n:
        return data
    pieces, got = [data], len(data)
    while got < n:
        piece = f.read(n - got)
        if not piece:
            raise _Truncated()
        pieces.append(piece)
        got += len(piece)
    return b"".join(pieces)


def _new_bytearray(n: int) -> bytearray:
    """A bytearray to read into; a large one is not zero-filled first (its pages are touched once, by the read)."""
    if n < SMALL:
        return bytearray(n)
    try:
        import ctypes

        new = ctypes.pythonapi.PyByteArray_FromStringAndSize
        new.restype, new.argtypes = ctypes.py_object, [ctypes.c_char_p, ctypes.c_ssize_t]
        return new(None, n)
    except (ImportError, AttributeError):  # not CPython
        return bytearray(n)


class _Truncated(Exception):
    pass


def _read_parts(f, size: int, hasher):
    """(in-band pickle, [buffers]) of a blob of `size` bytes read from `f` (plain pickle: no buffers).

    Writable buffers come back as bytearrays, read-only ones as bytes.  Raises
    _Truncated when the framing does not add up; the caller checks the hash.
    """
    head = bytearray(min(size, 16))
    _fill(f, memoryview(head), hasher)
    if len(head) < 16 or head[:8] != MAGIC:
        data = _new_bytearray(size)
        data[:len(head)] = head
        _fill(f, memoryview(data)[len(head):], hasher)
        return data, []
    (count,) = struct.unpack_from("<Q", head, 8)
    if count < 1 or 16 + 8 * count > size:
        raise _Truncated()
    table = bytearray(8 * count)
    _fill(f, memoryview(table), hasher)
    lengths = struct.unpack(f"<{count}Q", table)
    if 16 + 8 * count + sum(n & ~READONLY for n in lengths) != size:
        raise _Truncated()
    parts = []
    for index, n in enumerate(lengths):
        if index and n & READONLY:
            part = _read_bytes(f, n & ~READONLY)
            hasher.update(part)
        else:
            part = _new_bytearray(n & ~READONLY)
            _fill(f, memoryview(part), hasher)
        parts.append(part)
    return parts[0], parts[1:]


def split_blob(data: bytes):
    """(in-band pickle, [buffers]) of a blob already in memory and already checked."""
    if len(data) < 16 or data[:8] != MAGIC:
        return data, []
    return _read_parts(io.BytesIO(data), len(data), _Unhashed())


class Datastore:
    """Common logic over the storage primitives of a backend."""

    root: str

    # Backends implement: write(key, bytes), read(key) -> bytes | None, exists(key), children(key).

    def put_blob(self, flow: str, data) -> str:
        """Store `data` (bytes, or a Framed blob) under its sha256 (once) and return the sha."""
        if isinstance(data, Framed):
            return self._put_framed(flow, data)
        sha = sha256_hex(data)
        key = blob_key(flow, sha)
        if not self.exists(key):
            self.write(key, data)
        return sha

    def _put_framed(self, flow: str, blob: Framed) -> str:
        """Hash, then one whole-object write of the same bytes (local directories stream instead)."""
        hasher = _Hasher()
        for chunk in blob.chunks():
            hasher.update(chunk)
        sha = hasher.hexdigest()
        key = blob_key(flow, sha)
        if not self.exists(key):
            self.write(key, b"".join(blob.parts))
        return sha

    def get_parts(self, flow: str, sha: str):
        """(in-band pickle, [buffers]) of blob `sha`, for pickle.loads(inband, buffers=buffers); checked first."""
        try:
            return split_blob(self.get_blob(flow, sha))
        except _Truncated:
            raise self._corrupt(sha) from None

    def _check_ref(self, sha) -> None:
        if not isinstance(sha, str) or not SHA256.match(sha):
            raise CorruptBlob(f"artifact reference {sha!r} in {self.root} is not a sha256; refusing to load it")

    def _corrupt(self, sha: str) -> CorruptBlob:
        return CorruptBlob(f"artifact blob {sha} in {self.root} is corrupt (its content does not match its name)")

    def get_blob(self, flow: str, sha: str) -> bytes:
        """The bytes of blob `sha` of `flow`, refused unless they hash to `sha`.

        Only names of 64 lowercase hex digits are looked up, so a reference in a
        meta.json can never point outside ROOT/<flow>/data/.
        """
        self._check_ref(sha)
        data = self.read(blob_key(flow, sha))
        if data is None:
            raise FileNotFoundError(f"artifact blob {sha} is missing from {self.root}/{flow}/data")
        if sha256_hex(data) != sha:
            raise self._corrupt(sha)
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
        temporary = self._write_temporary(os.path.dirname(path), [data], None)
        self._commit(temporary, path, replace=True)

    def _put_framed(self, flow: str, blob: Framed) -> str:
        """Stream the parts to a temporary file, hashing each chunk on a thread while the next is written."""
        hasher = _Hasher()
        try:
            temporary = self._write_temporary(self._path(f"{flow}/data"), blob.chunks(), hasher)
        finally:
            hasher.close()
        sha = hasher.hexdigest()
        self._commit(temporary, self._path(blob_key(flow, sha)), replace=False)
        return sha

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
        """Rename into place (atomic); a blob already there has the same bytes, so it is kept."""
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


def open_datastore(root: str) -> Datastore:
    """The datastore for ROOT: `s3://bucket/prefix` or a local directory."""
    if root.startswith("s3://"):
        from flowc.runtime.datastore_s3 import S3Datastore

        return S3Datastore(root)
    return LocalDatastore(root)
