"""Large artifacts stream: out-of-band buffers, framed blobs, hash checked before unpickling, atomic writes."""

from __future__ import annotations

import hashlib
import os
import pickle
import signal
import subprocess
import sys
import time

import pytest

from flowc.runtime.artifacts import ArtifactSource, dump
from flowc.runtime.datastore import CorruptBlob, Framed, LocalDatastore
from flowc.runtime.datastore.blob import MAGIC

BIG = 3 * 1024 * 1024  # above the 1 MiB "small blob" cut, so the streamed read path is taken


def roundtrip(store, value):
    blob = dump("x", "start", value)
    sha = store.put_blob("F", blob)
    path = os.path.join(store.root, "F", "data", sha)
    with open(path, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == sha
    return blob, ArtifactSource(store, "F", {"x": sha}).load("x"), path


@pytest.fixture
def store(tmp_path):
    return LocalDatastore(str(tmp_path / "ds"))


def test_bytearray_is_framed_and_comes_back_writable(store):
    value = bytearray(os.urandom(BIG))
    blob, out, _ = roundtrip(store, value)
    assert isinstance(blob, Framed)
    assert type(out) is bytearray and out == value
    out[0] ^= 1  # writable


def test_bytes_and_memoryviews(store):
    data = os.urandom(BIG)
    for value in (data, memoryview(data), memoryview(bytearray(data)).cast("d"), memoryview(data)[::3]):
        blob, out, _ = roundtrip(store, value)
        assert type(out) is type(value) and bytes(out) == bytes(value)  # bytes(): random doubles can be NaN
        if isinstance(value, memoryview):
            assert (out.format, out.shape, out.readonly) == (value.format, value.shape, value.readonly)


def test_a_bytes_part_larger_than_one_read_fills_one_buffer(store, monkeypatch):
    """A bytes value over ~2 GiB came back in pieces joined with b"".join: twice its size in memory.

    The threshold is lowered so the path is taken with a small value (benchmarks/probes/large_bytes.py
    measures the real one: peak RSS against the value's size)."""
    from flowc.runtime.datastore import blob

    monkeypatch.setattr(blob, "ONE_READ", 64 * 1024)
    data = os.urandom(BIG)
    _, out, _ = roundtrip(store, {"payload": data, "again": data})
    assert type(out["payload"]) is bytes and out["payload"] == data
    assert out["again"] is out["payload"]  # one object, as pickled
    assert hash(out["payload"]) == hash(data)  # an ordinary, immutable bytes object


def test_nested_buffers_keep_sharing_and_types(store):
    shared = bytearray(os.urandom(200_000))
    value = {"a": [shared, shared, b"y" * 100_000, "s" * 300_000], "small": b"tiny", "n": 3}
    blob, out, _ = roundtrip(store, value)
    assert isinstance(blob, Framed)
    assert out["a"][0] is out["a"][1] and type(out["a"][0]) is bytearray and out["a"][0] == shared
    assert type(out["a"][2]) is bytes and out["a"][2:] == value["a"][2:] and out["small"] == b"tiny"


def test_small_values_stay_plain_pickle(store):
    for value in (1, "x", b"x" * 100, bytearray(100), {"k": [1, 2]}, list(range(1000))):
        blob, out, path = roundtrip(store, value)
        assert isinstance(blob, bytes) and out == value
        with open(path, "rb") as f:
            assert pickle.loads(f.read()) == value  # the pre-framing format, readable by plain pickle


def test_numpy_if_installed(store):
    np = pytest.importorskip("numpy")
    value = {"w": np.arange(1_000_000, dtype=np.float64), "ro": np.arange(100_000)}
    value["ro"].flags.writeable = False
    blob, out, _ = roundtrip(store, value)
    assert isinstance(blob, Framed)
    assert (out["w"] == value["w"]).all() and out["w"].flags.writeable
    assert (out["ro"] == value["ro"]).all() and not out["ro"].flags.writeable


def test_old_format_blob_still_loads(store):
    for value in (bytearray(os.urandom(BIG)), {"a": 1}):  # large (streamed read) and small
        data = pickle.dumps(value, protocol=5)  # exactly what flowc wrote before framing
        sha = store.put_blob("F", data)
        assert ArtifactSource(store, "F", {"x": sha}).load("x") == value


@pytest.mark.parametrize("where", ["header", "table", "buffer", "truncated"])
def test_corrupt_framed_blob_is_refused_before_unpickling(store, where, monkeypatch):
    blob, _, path = roundtrip(store, {"a": bytearray(os.urandom(BIG)), "b": b"z" * 100_000})
    data = bytearray(open(path, "rb").read())
    assert data.startswith(MAGIC)
    if where == "truncated":
        data = data[:-10]
    else:
        data[{"header": 9, "table": 20, "buffer": len(data) - 5}[where]] ^= 0xFF
    with open(path, "wb") as f:
        f.write(data)
    sha = os.path.basename(path)
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("pickle.loads saw an unchecked blob"))
    with pytest.raises(CorruptBlob, match="is corrupt"):
        store.get_parts("F", sha)


WRITER = """
import sys
from flowc.runtime.artifacts import dump
from flowc.runtime.datastore import LocalDatastore
value = bytearray(512 * 1024 * 1024)
print("ready", flush=True)
LocalDatastore(sys.argv[1]).put_blob("F", dump("x", "start", value))
print("stored", flush=True)
"""


def test_sigkill_during_a_large_streamed_write_leaves_nothing_finished(tmp_path):
    root = tmp_path / "ds"
    data = root / "F" / "data"
    killed = 0
    for trial in range(3):
        process = subprocess.Popen([sys.executable, "-c", WRITER, str(root)], stdout=subprocess.PIPE, text=True)
        assert process.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            partial = [p for p in data.glob(".tmp-*")] if data.exists() else []
            written = sum(p.stat().st_size for p in partial if p.exists())
            if partial and written >= trial * 32 * 1024 * 1024:
                os.kill(process.pid, signal.SIGKILL)
                killed += 1
                break
            time.sleep(0.0005)
        process.wait(timeout=60)
        for blob in data.iterdir():  # every named blob is whole
            if not blob.name.startswith(".tmp-"):
                assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name
        for partial in data.glob(".tmp-*"):
            partial.unlink()
        for blob in list(data.iterdir()):
            blob.unlink()  # so the next trial writes again
    assert killed >= 1, "no trial managed to kill the writer mid-write"
    assert LocalDatastore(str(root)).children("F/data") == []
