"""Artifacts: lazy loading, storing, join inputs and merge_artifacts.

An artifact is read from the datastore only when a step touches it; the
references ({name: sha}) travel from task to task without loading anything.
"""

from __future__ import annotations

import copyreg
import pickle
import struct

from flowc.runtime.datastore import Datastore, Framed

try:
    from _pickle import Pickler as _CPickler
except ImportError:  # no C pickler: no out-of-band bytes/bytearray (still correct)
    _CPickler = None

OUT_OF_BAND = 64 * 1024  # the C pickler's frame size target: it hands larger payloads to write() as is
_PROTO, _FRAME, _NEXT_BUFFER = 0x80, 0x95, b"\x97"


class ArtifactError(Exception):
    """An artifact that cannot be stored or merged; the message names it."""


class TaskFailure(Exception):
    """The task cannot run or store its results (not the step's own exception)."""


class ArtifactSource:
    """Loads artifacts of one task lazily from its references."""

    def __init__(self, store: Datastore, flow: str, refs: dict[str, str]):
        self.store = store
        self.flow = flow
        self.refs = dict(refs)
        self._cache: dict[str, object] = {}

    def has(self, name: str) -> bool:
        return name in self.refs

    def load(self, name: str):
        if name not in self._cache:
            inband, buffers = self.store.get_parts(self.flow, self.refs[name])  # hash checked first
            self._cache[name] = pickle.loads(inband, buffers=buffers)
        return self._cache[name]


def dump(name: str, step: str, value):
    """The blob of an artifact: plain pickle bytes, or a Framed blob when it has large buffers.

    Large bytes and bytearrays (anywhere in the value) and PickleBuffers (numpy
    arrays) of 64 KiB and up are not copied: they become out-of-band buffers that
    the datastore writes from where they are and loads back into objects of
    their own type.  A value without any stays a plain pickle blob (the format
    of every blob before framing), so small artifacts take the path they always did.
    """
    buffers: list = []

    def out_of_band(buffer) -> bool:  # False = out of band
        if buffer.raw().nbytes < OUT_OF_BAND:
            return True
        buffers.append(buffer)
        return False

    sink = _Sink(buffers)
    try:
        pickler = (_CPickler or pickle.Pickler)(sink, protocol=5, buffer_callback=out_of_band)
        table = copyreg.dispatch_table.copy()
        table[memoryview] = _reduce_memoryview
        pickler.dispatch_table = table
        pickler.dump(value)
    except Exception as exc:  # pickle raises many types (TypeError, PicklingError, AttributeError)
        raise ArtifactError(
            f"artifact '{name}' of step '{step}' cannot be pickled: {type(exc).__name__}: {exc}"
        ) from None
    if not buffers:
        return sink.chunks[0] if len(sink.chunks) == 1 else b"".join(sink.chunks)
    return Framed(sink.chunks, buffers)


class _Sink:
    """The file the C pickler writes to.

    The C pickler writes a payload of 64 KiB or more as the object itself, right
    after flushing what it buffered, which ends with the payload's opcode and
    length (outside any frame).  An exact bytes or bytearray payload is kept as
    an out-of-band buffer and its opcode becomes NEXT_BUFFER: pickle.loads then
    takes the buffer the loader read back, a bytes or a bytearray like the
    original.  Anything else stays in band.
    """

    def __init__(self, buffers: list):
        self.chunks: list = []
        self.buffers = buffers
        self._previous = None  # the last write, unless it became a buffer

    def write(self, data) -> int:
        kind = type(data)
        if (
            _CPickler is not None
            and (kind is bytes or kind is bytearray)
            and len(data) >= OUT_OF_BAND
            and self._previous is not None
        ):
            cut = _header_at_end(self._previous, kind, len(data), first=len(self.chunks) == 1)
            if cut is not None:
                self.chunks[-1] = memoryview(self._previous)[:cut]
                self.chunks.append(_NEXT_BUFFER)
                self.buffers.append(data)
                self._previous = None
                return len(data)
        self.chunks.append(data)
        self._previous = data
        return len(data)


def _header_at_end(chunk, kind, size: int, first: bool):
    """Where the opcode of a `size`-byte payload starts if `chunk` is a flush ending with it, else None.

    A flush is [PROTO, on the first] + whole frames + the opcode; the frames are
    walked, so bytes that merely look like an opcode inside a frame never match.
    """
    if kind is bytearray:
        header = b"\x96" + struct.pack("<Q", size)
    elif size <= 0xFFFFFFFF:
        header = b"B" + struct.pack("<I", size)
    else:
        header = b"\x8e" + struct.pack("<Q", size)
    view = memoryview(chunk)
    position = 2 if first and len(view) >= 2 and view[0] == _PROTO and view[1] == 5 else 0
    while position < len(view) and view[position] == _FRAME and position + 9 <= len(view):
        position += 9 + struct.unpack_from("<Q", view, position + 1)[0]
    return position if view[position:] == header else None


_CASTABLE = set("cbB?hHiIlLqQnNfdeP")


def _reduce_memoryview(view: memoryview):
    """memoryviews have no pickling of their own: keep format, shape and read-only-ness; data out of band."""
    fmt = view.format[1:] if view.format.startswith("@") else view.format
    if fmt not in _CASTABLE:
        raise TypeError(f"cannot pickle a memoryview of format {view.format!r}")
    data = pickle.PickleBuffer(view) if view.c_contiguous else view.tobytes()
    return _memoryview, (data, fmt, view.shape, view.readonly)


def _memoryview(data, fmt: str, shape, readonly: bool) -> memoryview:
    view = memoryview(data)
    if not readonly and view.readonly:
        view = memoryview(bytearray(view))
    view = view.cast("B").cast(fmt, list(shape))
    return view.toreadonly() if readonly else view


class InputTask:
    """One parent task as seen from a join: `inputs.a.x`, `for task in inputs: task.x`."""

    def __init__(self, step: str, task_id: str, source: ArtifactSource):
        object.__setattr__(self, "_step", step)
        object.__setattr__(self, "_task_id", task_id)
        object.__setattr__(self, "_source", source)

    def __getattr__(self, name):
        source = self.__dict__["_source"]
        if source.has(name):
            return source.load(name)
        raise AttributeError(f"input task {self._step}/{self._task_id} has no artifact '{name}'")

    def __setattr__(self, name, value):
        raise AttributeError("the inputs of a join are read-only")

    @property
    def step_name(self) -> str:
        return self._step

    @property
    def task_id(self) -> str:
        return self._task_id

    def __repr__(self):
        return f"<input {self._step}/{self._task_id}>"


class Inputs:
    """A join's inputs: iterable, indexable, and by step name for branches."""

    def __init__(self, tasks: list[InputTask]):
        self._tasks = list(tasks)

    def __iter__(self):
        return iter(self._tasks)

    def __len__(self):
        return len(self._tasks)

    def __getitem__(self, index):
        if isinstance(index, str):
            return self._by_step(index)
        return self._tasks[index]

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self._by_step(name)

    def _by_step(self, name: str) -> InputTask:
        for task in self._tasks:
            if task.step_name == name:
                return task
        steps = sorted({t.step_name for t in self._tasks})
        raise AttributeError(f"the join has no input from step '{name}' (inputs come from: {', '.join(steps)})")


def merge(
    target_refs: dict[str, str], already_set: set[str], inputs: Inputs, step: str, include=None, exclude=None
) -> dict[str, str]:
    """References to copy onto the join: values equal in every input that has them.

    Differing values are an error naming every such artifact, unless the join
    set it itself or excluded it.  Only references move; nothing is loaded.
    """
    include = list(include or [])
    exclude = set(exclude or [])
    seen: dict[str, set[str]] = {}
    for task in inputs:
        for name, sha in task._source.refs.items():
            seen.setdefault(name, set()).add(sha)
    missing = [n for n in include if n not in seen]
    if missing:
        raise ArtifactError(
            f"merge_artifacts in step '{step}': include names {', '.join(repr(n) for n in missing)}, which no input has"
        )
    wanted = include if include else [n for n in seen if n not in exclude]
    conflicts = []
    merged = {}
    for name in sorted(wanted):
        if name in already_set:
            continue
        shas = seen[name]
        if len(shas) > 1:
            conflicts.append(name)
            continue
        merged[name] = next(iter(shas))
    if conflicts:
        raise ArtifactError(
            f"merge_artifacts in step '{step}': artifact {', '.join(repr(n) for n in conflicts)} has different "
            "values in the inputs; set it in the join before merging, or pass exclude=[...]"
        )
    target_refs.update(merged)
    return merged
