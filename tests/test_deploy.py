"""Deploy goes through compile_flow: the same checks and the same bytes as `flowc compile --package-url URL`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from conftest import EXAMPLES, run_flowc
from flowc.compiler import Options, compile_flow, load_flow
from flowc.compiler.targets import step_functions
from flowc.deploy.package import build_package, package_key

SFN_DATASTORE = "s3://flowc-test-bucket/flowc"
ROLE = "arn:aws:iam::123456789012:role/flowc"

ENV_FLOW = '''from flowc import FlowSpec, environment, step


class EnvFlow(FlowSpec):
    @environment(vars={"PAYLOAD": "VALUE"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''

SECRET_ON_SKYPILOT = '''from flowc import FlowSpec, secrets, skypilot, step


class SkyFlow(FlowSpec):
    @secrets(sources=["db-creds"])
    @skypilot(cpus=2)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def _package_url(flow_file: Path, datastore: str) -> str:
    """The URL deploy gives the flow's code package (what `flowc compile --package-url` must be told)."""
    flow, _ = load_flow(flow_file.read_bytes(), str(flow_file))
    root = datastore if "://" in datastore else str(Path(datastore).resolve())
    return f"{root}/{package_key(flow.name, build_package(str(flow_file))[1])}"


def _overrides_flow(tmp_path: Path) -> Path:
    """A flow whose start step's ContainerOverrides fit without the bootstrap but not with it."""
    probe = ENV_FLOW.replace("VALUE", "")
    flow, _ = load_flow(probe, "flow.py")
    empty = step_functions.worst_case_overrides_chars(flow, flow.step("start"), Options(datastore=SFN_DATASTORE))
    path = tmp_path / "flow.py"
    path.write_text(ENV_FLOW.replace("VALUE", "x" * (step_functions.BATCH_OVERRIDES_LIMIT_CHARS - empty - 16)))
    return path


def test_step_functions_overrides_are_checked_with_the_bootstrap(tmp_path):
    path = _overrides_flow(tmp_path)
    plain = run_flowc("compile", str(path), "-t", "step-functions", "--datastore", SFN_DATASTORE)
    assert plain.returncode == 0, plain.stderr
    deployed = run_flowc(
        "deploy",
        str(path),
        "-t",
        "step-functions",
        "--dry-run",
        "--datastore",
        SFN_DATASTORE,
        "--role-arn",
        ROLE,
        "--job-queue",
        "q",
    )
    assert deployed.returncode == 2
    assert re.search(r"flow\.py:\d+:\d+: error: step-functions: step start's ContainerOverrides", deployed.stderr)
    assert "create_state_machine" not in deployed.stdout
    compiled = run_flowc(
        "compile",
        str(path),
        "-t",
        "step-functions",
        "--datastore",
        SFN_DATASTORE,
        "--package-url",
        _package_url(path, SFN_DATASTORE),
    )
    assert compiled.returncode == 2
    assert compiled.stderr == deployed.stderr


def test_airflow_deploy_refuses_what_compile_refuses(tmp_path):
    path = tmp_path / "sky.py"
    path.write_text(SECRET_ON_SKYPILOT)
    compiled = run_flowc("compile", str(path), "-t", "airflow")
    deployed = run_flowc(
        "deploy",
        str(path),
        "-t",
        "airflow",
        "--datastore",
        str(tmp_path / "ds"),
        "--dags-folder",
        str(tmp_path / "dags"),
    )
    assert compiled.returncode == deployed.returncode == 2
    assert "@secrets are passed by reference" in deployed.stderr and deployed.stderr == compiled.stderr
    assert not (tmp_path / "dags").exists() and not (tmp_path / "ds").exists()  # nothing uploaded, nothing written


def test_airflow_deploy_writes_compile_output(tmp_path):
    flow = EXAMPLES / "foreach.py"
    datastore, dags = tmp_path / "ds", tmp_path / "dags"
    deployed = run_flowc(
        "deploy", str(flow), "-t", "airflow", "--datastore", str(datastore), "--dags-folder", str(dags)
    )
    assert deployed.returncode == 0, deployed.stderr
    compiled = run_flowc(
        "compile",
        str(flow),
        "-t",
        "airflow",
        "--datastore",
        str(datastore),
        "--package-url",
        _package_url(flow, str(datastore)),
    )
    assert compiled.returncode == 0, compiled.stderr
    [dag] = dags.iterdir()
    assert dag.read_text() == compiled.stdout


def test_argo_deploy_sends_compile_output(tmp_path):
    flow, datastore = EXAMPLES / "decorators.py", str(tmp_path / "ds")
    deployed = run_flowc("deploy", str(flow), "-t", "argo", "--dry-run", "--datastore", datastore)
    assert deployed.returncode == 0, deployed.stderr
    shown = [doc for doc in yaml.safe_load_all(deployed.stdout.split("\n", 1)[1]) if isinstance(doc, dict)]
    compiled = run_flowc(
        "compile", str(flow), "-t", "argo", "--datastore", datastore, "--package-url", _package_url(flow, datastore)
    )
    assert compiled.returncode == 0, compiled.stderr
    assert shown == list(yaml.safe_load_all(compiled.stdout))


def test_step_functions_deploy_sends_compile_output(tmp_path):
    flow = EXAMPLES / "linear.py"
    deployed = run_flowc(
        "deploy",
        str(flow),
        "-t",
        "step-functions",
        "--dry-run",
        "--datastore",
        SFN_DATASTORE,
        "--role-arn",
        ROLE,
        "--job-queue",
        "q",
    )
    assert deployed.returncode == 0, deployed.stderr
    # The dry run shows the definition's size only: compare it with compile's, compacted as deploy sends it.
    compiled = compile_flow(
        flow.read_bytes(),
        str(flow),
        "step-functions",
        Options(datastore=SFN_DATASTORE, job_queue="q", package_url=_package_url(flow, SFN_DATASTORE)),
    )
    size = len(json.dumps(json.loads(compiled.text), separators=(",", ":"), ensure_ascii=False))
    assert f'"definition": "<{size:,} characters>"' in deployed.stdout


def test_trigger_lists_every_orchestrator():
    helped = run_flowc("trigger", "--help")
    assert "[airflow|argo|step-functions]" in helped.stdout
    refused = run_flowc("trigger", "examples/linear.py", "-t", "skypilot")
    assert refused.returncode == 2 and "Invalid value for '--target'" in refused.stderr
