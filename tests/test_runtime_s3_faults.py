"""S3 through a fault-injecting proxy in front of moto: retries complete the run; an endpoint gone for good
fails the run with a clear error, nothing marked DONE, in bounded time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

from conftest import EXAMPLES, ROOT, run_flowc
from s3_fault_proxy import FaultProxy

BUDGET = {"drop_before": 2, "drop_after": 2, "cut_body": 2, "500": 2, "503": 2, "slow": 1, "lag": 2}
# Small timeouts so a slow answer times out quickly; enough attempts to outlast max_consecutive=3 faults.
FAST = {"FLOWC_S3_CONNECT_TIMEOUT": "1", "FLOWC_S3_READ_TIMEOUT": "1", "FLOWC_S3_MAX_ATTEMPTS": "6"}


def proxied_env(aws_env: dict, url: str, **extra) -> dict:
    return {**aws_env, "AWS_ENDPOINT_URL": url, **FAST, **extra}  # extra overrides FAST


def test_run_completes_through_drops_5xx_and_slow_answers(aws_env):
    import boto3

    boto3.client("s3").create_bucket(Bucket="flowc-faulty")
    proxy = FaultProxy(aws_env["AWS_ENDPOINT_URL"], seed=5, budget=BUDGET, probability=0.35)
    url = proxy.start()
    try:
        root = "s3://flowc-faulty/p"
        started = time.monotonic()
        # One worker: requests are sequential, so no request meets more than max_consecutive faults in a row.
        result = run_flowc(
            "run",
            str(EXAMPLES / "foreach.py"),
            "--datastore",
            root,
            "--run-id",
            "faulty",
            "--max-workers",
            "1",
            env=proxied_env(aws_env, url),
            timeout=240,
        )
        elapsed = time.monotonic() - started
    finally:
        proxy.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    injected = sum(proxy.injected.values())
    assert proxy.remaining == 0 and injected == sum(BUDGET.values()), (proxy.injected, proxy.requests)
    print(f"{proxy.requests} requests, {injected} faults injected {dict(proxy.injected)}, {elapsed:.1f}s")
    # Read back straight from moto: the run is whole.
    from flowc.runtime.client import Run

    run = Run("ForeachFlow/faulty", datastore=root)
    assert run.successful and run.data.best_rate == 0.01
    assert [t.id for t in run["train"].tasks()] == ["0", "1", "2"]


def test_endpoint_gone_for_good_fails_clearly_and_marks_nothing_done(aws_env):
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="flowc-gone")
    root = "s3://flowc-gone/p"
    proxy = FaultProxy(aws_env["AWS_ENDPOINT_URL"])
    url = proxy.start()
    start_done = "p/ForeachFlow/runs/gone/start/0/DONE"

    def kill_after_start():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if s3.list_objects_v2(Bucket="flowc-gone", Prefix=start_done).get("KeyCount"):
                proxy.kill()
                return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_after_start, daemon=True)
    killer.start()
    started = time.monotonic()
    result = run_flowc(
        "run",
        str(EXAMPLES / "foreach.py"),
        "--datastore",
        root,
        "--run-id",
        "gone",
        "--max-workers",
        "1",
        env=proxied_env(aws_env, url, FLOWC_S3_MAX_ATTEMPTS="3"),
        timeout=120,
    )
    elapsed = time.monotonic() - started
    killer.join(timeout=5)
    assert proxy.dead, "the endpoint was never taken away"
    assert result.returncode == 1, result.stdout + result.stderr
    assert elapsed < 60
    out = result.stdout
    assert "S3 could not" in out and url in out and "s3://flowc-gone/" in out, out
    assert "Traceback" not in "\n".join(line for line in out.splitlines() if line.startswith("flowc:"))
    # Only `start` finished before the endpoint went away; nothing after it is marked done.
    keys = [
        o["Key"] for o in s3.list_objects_v2(Bucket="flowc-gone", Prefix="p/ForeachFlow/runs/gone/").get("Contents", [])
    ]
    assert [k for k in keys if k.endswith("/DONE")] == [start_done]

    # A task started with the endpoint already gone: one line naming the step, S3, the bucket and the endpoint.
    direct = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowc.runtime",
            "step",
            str(EXAMPLES / "foreach.py"),
            "train",
            "--run-id",
            "gone",
            "--task-id",
            "1",
            "--datastore",
            root,
        ],
        cwd=ROOT,
        env=dict(os.environ, **proxied_env(aws_env, url, FLOWC_S3_MAX_ATTEMPTS="2")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert direct.returncode == 1
    lines = [line for line in direct.stderr.splitlines() if line.startswith("flowc: ")]
    assert len(lines) == 1, direct.stderr
    assert "step 'train'" in lines[0] and "S3 could not" in lines[0] and url in lines[0] and "flowc-gone" in lines[0]
    assert "Traceback" not in direct.stderr
    record = json.loads(s3.get_object(Bucket="flowc-gone", Key="p/ForeachFlow/runs/gone/run.json")["Body"].read())
    assert record["status"] == "running"  # the runner could not record the failure: S3 was gone


def test_a_blob_in_parallel_parts_survives_drops_5xx_and_cut_bodies(aws_env, monkeypatch):
    """Every part request of a multipart upload and of a ranged download goes through the faulty proxy."""
    import pickle

    import boto3

    from flowc.runtime.datastore import open_datastore
    from flowc.runtime.datastore.blob import Framed

    boto3.client("s3").create_bucket(Bucket="flowc-faulty-parts")
    proxy = FaultProxy(aws_env["AWS_ENDPOINT_URL"], seed=11, budget=BUDGET, probability=0.5)
    url = proxy.start()
    try:
        for name, value in {
            **FAST,
            "FLOWC_S3_READ_TIMEOUT": "3",
            "FLOWC_S3_PART_MIB": "5",
            "FLOWC_S3_CONCURRENCY": "2",
            "AWS_ENDPOINT_URL": url,
        }.items():
            monkeypatch.setenv(name, value)
        store = open_datastore("s3://flowc-faulty-parts/p")
        value = bytes(range(256)) * (24 << 12)  # 24 MiB: 5 parts up, 5 ranges down
        buffers = []
        inband = pickle.dumps(value, protocol=5, buffer_callback=buffers.append)
        sha = store.put_blob("F", Framed([inband], buffers))
        inband_back, buffers_back = store.get_parts("F", sha)
    finally:
        proxy.stop()
    assert pickle.loads(inband_back, buffers=buffers_back) == value
    assert sum(proxy.injected.values()) >= 5, (proxy.injected, proxy.requests)
