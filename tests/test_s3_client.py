"""metaflow.S3 (issue 14, item 7), against moto's S3 server on 127.0.0.1, written from Metaflow's docs.

The docs' promises checked here: `with S3(s3root=...) as s3` puts and gets by key relative to the root;
`put` takes str (stored as UTF-8) or bytes and returns the object's URL; `get` gives `.text`, `.blob`,
`.path` (a local file, gone after the `with` block), `.url`, `.key`, `.size`, `.exists`; a missing key
raises MetaflowS3NotFound unless `return_missing=True` (then `.exists` is False); `get_many`,
`get_all`, `put_many`, `put_files`, `list_paths` (one level: prefixes have `.exists` False); without a
root every key is a full s3:// URL; `S3(run=self)` is rooted under the run, so a later step of the same
run reads what an earlier one put.
"""

from __future__ import annotations

import os
import textwrap

import pytest

from conftest import run_flowc


@pytest.fixture
def bucket(aws_env):
    import boto3

    name = f"flowc-s3-{os.urandom(4).hex()}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


def test_put_get_and_the_objects_documented_fields(bucket, tmp_path):
    from flowc import S3
    from flowc.runtime.s3 import MetaflowS3NotFound

    with S3(s3root=f"s3://{bucket}/data", tmproot=str(tmp_path)) as s3:
        url = s3.put("greeting.txt", "héllo")
        assert url == f"s3://{bucket}/data/greeting.txt"
        s3.put("raw/bytes.bin", b"\x00\x01", content_type="application/octet-stream", metadata={"a": "1"})
        obj = s3.get("greeting.txt")
        assert (obj.text, obj.blob, obj.key, obj.url, obj.size, obj.exists) == (
            "héllo",
            "héllo".encode(),
            "greeting.txt",
            url,
            6,
            True,
        )
        kept = obj.path
        assert os.path.isfile(kept) and kept.startswith(str(tmp_path))
        info = s3.info("raw/bytes.bin")
        assert (info.content_type, info.metadata, info.size, info.downloaded) == (
            "application/octet-stream",
            {"a": "1"},
            2,
            False,
        )
        with pytest.raises(MetaflowS3NotFound, match=f"s3://{bucket}/data/nope does not exist"):
            s3.get("nope")
        missing = s3.get("nope", return_missing=True)
        assert (missing.exists, missing.blob, missing.text, missing.url) == (
            False,
            None,
            None,
            f"s3://{bucket}/data/nope",
        )
    assert not os.path.exists(kept)  # close() removed the downloads


def test_many_all_files_and_listing(bucket, tmp_path):
    from flowc import S3
    from flowc.runtime.s3 import S3PutObject

    files = []
    for i in range(3):
        path = tmp_path / f"f{i}.csv"
        path.write_text(f"row,{i}\n")
        files.append((f"files/f{i}.csv", str(path)))
    with S3(bucket=bucket, prefix="proj") as s3:
        stored = s3.put_many([(f"parts/{i}", str(i) * 3) for i in range(20)] + [S3PutObject("one", value=b"1")])
        assert len(stored) == 21 and stored[0] == ("parts/0", f"s3://{bucket}/proj/parts/0")
        assert [k for k, _ in s3.put_files(files)] == [k for k, _ in files]
        assert s3.put_many([("one", b"2")], overwrite=False) == []  # kept: overwrite=False stores nothing
        assert s3.get("one").text == "1"
        got = s3.get_many([f"parts/{i}" for i in range(20)] + ["absent"], return_missing=True)
        assert [o.text for o in got[:20]] == [str(i) * 3 for i in range(20)] and not got[20].exists
        assert sorted(o.key for o in s3.get_all()) == sorted(
            ["one", *[f"parts/{i}" for i in range(20)], *[k for k, _ in files]]
        )
        top = {o.key: o.exists for o in s3.list_paths()}
        assert top == {"one": True, "parts/": False, "files/": False}
        assert sorted(o.key for o in s3.list_paths(["files"])) == [k for k, _ in files]
        assert s3.get("files/f2.csv").text == "row,2\n"


def test_without_a_root_keys_are_full_urls(bucket):
    from flowc import S3
    from flowc.runtime.s3 import MetaflowS3InvalidObject, MetaflowS3URLException

    with S3() as s3:
        s3.put(f"s3://{bucket}/x/a", "A")
        assert s3.get(f"s3://{bucket}/x/a").text == "A"
        assert [o.key for o in s3.list_paths([f"s3://{bucket}/x/"])] == [f"s3://{bucket}/x/a"]
        with pytest.raises(MetaflowS3URLException, match="a key is a full s3:// URL"):
            s3.get("x/a")
        with pytest.raises(MetaflowS3InvalidObject, match="give str, bytes or a file object"):
            s3.put(f"s3://{bucket}/x/b", {"a": 1})
    with S3(s3root=f"s3://{bucket}/x") as s3, pytest.raises(MetaflowS3URLException, match="has a root"):
        s3.get(f"s3://{bucket}/x/a")


def test_a_missing_bucket_is_metaflows_not_found(aws_env):
    from flowc import S3
    from flowc.runtime.s3 import MetaflowS3NotFound

    with S3(s3root="s3://flowc-no-such-bucket/p") as s3, pytest.raises(MetaflowS3NotFound):
        s3.put("k", "v")


S3_FLOW = '''
import pickle

from metaflow import FlowSpec, S3, step


class S3RunFlow(FlowSpec):
    @step
    def start(self):
        with S3(run=self) as s3:
            self.url = s3.put("model.pkl", pickle.dumps({"weights": [1, 2, 3]}))
            s3.put_many([("shards/%d" % i, "shard %d" % i) for i in range(4)])
        self.next(self.end)

    @step
    def end(self):
        with S3(run=self) as s3:
            model = pickle.loads(s3.get("model.pkl").blob)
            shards = sorted(o.text for o in s3.get_all() if o.key.startswith("shards/"))
            missing = s3.get("nothing", return_missing=True).exists
        print("model", model["weights"], "shards", shards, "missing", missing)
        print("url", self.url)
'''


def test_s3_run_self_across_steps_on_an_s3_datastore(bucket, tmp_path):
    (tmp_path / "s3_run_flow.py").write_text(S3_FLOW)
    root = f"s3://{bucket}/store"
    result = run_flowc("run", "s3_run_flow.py", "--datastore", root, "--run-id", "r1", cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "model [1, 2, 3] shards ['shard 0', 'shard 1', 'shard 2', 'shard 3'] missing False" in output
    assert f"url s3://{bucket}/store/S3RunFlow/s3/r1/model.pkl" in output  # ROOT/<Flow>/s3/<run>/<key>


def test_s3_run_self_on_a_local_datastore_is_a_folder_with_the_same_api(tmp_path):
    (tmp_path / "s3_run_flow.py").write_text(S3_FLOW)
    store = tmp_path / "ds"
    result = run_flowc("run", "s3_run_flow.py", "--datastore", str(store), "--run-id", "r1", cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "model [1, 2, 3] shards ['shard 0', 'shard 1', 'shard 2', 'shard 3'] missing False" in output
    assert (store / "S3RunFlow" / "s3" / "r1" / "shards" / "3").read_text() == "shard 3"
    assert f"url file://{store}/S3RunFlow/s3/r1/model.pkl" in output
    from flowc import S3
    from flowc.runtime.client import Run

    with S3(run=Run("S3RunFlow/r1", datastore=str(store))) as s3:  # a client Run: that run's folder, after it
        assert sorted(o.key for o in s3.list_recursive()) == ["model.pkl", *[f"shards/{i}" for i in range(4)]]


def test_a_local_key_cannot_leave_the_runs_folder(tmp_path, monkeypatch):
    from flowc.runtime.s3 import MetaflowS3URLException
    from flowc.runtime.s3_backends import LocalBackend

    backend = LocalBackend(str(tmp_path / "root"))
    for key in ("../x", "a/../../x", "/etc/passwd"):
        with pytest.raises(MetaflowS3URLException, match="would leave the S3 root folder"):
            backend.put(key, b"x", None, True, {})


def test_s3_outside_a_step_needs_a_run(tmp_path):
    from flowc import FlowSpec, S3
    from flowc.runtime.s3 import MetaflowS3URLException

    with pytest.raises(MetaflowS3URLException, match="for a running step"):
        S3(run=FlowSpec.__new__(FlowSpec))


def test_import_flowc_loads_neither_s3_nor_boto3():
    import subprocess
    import sys

    code = textwrap.dedent(
        """
        import sys, flowc
        assert "flowc.runtime.s3" not in sys.modules and "boto3" not in sys.modules
        from flowc import S3
        assert "boto3" not in sys.modules  # only when a client talks to S3
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


def test_parallel_gets_leave_no_download_folder_after_close(tmp_path):
    """get_many's threads share one download folder: all of it goes with close() (two made at once leaked one)."""
    from flowc.runtime.s3 import S3
    from flowc.runtime.s3_backends import LocalBackend

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    for trial in range(20):
        s3 = S3(tmproot=str(downloads))
        s3._backend = LocalBackend(str(tmp_path / "root"))  # S3(run=self)'s local folder, without a running task
        s3.put_many([(f"k{i}", str(i)) for i in range(16)])
        assert [o.text for o in s3.get_many([f"k{i}" for i in range(16)])] == [str(i) for i in range(16)]
        s3.close()
        assert list(downloads.iterdir()) == [], trial
