"""Two processes writing the same content-addressed blob at once (local and S3): both succeed, the blob is whole."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import ROOT

WRITER = r'''
import os, random, sys, time
from flowc.runtime.datastore import open_datastore
root, go, size, seed, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
data = random.Random(seed).randbytes(size)
store = open_datastore(root)
while not os.path.exists(go):
    time.sleep(0.001)
if mode == "put_blob":
    print(store.put_blob("RaceFlow", data))
else:  # write the key directly, skipping the exists() check, so the two writes surely overlap
    sha = __import__("hashlib").sha256(data).hexdigest()
    store.write(f"RaceFlow/data/{sha}", data)
    print(sha)
'''


def race(root: str, tmp_path: Path, env: dict, rounds: int = 3, size: int = 16 * 1024 * 1024) -> list[str]:
    shas = []
    for round_ in range(rounds):
        go = tmp_path / f"go-{round_}"
        mode = "put_blob" if round_ % 2 == 0 else "write"
        writers = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, root, str(go), str(size), str(round_), mode],
                cwd=ROOT,
                env=dict(os.environ, **env),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        time.sleep(0.5)  # both started and waiting
        go.write_text("")
        results = [w.communicate(timeout=60) for w in writers]
        assert [w.returncode for w in writers] == [0, 0], results
        outs = {out.strip() for out, _ in results}
        assert len(outs) == 1
        shas.append(outs.pop())
    return shas


def test_concurrent_writers_of_one_blob_locally(tmp_path):
    store = tmp_path / "ds"
    for sha in race(str(store), tmp_path, {}):
        blob = store / "RaceFlow" / "data" / sha
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == sha
    assert not list((store / "RaceFlow" / "data").glob(".tmp-*"))


def test_concurrent_writers_of_one_blob_on_s3(aws_env, tmp_path):
    import boto3

    boto3.client("s3").create_bucket(Bucket="flowc-race")
    from flowc.runtime.datastore import open_datastore

    store = open_datastore("s3://flowc-race/p")
    for sha in race("s3://flowc-race/p", tmp_path, aws_env, rounds=2, size=4 * 1024 * 1024):
        assert hashlib.sha256(store.get_blob("RaceFlow", sha)).hexdigest() == sha
