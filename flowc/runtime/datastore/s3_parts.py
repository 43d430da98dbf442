"""File objects over a blob's parts for boto3's transfer manager: it reads an upload and writes a download
through them, so a large artifact is never joined into (or copied out of) one more buffer."""

from __future__ import annotations

import bisect
import io


class _Parts(io.RawIOBase):
    """Views laid end to end, seekable as one file."""

    def __init__(self, views: list):
        self._views = [memoryview(v).cast("B") for v in views]
        self._starts = []
        total = 0
        for view in self._views:
            self._starts.append(total)
            total += len(view)
        self._size, self._position = total, 0

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def _at_position(self) -> tuple[memoryview, int]:
        """The view holding the current position, and the position's offset in it."""
        index = bisect.bisect_right(self._starts, self._position) - 1
        return self._views[index], self._position - self._starts[index]


class PartsReader(_Parts):
    """A readable file over views laid end to end (the transfer manager reads one part at a time)."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        target = memoryview(buffer).cast("B")
        done = 0
        while done < len(target) and self._position < self._size:
            part, offset = self._at_position()
            n = min(len(part) - offset, len(target) - done)
            target[done : done + n] = part[offset : offset + n]
            done += n
            self._position += n
        return done


class PartsWriter(_Parts):
    """A writable file over preallocated views laid end to end: the transfer manager writes each
    ranged GET's bytes at their offset.  Writing past the end is refused (the object is not the blob)."""

    def __init__(self, views: list):
        super().__init__(views)
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        source = memoryview(data).cast("B")
        if self._position + len(source) > self._size:
            raise OSError(f"the object is larger than the blob's {self._size} bytes")
        done = 0
        while done < len(source):
            view, offset = self._at_position()
            n = min(len(view) - offset, len(source) - done)
            view[offset : offset + n] = source[done : done + n]
            done += n
            self._position += n
        self._written += done
        return done

    def complete(self) -> bool:
        """Whether exactly as many bytes arrived as the blob holds (each range is written once)."""
        return self._written == self._size
