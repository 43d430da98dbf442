"""Blob framing: how an artifact's bytes are laid out, written in chunks and read back into preallocated parts.

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
import struct

MAGIC = b"\xffflowc\x01\n"
READONLY = 1 << 63
CHUNK = 8 << 20  # I/O and hashing unit of large blobs
SMALL = 1 << 20  # blobs up to this size are read whole, hashed inline


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Framed:
    """A framed blob as the list of its parts (none of them copied), in file order."""

    def __init__(self, inband: list, buffers: list):
        views = [memoryview(b).cast("B") for b in inband]
        raws = [_raw(b) for b in buffers]
        lengths = [sum(len(v) for v in views)] + [len(r) | (READONLY if r.readonly else 0) for r in raws]
        head = MAGIC + struct.pack(f"<{len(lengths) + 1}Q", len(lengths), *lengths)
        self.parts = [memoryview(head), *views, *raws]
        self.size = sum(len(p) for p in self.parts)

    def sha256(self) -> str:
        """The sha256 of the blob's bytes, computed over its parts in place (on a thread past the first MiB)."""
        hasher = _Hasher()
        for chunk in self.chunks():
            hasher.update(chunk)
        return hasher.hexdigest()

    def chunks(self):
        for part in self.parts:
            for offset in range(0, len(part), CHUNK):
                yield part[offset : offset + CHUNK]


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
        chunk = view[offset : offset + CHUNK]
        got = 0
        while got < len(chunk):
            n = f.readinto(chunk[got:])
            if not n:
                raise _Truncated()
            got += n
        hasher.update(chunk)


ONE_READ = 1 << 30  # a read(2) returns at most ~2 GiB on Linux: a larger part is read into one buffer instead


def _read_bytes(f, n: int) -> bytes:
    """A read-only part as one new bytes object, never pieces joined (that would hold the value twice)."""
    if n <= ONE_READ:
        data = f.read(n)  # one read(2) into a new bytes object: no copy
        if len(data) != n:
            raise _Truncated()
        return data
    whole, view = _new_bytes(n)
    if whole is None:  # not CPython: pieces, joined
        pieces = [f.read(min(CHUNK, n - got)) for got in range(0, n, CHUNK)]
        if sum(len(p) for p in pieces) != n:
            raise _Truncated()
        return b"".join(pieces)
    _fill(f, view, _Unhashed())
    return whole


def _new_bytes(n: int):
    """(a new bytes object of n bytes, a writable view of its storage) — filled before anyone else sees it —
    or (None, None) where CPython's C API is not at hand."""
    try:
        import ctypes  # only for parts over ONE_READ

        new = ctypes.pythonapi.PyBytes_FromStringAndSize
        new.restype, new.argtypes = ctypes.py_object, [ctypes.c_char_p, ctypes.c_ssize_t]
        storage = ctypes.pythonapi.PyBytes_AsString
        storage.restype, storage.argtypes = ctypes.c_void_p, [ctypes.py_object]
    except (ImportError, AttributeError):
        return None, None
    whole = new(None, n)
    return whole, memoryview((ctypes.c_char * n).from_address(storage(whole))).cast("B")


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
        data[: len(head)] = head
        _fill(f, memoryview(data)[len(head) :], hasher)
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


def head_size(prefix: bytes) -> int:
    """How many leading bytes hold the framing (MAGIC, count, lengths table); 0 for a plain pickle.

    `prefix` must hold at least the first 16 bytes of a blob that has them."""
    if len(prefix) < 16 or prefix[:8] != MAGIC:
        return 0
    (count,) = struct.unpack_from("<Q", prefix, 8)
    if count < 1:
        raise _Truncated()
    return 16 + 8 * count


def allocate_parts(head: bytes, size: int):
    """For a blob of `size` bytes whose framing is `head` (head_size bytes): (in-band part, [buffers],
    [writable views covering the blob in file order]) — each part preallocated once, to be filled in place
    by a reader that writes at offsets (parallel ranged downloads).  Read-only buffers are new bytes objects
    (filled through a view before anyone sees them); raises _Truncated when the framing does not add up."""
    if not head:
        data = _new_bytearray(size)
        return data, [], [memoryview(data)]
    if len(head) > size:
        raise _Truncated()
    count = (len(head) - 16) // 8
    lengths = struct.unpack_from(f"<{count}Q", head, 16)
    if len(head) + sum(n & ~READONLY for n in lengths) != size:
        raise _Truncated()
    views = [memoryview(bytearray(len(head)))]  # the framing itself arrives again with the download
    parts = []
    for index, n in enumerate(lengths):
        whole, view = _new_bytes(n & ~READONLY) if index and n & READONLY else (None, None)
        if whole is None:
            whole = _new_bytearray(n & ~READONLY)
            view = memoryview(whole)
        parts.append(whole)
        views.append(view)
    return parts[0], parts[1:], views
