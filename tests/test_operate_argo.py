"""`flowc trigger / status / logs -t argo` against the Argo Server stand-in (tests/argo_server.py).

No Argo server runs here.  The stand-in checks what the server would receive
(Argo's schema, hera's models, the referenced template, a new name); the
submitted Workflow is then proved runnable by executing its template with its
arguments on ../shared/tools/argo_sim.py (Argo's controller and the kubelet as
local processes), and the status the controller would write is given by the
test (`set_workflow_status`) to check what `flowc status` makes of it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from argo_server import StandInArgoServer
from conftest import EXAMPLES, ROOT, run_flowc, schema_path
from test_argo_execution import ARGO_SIM, IMAGE, Sim, _explain, _require_sim

from flowc.runtime.client import Run

TOKEN = "trigger-token"


@pytest.fixture(scope="module")
def argo(tmp_path_factory):
    server = StandInArgoServer(schema_path(), token=TOKEN)
    yield server
    server.close()


@pytest.fixture(scope="module")
def deployed(argo, tmp_path_factory):
    """examples/parameters.py deployed to the stand-in, its datastore in a folder argo_sim's pods can see."""
    root = tmp_path_factory.mktemp("operate-argo").resolve()
    store = root / "datastore"
    common = ["-t", "argo", "--argo-server", argo.url, "--datastore", str(store)]
    result = run_flowc("deploy", str(EXAMPLES / "parameters.py"), *common, "--image", IMAGE, env={"ARGO_TOKEN": TOKEN})
    assert result.returncode == 0, result.stderr
    return {"root": root, "store": store, "common": common}


def trigger(deployed, *params: str) -> subprocess.CompletedProcess:
    args = [f"--param={p}" for p in params]
    return run_flowc("trigger", str(EXAMPLES / "parameters.py"), *deployed["common"], *args, env={"ARGO_TOKEN": TOKEN})


def submitted(argo, name: str) -> dict:
    posts = [body for method, path, body in argo.requests if method == "POST" and path == "/api/v1/workflows/default"]
    return next(body["workflow"] for body in posts if body["workflow"]["metadata"]["name"] == name)


def test_trigger_submits_a_workflow_of_the_template_named_by_the_run_id(argo, deployed):
    triggered = trigger(deployed, "epochs=7", "verbose=on", 'config={"layers": [8]}')
    assert triggered.returncode == 0, triggered.stderr
    run_id = triggered.stdout.strip()
    assert argo.problems == []  # schema, hera's model, the template it names: all as the server checks
    workflow = submitted(argo, run_id)
    assert workflow["metadata"] == {"name": run_id, "namespace": "default"}
    assert run_id.startswith("parameterflow-") and len(run_id) <= 63
    assert workflow["spec"] == {
        "workflowTemplateRef": {"name": "parameterflow"},
        "arguments": {
            "parameters": [
                {"name": "epochs", "value": "7"},
                {"name": "verbose", "value": "on"},
                {"name": "config", "value": '{"layers": [8]}'},
            ]
        },
    }
    # the compiled template takes the run id from {{workflow.name}}: the name flowc chose is the run id
    template = argo.objects[("workflow-templates", "default", "parameterflow")]
    assert "{{workflow.name}}" in json.dumps(template["spec"]["templates"])


def test_the_submitted_workflow_runs_on_argo_sim_with_its_arguments(argo, deployed, tmp_path_factory):
    """The template as the server holds it, `-p` = the submitted arguments, on Argo's controller stand-in."""
    _require_sim()
    triggered = trigger(deployed, "epochs=7", "greeting=operators")
    assert triggered.returncode == 0, triggered.stderr
    workflow = submitted(argo, triggered.stdout.strip())
    template = json.loads(json.dumps(argo.objects[("workflow-templates", "default", "parameterflow")]))
    del template["metadata"]["resourceVersion"]  # the server's bookkeeping, not part of what was deployed
    (deployed["root"] / "sim").mkdir(exist_ok=True)
    sim = Sim(deployed["root"] / "sim")  # its image stand-in and visible folders, as test_argo_execution uses
    manifest = sim.root / "submitted.argo.yaml"
    manifest.write_text(yaml.safe_dump(template, sort_keys=False))
    report = sim.root / "report.json"
    params = [f"{p['name']}={p['value']}" for p in workflow["spec"]["arguments"]["parameters"]]
    argv = [
        sys.executable,
        str(ARGO_SIM),
        str(manifest),
        *(a for p in params for a in ("-p", p)),
        "--image",
        f"{IMAGE}={sim.bin}:{EXAMPLES}",
        "--env",
        f"PYTHONPATH={ROOT}",
        *(a for folder in [*sim.visible(), str(deployed["root"])] for a in ("--visible", folder)),
        "--runs-dir",
        str(sim.root / "sim-runs"),
        "--report",
        str(report),
    ]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    summary = json.loads(report.read_text()) if report.exists() else {}
    assert result.returncode == 0 and summary.get("phase") == "Succeeded", _explain(result)
    # argo_sim names its workflow itself; the tasks ran under that name, with the submitted values
    run = Run(f"ParameterFlow/{summary['workflow']}", datastore=str(deployed["store"]))
    assert run["start"].task.data.message == "hello operators 0.01"
    assert run["end"].task.data.epochs == 7


def test_status_shows_a_pod_that_never_started(argo, deployed):
    """The controller's view (given here): start's pod cannot pull its image; the datastore has nothing."""
    triggered = trigger(deployed)
    assert triggered.returncode == 0, triggered.stderr
    run_id = triggered.stdout.strip()
    argo.set_workflow_status(
        "default",
        run_id,
        {
            "phase": "Running",
            "nodes": {
                run_id: {"id": run_id, "name": run_id, "displayName": run_id, "type": "DAG", "phase": "Running"},
                f"{run_id}-1": {
                    "id": f"{run_id}-1",
                    "name": f"{run_id}.start",
                    "displayName": "start",
                    "templateName": "start",
                    "type": "Pod",
                    "phase": "Pending",
                    "message": "ErrImagePull: flowc-test:1 not found",
                },
            },
        },
    )
    args = ["--datastore", str(deployed["store"]), "--flow", str(EXAMPLES / "parameters.py")]
    seen = run_flowc(
        "status", f"ParameterFlow/{run_id}", *args, "-t", "argo", "--argo-server", argo.url, env={"ARGO_TOKEN": TOKEN}
    )
    assert seen.returncode == 0, seen.stderr
    assert seen.stdout.splitlines() == [
        f"ParameterFlow/{run_id}  datastore: no record of this run (no task has started)",
        f"  argo: Running  (default/{run_id})",
        "  start  datastore: -  |  argo: start Pending (ErrImagePull: flowc-test:1 not found)"
        "  [never started: no task in the datastore]",
    ]
    logs = run_flowc(
        "logs", f"ParameterFlow/{run_id}/start", *args, "-t", "argo", "--argo-server", argo.url,
        env={"ARGO_TOKEN": TOKEN},
    )  # fmt: skip
    assert logs.returncode == 0, logs.stderr
    assert "start Pending (ErrImagePull: flowc-test:1 not found)" in logs.stdout
    assert "no task has started" in logs.stdout


def test_status_of_a_workflow_the_server_does_not_have_is_one_line(argo, deployed):
    seen = run_flowc(
        "status", "ParameterFlow/parameterflow-nope", "--datastore", str(deployed["store"]),
        "--flow", str(EXAMPLES / "parameters.py"), "-t", "argo", "--argo-server", argo.url,
        env={"ARGO_TOKEN": TOKEN},
    )  # fmt: skip
    assert seen.returncode == 2 and "no Workflow default/parameterflow-nope" in seen.stderr, seen.stderr


@pytest.mark.parametrize(
    "param, named",
    [
        ("epochs=7.5", "--param epochs: expected int"),
        ("alpha=fast", "--param alpha: expected float"),
        ("greeting=$(HOSTNAME)", "--param greeting: '$(HOSTNAME)' holds"),
        ("greeting={{workflow.uid}}", "--param greeting: '{{workflow.uid}}' holds"),
        ("flowc-origin-run=x", "unknown parameter(s) flowc-origin-run"),
    ],
)
def test_a_bad_value_is_refused_before_any_request(argo, deployed, param, named):
    before = len(argo.requests)
    result = trigger(deployed, param)
    assert result.returncode == 2 and named in result.stderr, result.stderr
    assert len(argo.requests) == before and "Traceback" not in result.stderr


def test_origin_run_is_an_extra_workflow_argument(argo, deployed, monkeypatch):
    """What `flowc resume -t argo` sends: the origin as the argument ORIGIN_RUN_INPUT; nothing extra without it."""
    from flowc.compiler.options import Options
    from flowc.contract.command import ORIGIN_RUN_INPUT
    from flowc.deploy import DeployRequest
    from flowc.deploy.argo_runs import trigger as submit

    request = DeployRequest(
        flow_path=str(EXAMPLES / "parameters.py"),
        target="argo",
        options=Options(datastore=str(deployed["store"])),
        argo_server=argo.url,
        argo_token=TOKEN,
        echo=lambda line: None,
    )
    resumed = submitted(argo, submit(request, {"epochs": "2"}, origin_run="parameterflow-old/end"))
    assert resumed["spec"]["arguments"]["parameters"] == [
        {"name": "epochs", "value": "2"},
        {"name": ORIGIN_RUN_INPUT, "value": "parameterflow-old/end"},
    ]
    fresh = submitted(argo, submit(request, {}))
    assert "arguments" not in fresh["spec"] and argo.problems == []
