"""The client inside a step reads the run's own datastore (issue 14 item 8).

Metaflow's docs ("Inspecting Flows and Results") show `Flow('HelloFlow')['2']` and `Run('HelloFlow/2')`;
real flows call them from a step with `current.flow_name` and `current.run_id` to read their own
run.  Before, flowc's client looked in `./.flowc` and raised KeyError wherever the run's datastore
was elsewhere (another folder, or s3://).  `namespace`, `get_metadata` and `metaflow_version` are
no-op-safe shims (tests/compat/client_in_step.py calls each).
"""

from __future__ import annotations

from conftest import ROOT, run_flowc

FLOW = ROOT / "tests" / "compat" / "client_in_step.py"


def test_the_client_in_a_step_reads_a_datastore_in_another_folder(tmp_path):
    result = run_flowc("run", str(FLOW), "--datastore", str(tmp_path / "elsewhere"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "total 7 same run True" in result.stdout
    assert not (tmp_path / ".flowc").exists()


def test_the_client_in_a_step_reads_an_s3_datastore(aws_env, tmp_path):
    import boto3

    boto3.client("s3").create_bucket(Bucket="flowc-client")
    root = "s3://flowc-client/runs"
    result = run_flowc("run", str(FLOW), "--datastore", root, "--run-id", "c1", env=aws_env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "total 7 same run True" in result.stdout
    from flowc.runtime.client import Run

    assert Run("ClientInStepFlow/c1", datastore=root).data.total == 7


def test_shims_are_safe_outside_a_task():
    from flowc.runtime import shims

    assert shims.namespace(None) is None and shims.get_namespace() is None
    assert shims.get_metadata().startswith("local@") and shims.metadata("service") == shims.get_metadata()
