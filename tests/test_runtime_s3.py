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
