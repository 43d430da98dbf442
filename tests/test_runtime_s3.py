"""The S3 datastore against moto's server (a real HTTP S3 API, real boto3)."""

from __future__ import annotations

import json

from conftest import EXAMPLES, run_flowc


def test_foreach_run_on_s3_and_read_back(aws_env, tmp_path):
    import boto3

    boto3.client("s3").create_bucket(Bucket="flowc-test")
    root = "s3://flowc-test/some/prefix"
    result = run_flowc("run", str(EXAMPLES / "foreach.py"), "--datastore", root, "--run-id", "s3run", env=aws_env)
    assert result.returncode == 0, result.stdout + result.stderr
    s3 = boto3.client("s3")
    split = s3.get_object(Bucket="flowc-test", Key="some/prefix/ForeachFlow/runs/s3run/start/0/foreach.json")
    assert json.loads(split["Body"].read()) == ["0", "1", "2"]
    from flowc.runtime.client import Run

    run = Run("ForeachFlow/s3run", datastore=root)
    assert run.successful and run.data.best_rate == 0.01
    assert [t.id for t in run["train"].tasks()] == ["0", "1", "2"]
    assert "best learning rate" in run["end"].task.stdout
    shown = run_flowc("show", "ForeachFlow/s3run", "--datastore", root, env=aws_env)
    assert shown.returncode == 0 and shown.stdout.count("train") == 3


def test_package_upload_to_s3_is_idempotent(aws_env):
    import boto3

    from flowc.deploy.package import build_package, upload_package

    boto3.client("s3").create_bucket(Bucket="flowc-pkg")
    data, sha = build_package(str(EXAMPLES / "linear.py"))
    url = upload_package("s3://flowc-pkg/p", "LinearFlow", data, sha)
    assert url == f"s3://flowc-pkg/p/LinearFlow/packages/{sha}.tar.gz"
    assert upload_package("s3://flowc-pkg/p", "LinearFlow", data, sha) == url
    body = boto3.client("s3").get_object(Bucket="flowc-pkg", Key=f"p/LinearFlow/packages/{sha}.tar.gz")["Body"].read()
    assert body == data


def test_a_64_mib_bytes_artifact_round_trips_in_parallel_parts(aws_env, monkeypatch):
    """5 MiB parts (S3's smallest): a multipart upload of 13 parts and ranged GETs into one preallocated bytes."""
    import hashlib
    import pickle

    import boto3

    from flowc.runtime.datastore import open_datastore
    from flowc.runtime.datastore.blob import Framed

    monkeypatch.setenv("FLOWC_S3_PART_MIB", "5")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="flowc-parts")
    store = open_datastore("s3://flowc-parts/p")
    value = bytes(range(256)) * (64 << 12)  # 64 MiB, not one repeated byte: a misplaced part would show
    calls = []
    real_upload, real_download = store.s3.upload_fileobj, store.s3.download_fileobj
    monkeypatch.setattr(store.s3, "upload_fileobj", lambda *a, **k: calls.append("upload") or real_upload(*a, **k))
    monkeypatch.setattr(
        store.s3, "download_fileobj", lambda *a, **k: calls.append("download") or real_download(*a, **k)
    )
    buffers = []
    inband = pickle.dumps(value, protocol=5, buffer_callback=buffers.append)
    sha = store.put_blob("F", Framed([inband], buffers))
    key = f"p/F/data/{sha}"
    parts = s3.head_object(Bucket="flowc-parts", Key=key, PartNumber=1).get("PartsCount")
    assert parts == 13  # 64 MiB + framing in 5 MiB parts
    inband_back, buffers_back = store.get_parts("F", sha)
    loaded = pickle.loads(inband_back, buffers=buffers_back)
    assert type(loaded) is bytes and hashlib.sha256(loaded).digest() == hashlib.sha256(value).digest()
    assert calls == ["upload", "download"]
    # the same bytes again: stored once, not uploaded again
    assert store.put_blob("F", Framed([inband], buffers)) == sha and calls == ["upload", "download"]


def test_a_large_plain_blob_uploads_in_parts_and_a_corrupt_one_is_refused(aws_env, monkeypatch):
    import pytest
    import boto3

    from flowc.runtime.datastore import open_datastore
    from flowc.runtime.datastore.base import CorruptBlob

    monkeypatch.setenv("FLOWC_S3_PART_MIB", "5")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="flowc-parts2")
    store = open_datastore("s3://flowc-parts2/p")
    data = b"\x80\x05" + bytes(range(256)) * (12 << 12)  # a 12 MiB plain blob (not framed)
    sha = store.put_blob("F", data)
    assert s3.head_object(Bucket="flowc-parts2", Key=f"p/F/data/{sha}", PartNumber=1).get("PartsCount") == 3
    inband, buffers = store.get_parts("F", sha)
    assert bytes(inband) == data and buffers == []
    flipped = bytearray(data)
    flipped[9 << 20] ^= 1  # a bit flip past the first range: caught by the hash of the parallel download
    s3.put_object(Bucket="flowc-parts2", Key=f"p/F/data/{sha}", Body=bytes(flipped))
    with pytest.raises(CorruptBlob, match="is corrupt"):
        store.get_parts("F", sha)


def test_part_size_below_s3_minimum_is_one_line(aws_env, monkeypatch):
    import pytest

    from flowc.runtime.datastore import open_datastore
    from flowc.runtime.datastore.base import DatastoreError

    monkeypatch.setenv("FLOWC_S3_PART_MIB", "1")
    with pytest.raises(DatastoreError, match="FLOWC_S3_PART_MIB must be at least 5"):
        open_datastore("s3://flowc-parts3/p")


def test_a_parallel_upload_to_an_endpoint_gone_is_one_line(aws_env, monkeypatch):
    import pytest

    from conftest import free_port
    from flowc.runtime.datastore import open_datastore
    from flowc.runtime.datastore.base import DatastoreError

    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    for name, value in {
        "AWS_ENDPOINT_URL": url,
        "FLOWC_S3_PART_MIB": "5",
        "FLOWC_S3_MAX_ATTEMPTS": "2",
        "FLOWC_S3_CONNECT_TIMEOUT": "1",
    }.items():
        monkeypatch.setenv(name, value)
    store = open_datastore("s3://flowc-gone-parts/p")
    with pytest.raises(DatastoreError) as raised:
        store.write("F/data/big", bytes(6 << 20))
    message = str(raised.value)
    where = f"s3://flowc-gone-parts/p/F/data/big (endpoint {url})"
    assert message.startswith(f"S3 could not write {where} after 2 attempts")
    assert "\n" not in message
