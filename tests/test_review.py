"""Golden review as commands: `flowc compile --check` (committed outputs vs. the flows) and `flowc diff`
(the flow vs. what is deployed: the stand-in Argo Server, moto's Step Functions, a dags folder)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from argo_server import StandInArgoServer
from conftest import ROOT, free_port, run_flowc, schema_path
from flowc.compiler.targets import TARGETS

# ---------------------------------------------------------------------------- compile --check

# Flows that compile for each target (skypilot: one file per @skypilot step in a directory).
CHECKED_FLOWS = {target: ["examples/linear.py", "examples/foreach.py"] for target in TARGETS}
CHECKED_FLOWS["skypilot"] = ["examples/skypilot.py"]


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_check_passes_on_what_compile_wrote_and_writes_nothing(tmp_path, target):
    out = tmp_path / "out"
    written = run_flowc("compile", *CHECKED_FLOWS[target], "-t", target, "-o", f"{out}/")
    assert written.returncode == 0, written.stderr
    before = snapshot(out)
    checked = run_flowc("compile", *CHECKED_FLOWS[target], "-t", target, "-o", f"{out}/", "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout == "" and snapshot(out) == before


def test_check_prints_a_unified_diff_per_file_and_exits_1(tmp_path):
    out = tmp_path / "out"
    flows = ("examples/linear.py", "examples/branch.py", "examples/foreach.py")
    assert run_flowc("compile", *flows, "-t", "argo", "-o", str(out)).returncode == 0
    stale = out / "linear.argo.yaml"
    stale.write_text(stale.read_text().replace("python:3.11-slim", "python:3.10"))
    (out / "branch.argo.yaml").unlink()  # a missing file counts as a difference
    before = snapshot(out)
    checked = run_flowc("compile", *flows, "-t", "argo", "-o", str(out), "--check")
    assert checked.returncode == 1, checked.stderr
    assert f"--- committed {stale}\n+++ compiled {stale}\n" in checked.stdout
    assert "-      image: python:3.10\n+      image: python:3.11-slim\n" in checked.stdout
    assert (
        f"--- committed {out / 'branch.argo.yaml'} (missing)\n+++ compiled {out / 'branch.argo.yaml'}\n"
        in checked.stdout
    )
    assert "foreach.argo.yaml" not in checked.stdout
    assert "2 file(s) would change" in checked.stderr
    assert snapshot(out) == before  # nothing written, nothing created


def test_check_compares_each_skypilot_task_file(tmp_path):
    out = tmp_path / "out"
    assert run_flowc("compile", "examples/skypilot.py", "-t", "skypilot", "-o", f"{out}/").returncode == 0
    written = sorted(p.name for p in out.iterdir() if p.is_file())  # not the .flowc-cache folder
    assert written == ["skypilot.featurize.sky.yaml", "skypilot.train.sky.yaml"]
    (out / "skypilot.train.sky.yaml").unlink()
    checked = run_flowc("compile", "examples/skypilot.py", "-t", "skypilot", "-o", f"{out}/", "--check")
    assert checked.returncode == 1
    assert f"+++ compiled {out / 'skypilot.train.sky.yaml'}" in checked.stdout
    assert "featurize" not in checked.stdout.split("\n")[0]
    assert not (out / "skypilot.train.sky.yaml").exists()


def test_check_of_a_single_output_file(tmp_path):
    out = tmp_path / "linear.json"
    assert run_flowc("compile", "examples/linear.py", "-t", "ir", "-o", str(out)).returncode == 0
    assert run_flowc("compile", "examples/linear.py", "-t", "ir", "-o", str(out), "--check").returncode == 0
    out.write_text(out.read_text().rstrip("\n"))  # only the final newline differs
    checked = run_flowc("compile", "examples/linear.py", "-t", "ir", "-o", str(out), "--check")
    assert checked.returncode == 1 and "\\ No newline at end of file" in checked.stdout


def test_check_with_a_compile_error_exits_2_with_the_located_line(tmp_path):
    out = tmp_path / "out"
    checked = run_flowc("compile", "examples/linear.py", "tests/bad/cycle.py", "-t", "ir", "-o", str(out), "--check")
    assert checked.returncode == 2
    assert "tests/bad/cycle.py:" in checked.stderr and "error:" in checked.stderr
    assert "Traceback" not in checked.stderr and not out.exists()


def test_check_needs_an_output():
    checked = run_flowc("compile", "examples/linear.py", "-t", "ir", "--check")
    assert checked.returncode == 2 and "--check compares with the files in -o" in checked.stderr


def test_pre_commit_hook_runs_compile_check():
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "flowc-check")
    assert hook["entry"] == "flowc compile --check" and hook["language"] == "python"


# ---------------------------------------------------------------------------- flowc diff

REVIEW_FLOW = '''from flowc import FlowSpec, environment, resources, retry, step


class ReviewFlow(FlowSpec):
    @environment(vars={"TOKEN": "TOKEN_VALUE"})
    @resources(cpu=CPU, memory=2048)
    @retry(times=TIMES)
    @step
    def start(self):
        self.next(self.NEXT)
MIDDLE
    @step
    def end(self):
        pass
'''
MIDDLE = '''
    @step
    def middle(self):
        self.next(self.end)
'''


def write_flow(folder: Path, cpu=1, times=1, token="first-secret-value", middle=False) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    text = (
        REVIEW_FLOW.replace("CPU", str(cpu))
        .replace("TIMES", str(times))
        .replace("TOKEN_VALUE", token)
        .replace("NEXT", "middle" if middle else "end")
        .replace("MIDDLE", MIDDLE if middle else "")
    )
    (folder / "review.py").write_text(text)
    return str(folder / "review.py")


def changed_flow(folder: Path) -> str:
    return write_flow(folder, cpu=2, times=3, token="second-secret-value", middle=True)


def assert_semantic_difference(result, memory_unchanged_key: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "+ step middle: added" in out and "~ step start:" in out
    assert "retries:" in out and "env: changed TOKEN" in out and "~ code package:" in out
    assert "resources:" in out and memory_unchanged_key not in out.split("resources:")[1].split("\n")[0]
    assert "first-secret-value" not in out + result.stderr and "second-secret-value" not in out + result.stderr


@pytest.fixture
def argo_server():
    server = StandInArgoServer(schema_path(), token="secret-token")
    yield server
    server.close()


def test_diff_argo_against_the_argo_server(argo_server, tmp_path):
    flow = write_flow(tmp_path / "code")
    args = ("-t", "argo", "--argo-server", argo_server.url, "--datastore", str(tmp_path / "ds"))
    env = {"ARGO_TOKEN": "secret-token"}
    missing = run_flowc("diff", flow, *args, env=env)
    assert missing.returncode == 2
    assert (
        missing.stderr == f"error: WorkflowTemplate default/reviewflow is not deployed on the Argo Server "
        f"at {argo_server.url}\n"
    )
    assert not (tmp_path / "ds").exists()  # diff builds the package to name it, never uploads it
    assert run_flowc("deploy", flow, *args, env=env).returncode == 0
    same = run_flowc("diff", flow, *args, env=env)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "the same as WorkflowTemplate default/reviewflow" in same.stdout
    requests = len(argo_server.requests)
    changed = run_flowc("diff", changed_flow(tmp_path / "code"), *args, env=env)
    assert_semantic_difference(changed, "memory")
    assert "limits.cpu 1 → 2, requests.cpu 1 → 2" in changed.stdout and "retries: 1 → 3" in changed.stdout
    assert [method for method, _, _ in argo_server.requests[requests:]] == ["GET"]  # diff sends nothing


def test_diff_argo_unreachable_is_one_line(tmp_path):
    flow = write_flow(tmp_path / "code")
    result = run_flowc(
        "diff",
        flow,
        "-t",
        "argo",
        "--argo-server",
        f"http://127.0.0.1:{free_port()}",
        "--datastore",
        str(tmp_path / "ds"),
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot reach the Argo Server at http://127.0.0.1:")
    assert result.stderr.count("\n") == 1


@pytest.fixture
def moto_cleanup(aws_env):
    """moto's server lives for the session and other tests count its state machines and job definitions:
    remove what this test deployed."""
    import boto3

    batch, sfn = boto3.client("batch"), boto3.client("stepfunctions")
    before = {d["jobDefinitionArn"] for d in batch.describe_job_definitions(status="ACTIVE")["jobDefinitions"]}
    yield aws_env
    for machine in sfn.list_state_machines()["stateMachines"]:
        if machine["name"] == "ReviewFlow":
            sfn.delete_state_machine(stateMachineArn=machine["stateMachineArn"])
    for definition in batch.describe_job_definitions(status="ACTIVE")["jobDefinitions"]:
        if definition["jobDefinitionArn"] not in before:
            batch.deregister_job_definition(jobDefinition=definition["jobDefinitionArn"])


def test_diff_step_functions_against_moto(moto_cleanup, tmp_path):
    import boto3

    aws_env = moto_cleanup
    boto3.client("s3").create_bucket(Bucket="flowc-review")
    flow = write_flow(tmp_path / "code")
    args = (
        "-t",
        "step-functions",
        "--datastore",
        "s3://flowc-review/root",
        "--job-queue",
        "queue",
        "--role-arn",
        "arn:aws:iam::123456789012:role/flowc",
    )
    missing = run_flowc("diff", flow, *args, env=aws_env)
    assert (missing.returncode, missing.stderr) == (2, "error: no state machine named ReviewFlow is deployed\n")
    deployed = run_flowc("deploy", flow, *args, env=aws_env)
    assert deployed.returncode == 0, deployed.stderr
    same = run_flowc("diff", flow, *args, env=aws_env)
    assert same.returncode == 0, same.stdout + same.stderr
    changed = run_flowc("diff", changed_flow(tmp_path / "code"), *args, env=aws_env)
    assert_semantic_difference(changed, "MEMORY")
    assert "resources: VCPU 1 → 2" in changed.stdout and "retries: 1 → 3" in changed.stdout


def test_diff_airflow_against_the_dags_folder(tmp_path):
    flow = write_flow(tmp_path / "code")
    dags = tmp_path / "dags"
    args = ("-t", "airflow", "--dags-folder", str(dags), "--datastore", str(tmp_path / "ds"))
    missing = run_flowc("diff", flow, *args)
    dag_file = dags / "ReviewFlow.airflow.py"
    assert (missing.returncode, missing.stderr) == (
        2,
        f"error: no DAG file {dag_file}: the flow is not deployed there\n",
    )
    assert run_flowc("deploy", flow, *args).returncode == 0
    same = run_flowc("diff", flow, *args)
    assert same.returncode == 0, same.stdout + same.stderr
    changed = run_flowc("diff", changed_flow(tmp_path / "code"), *args)
    assert_semantic_difference(changed, "memory")
    assert "resources: cpu 1 → 2" in changed.stdout and "retries: 1 → 3" in changed.stdout
    assert "~ flow settings:\n    dependencies[0]: step_start >> step_end → step_middle >> step_end" in changed.stdout


def test_diff_reports_a_removed_step_and_an_image(tmp_path):
    code = tmp_path / "code"
    args = ("-t", "airflow", "--dags-folder", str(tmp_path / "dags"), "--datastore", str(tmp_path / "ds"))
    assert run_flowc("deploy", changed_flow(code), *args).returncode == 0
    result = run_flowc("diff", changed_flow(code), *args, "--image", "registry.example/flows:2")
    assert result.returncode == 1
    assert "image: python:3.11-slim → registry.example/flows:2" in result.stdout
    assert "~ code package" not in result.stdout  # the same code: the same package
    result = run_flowc("diff", write_flow(code), *args)
    assert "- step middle: removed" in result.stdout


def test_diff_compile_error_is_located(tmp_path):
    bad = tmp_path / "cycle.py"
    shutil.copy(ROOT / "tests" / "bad" / "cycle.py", bad)
    result = run_flowc("diff", str(bad), "-t", "airflow", "--dags-folder", str(tmp_path))
    assert result.returncode == 2 and f"{bad}:" in result.stderr and "Traceback" not in result.stderr


def test_the_documented_ci_job_and_hook_config_are_valid_yaml_that_run_check():
    import re

    import yaml

    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", (ROOT / "docs/review.md").read_text(), re.S)]
    config, job = blocks
    assert {h["id"] for h in config["repos"][0]["hooks"]} == {"flowc-check"}
    steps = job["jobs"]["flowc-check"]["steps"]
    assert job[True] == {"pull_request": None}  # YAML 1.1 reads the key `on` as true
    assert [s["run"] for s in steps if "--check" in s.get("run", "")] == [
        "flowc compile flows/*.py --target argo -o deploy/argo/ --check",
        "flowc compile flows/*.py --target airflow -o dags/ --check",
    ]
