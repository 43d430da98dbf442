"""The Airflow target checked by real Airflow (3.x), always in subprocesses with AIRFLOW_HOME in a temp dir.

Airflow is slow to import, so the work is batched: one subprocess loads every
golden DAG (tests/airflow_helpers.py inspect), one runs every end-to-end
`dag.test()` (tests/airflow_helpers.py run); the tests read their JSON.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_flows import JINJA, JINJA_SOURCE, UNICODE_PROJECT_SOURCE, USAGE_SOURCE
from conftest import EXAMPLES, GOLDEN, ROOT, example_files, need, run_flowc
from flowc.compiler import Options, compile_flow, load_flow
from flowc.compiler.command import runtime_argv
from flowc.compiler.lower import kubernetes as k8s
from flowc.compiler.lower.skypilot import launch_mode
from flowc.compiler.ir import StepKind
from flowc.compiler.targets import airflow as airflow_target
from flowc.compiler.targets import airflow_conditional
from flowc.contract.command import ORIGIN_RUN_INPUT

HELPERS = ROOT / "tests" / "airflow_helpers.py"
AIRFLOW = Path(sys.executable).parent / "airflow"


def _airflow_env(home: Path, dags: Path) -> dict:
    return dict(
        os.environ,
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
    )


def _helper(command: str, argument: str, env: dict, timeout: float = 240) -> tuple[object, str]:
    result = subprocess.run(
        [sys.executable, str(HELPERS), command, argument], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stdout + result.stderr


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory):
    """A migrated SQLite Airflow home and an empty dags folder, once per session."""
    need(
        AIRFLOW.exists() and subprocess.run([sys.executable, "-c", "import airflow.sdk"]).returncode == 0,
        "apache-airflow 3 is not installed",
    )
    home = tmp_path_factory.mktemp("airflow_home")
    dags = home / "dags"
    dags.mkdir()
    migrate = subprocess.run(
        [str(AIRFLOW), "db", "migrate"], env=_airflow_env(home, dags), capture_output=True, text=True, timeout=180
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    return home, dags


# ---------------------------------------------------------------------------
# Every golden DAG, loaded by DagBag and compared with the IR


@pytest.fixture(scope="session")
def golden_dags(airflow_home, tmp_path_factory):
    home, _ = airflow_home
    folder = tmp_path_factory.mktemp("golden_dags")
    for example in example_files():
        shutil.copy(GOLDEN / example.stem / "airflow.py", folder / f"{example.stem}.py")
    inspection, _ = _helper("inspect", str(folder), _airflow_env(home, folder))
    return inspection


def test_every_golden_dag_imports_without_errors(golden_dags):
    assert golden_dags["import_errors"] == {}
    assert len(golden_dags["dags"]) == len(example_files())


def test_golden_parse_time_is_reported(golden_dags, capsys):
    """Parse time of each golden DAG file in DagBag (reported, not asserted: machines differ)."""
    with capsys.disabled():
        print("\nAirflow DagBag parse seconds:", json.dumps(golden_dags["parse_seconds"], sort_keys=True))
    assert golden_dags["parse_seconds"]


@pytest.mark.parametrize("example", example_files(), ids=lambda p: p.stem)
def test_golden_dag_matches_the_ir(golden_dags, example):
    # compiled, not only loaded: the IR with each step's environment named by the lock beside the example
    flow = compile_flow(example.read_bytes(), example.relative_to(ROOT).as_posix(), "ir", Options()).flow
    dag = golden_dags["dags"][airflow_target.dag_id(flow, Options())]
    tasks = dag["tasks"]
    nested = [s.name for s in flow.steps if s.kind is StepKind.FOREACH and s.foreach_depth]
    plan = airflow_conditional.plan(flow)  # a recursive step is one task per iteration (test_conditional_airflow)
    assert set(tasks) == {t.task_id for s in flow.steps for t in plan[s.name]} | {f"{n}-task-ids" for n in nested}
    # the flow's parameters, and the run a resume reuses ("" for a fresh run)
    assert sorted(dag["params"]) == sorted([p.name for p in flow.parameters] + [ORIGIN_RUN_INPUT])
    assert dag["params"][ORIGIN_RUN_INPUT] == ""
    for step, step_task in ((s, t) for s in flow.steps for t in plan[s.name]):
        task = tasks[step_task.task_id]
        innermost = flow.step(step.foreach_scope[-1]) if step.foreach_scope else None
        expand_from = (
            None if innermost is None else (f"{innermost.name}-task-ids" if innermost.foreach_depth else innermost.name)
        )
        assert task["mapped"] == bool(step.foreach_scope), step.name
        assert task.get("expand_from") == expand_from, step.name
        assert set(task["upstream"]) == set(step_task.upstream) | ({expand_from} if expand_from else set()), step.name
        assert [tuple(c) for c in task.get("run_if") or []] == [c.as_tuple() for c in step_task.run_if]
        gathering = airflow_conditional.GATHERING_TRIGGER_RULE
        assert task["trigger_rule"] == (gathering if step_task.run_if else "all_success"), step.name
        assert (task.get("branch") or False) == step.is_switch and task.get("iteration") == step_task.iteration
        retries = step.retry.times if step.retry else 0
        if step.compute.backend == "skypilot" and launch_mode(step) == "managed":
            retries = 0  # SkyPilot restarts a managed job; Airflow does not retry its launcher
        assert task["retries"] == retries, step.name
        if retries:
            assert task["retry_delay"] == step.retry.delay_seconds
        assert task["execution_timeout"] == step.timeout_seconds, step.name
        if step.compute.backend == "skypilot":  # the launcher pod (its argv: tests/test_skypilot.py)
            assert task["image"] == Options().skypilot_image and "flowc.runtime.skypilot_launch" in task["argv_spec"]
            continue
        assert task["pod_resources"] == k8s.pod(step, Options()).resources, step.name
        assert task["image"] == (step.image or Options().image)
        assert (task.get("foreach") or False) == (step.kind is StepKind.FOREACH)
        argv = runtime_argv(flow, step, Options(), foreach_out=airflow_target.POD_XCOM_FILE)
        assert [item if isinstance(item, str) else "<>" for item in task["argv_spec"]] == [
            "".join(item) if all(isinstance(p, str) for p in item) else "<>" for item in argv
        ]
        if "pod" in task:  # the real KubernetesPodOperator the task builds when it runs
            assert "KubernetesPodOperator" in task["pod"]["bases"] and task["pod"]["template_fields"] == []
            assert task["pod"]["limits"] == task["pod_resources"] == task["pod"]["requests"]


def test_decorated_pod_settings(golden_dags):
    train = golden_dags["dags"]["demo.user.unknown.DecoratedFlow"]["tasks"]["train"]  # goldens: Options()
    assert train["pod_resources"] == {
        "cpu": "8",
        "memory": "32768Mi",
        "ephemeral-storage": "102400Mi",
        "nvidia.com/gpu": "2",
    }
    assert (train["namespace"], train["service_account_name"]) == ("ml", "trainer")
    assert train["node_selector"] == {"pool": "gpu"} and train["secret_names"] == ["db-credentials"]
    assert train["pod"]["tolerations"] == 1 and train["pod"]["secrets"] == 1
    schedule = json.dumps(golden_dags["dags"]["demo.user.unknown.DecoratedFlow"]["schedule"])
    assert "30 2 * * *" in schedule and "Europe/Berlin" in schedule


# ---------------------------------------------------------------------------
# End to end: --operator local, dag.test(), artifacts read back from the datastore

INJECTION = "$(touch INJECTED); `touch INJECTED` {{ 7 * 7 }} ; rm -rf / && echo"
CARD_SOURCE = (ROOT / "tests" / "compat" / "card_training_metrics.py").read_text()  # @card in a foreach and a join
SOURCES = {"jinja_flow": JINJA_SOURCE, "usage_flow": USAGE_SOURCE, "card_flow": CARD_SOURCE}  # beside the examples
# key -> (example or SOURCES key, extra flags, run conf, env)
LOCAL_RUNS = {
    "linear": ("linear", (), {}, {}),
    "branch": ("branch", (), {}, {}),
    "foreach": ("foreach", (), {}, {}),
    "nested_foreach": ("nested_foreach", (), {}, {}),
    "parameters": ("parameters", (), {}, {}),
    "parameters_set": (
        "parameters",
        ("--name", "ParameterFlowSet"),
        {"greeting": INJECTION, "epochs": 5, "verbose": True, "config": {"layers": [1]}},
        {},
    ),
    "retry_catch": ("retry_catch", (), {}, {}),
    "parameter_kinds": ("parameter_kinds", (), {}, {}),
    "parameter_kinds_set": (
        "parameter_kinds",
        ("--name", "ParameterKindsFlowSet"),
        {"tags": ["x", "y", "z"], "seeds": [5], "dry-run": True, "columns": "a,b"},
        {},
    ),
    "map_limit": ("foreach", ("--name", "ForeachFlowMapLimit"), {}, {"AIRFLOW__CORE__MAX_MAP_LENGTH": "2"}),
    "jinja": ("jinja_flow", (), {}, {}),
    # a JSON parameter that is not JSON: the runtime's usage error (exit 2), which no retry can change
    "usage_not_retried": ("usage_flow", (), {"config": "{not json"}, {}),
    "cards": ("card_flow", (), {}, {}),
}


@pytest.fixture(scope="session")
def local_runs(airflow_home, tmp_path_factory):
    home, _ = airflow_home
    work = tmp_path_factory.mktemp("local_runs")
    dags = work / "dags"
    dags.mkdir()
    code = work / "code"  # the examples and SOURCES side by side: one FLOWC_CODE_DIR for every DAG
    shutil.copytree(EXAMPLES, code)
    for name, source in SOURCES.items():
        (code / f"{name}.py").write_text(source)
    specs = []
    for key, (example, flags, conf, env) in LOCAL_RUNS.items():
        datastore = work / "datastore" / key
        compiled = run_flowc(
            "compile",
            str(code / f"{example}.py"),
            "-t",
            "airflow",
            "--operator",
            "local",
            "--datastore",
            str(datastore),
            "-o",
            str(dags / f"{key}.py"),
            *flags,
            env={"FLOWC_CODE_DIR": str(code)},
        )
        assert compiled.returncode == 0, compiled.stderr
        dag_id = flags[1] if flags else load_flow((code / f"{example}.py").read_bytes(), example)[0].name
        specs.append({"key": key, "file": str(dags / f"{key}.py"), "dag_id": dag_id, "conf": conf, "env": env})
    spec_file = work / "spec.json"
    spec_file.write_text(json.dumps(specs))
    results, output = _helper("run", str(spec_file), _airflow_env(home, dags), timeout=600)
    return {spec["key"]: result for spec, result in zip(specs, results)}, work, output


def final_artifacts(work: Path, key: str) -> dict:
    """The `end` task's artifacts of the single run in this case's datastore."""
    from flowc.runtime.datastore import open_datastore

    root = work / "datastore" / key
    (flow_dir,) = root.iterdir()
    (run_dir,) = (flow_dir / "runs").iterdir()
    meta = json.loads((run_dir / "end" / "0" / "meta.json").read_text())
    assert (run_dir / "end" / "0" / "DONE").exists()
    store = open_datastore(str(root))
    return {name: pickle.loads(store.get_blob(flow_dir.name, sha)) for name, sha in meta["artifacts"].items()}


EXPECTED = {
    "linear": {"total": 385},
    "branch": {"summary": {"words": 9, "letters": 35}},
    "foreach": {"best_rate": 0.01},
    "nested_foreach": {"totals": {"north": 300, "south": 300}},
    "parameters": {"message": "hello world 0.01", "layers": [64, 32]},
    "parameters_set": {"message": f"hello {INJECTION} 0.01", "layers": [1]},
    "retry_catch": {"attempts_needed": 2, "partial": "written before the failure"},
    # examples/parameter_kinds.py: an array Param reaches the step as a tuple, a flag as a bool, separator= splits
    "parameter_kinds": {
        "summary": {
            "sizes": [64, 32],
            "tags": ["red", "blue"],
            "tags_is_tuple": True,
            "seed_total": 3,
            "dry_run": False,
            "columns": ["id", "name"],
        }
    },
    "parameter_kinds_set": {
        "summary": {
            "sizes": [64, 32],
            "tags": ["x", "y", "z"],
            "tags_is_tuple": True,
            "seed_total": 5,
            "dry_run": True,
            "columns": ["a", "b"],
        }
    },
}


@pytest.mark.parametrize("key", list(EXPECTED))
def test_local_dag_run_produces_the_flows_artifacts(local_runs, key):
    results, work, output = local_runs
    result = results[key]
    assert result["state"] == "success", (result, output[-4000:])
    artifacts = final_artifacts(work, key)
    for name, value in EXPECTED[key].items():
        assert artifacts[name] == value, name


def test_nested_foreach_maps_every_cell(local_runs):
    tasks = local_runs[0]["nested_foreach"]["tasks"]
    assert len(tasks["region"]) == 2 and len(tasks["cell"]) == 6 and len(tasks["region_total"]) == 2


def test_parameter_values_are_argv_items_not_code(local_runs):
    """A value full of shell and Jinja syntax arrives in the step verbatim and runs nothing."""
    results, work, _ = local_runs
    assert results["parameters_set"]["state"] == "success"
    assert not list(ROOT.rglob("INJECTED")) and not list(EXAMPLES.glob("INJECTED")) and not list(work.rglob("INJECTED"))


def test_jinja_in_user_values_is_never_rendered(local_runs):
    """Airflow renders Jinja in operators' template_fields: flowc's operators have none, so an @environment
    value and a parameter default holding `{{ 7 * 7 }}`, `{{ var.value.x }}` and `{% raw %}` reach the step as typed."""
    results, work, output = local_runs
    assert results["jinja"]["state"] == "success", (results["jinja"], output[-4000:])
    from flowc import Run

    start = Run(f"JinjaFlow/{_only_run(work, 'jinja')}", datastore=str(work / "datastore" / "jinja"))["start"].task
    assert (start.data.mode, start.data.seen) == (JINJA, JINJA)


def test_cards_land_in_the_datastore_under_airflow(local_runs):
    """The runtime renders @card in each task Airflow runs: one page per foreach task, the join's blank card."""
    _, work, _ = local_runs
    (run_dir,) = (work / "datastore" / "cards" / "TrainingReportFlow" / "runs").iterdir()
    for step, task in (("train", "0"), ("train", "1"), ("train", "2")):
        page = (run_dir / step / task / "cards" / "default.html").read_text()
        assert "Learning rate" in page and "Content-Security-Policy" in page
    assert "Best model" in (run_dir / "join" / "0" / "cards" / "blank.html").read_text()


def _only_run(work: Path, key: str) -> str:
    ((flow_dir,),) = [list((work / "datastore" / key).iterdir())]
    (run_dir,) = (flow_dir / "runs").iterdir()
    return run_dir.name


def test_usage_error_fails_the_task_without_retries(local_runs):
    """@retry(times=3) and the runtime exiting 2 (a bad parameter): one try, AirflowFailException, no backoff."""
    results, _, output = local_runs
    result = results["usage_not_retried"]
    assert result["state"] == "failed" and result["tasks"]["start"] == ["failed"], (result, output[-4000:])
    assert result["tries"]["start"] == [1]
    assert "AirflowFailException" in output and "retrying cannot help" in output
    assert results["retry_catch"]["state"] == "success"  # a step's own failure is still retried (attempts_needed 2)


def test_foreach_wider_than_max_map_length_fails_naming_the_setting(local_runs):
    results, _, output = local_runs
    assert results["map_limit"]["state"] == "failed"
    assert "max_map_length" in output and "AIRFLOW__CORE__MAX_MAP_LENGTH" in output


# ---------------------------------------------------------------------------
# Deploy


def test_deploy_writes_the_dag_and_airflow_lists_it(airflow_home, tmp_path):
    need(importlib_find("flowc.deploy.package"), "flowc.deploy.package (the code packager) is not in this tree yet")
    home, _ = airflow_home
    dags = tmp_path / "dags"
    deployed = run_flowc(
        "deploy",
        "examples/linear.py",
        "-t",
        "airflow",
        "--dags-folder",
        str(dags),
        "--datastore",
        str(tmp_path / "datastore"),
    )
    assert deployed.returncode == 0, deployed.stderr
    assert [p.name for p in dags.iterdir()] == ["LinearFlow.airflow.py"]
    assert "--package" in (dags / "LinearFlow.airflow.py").read_text()
    assert list((tmp_path / "datastore" / "LinearFlow" / "packages").iterdir())
    listed = subprocess.run(
        [str(AIRFLOW), "dags", "list", "--local", "-o", "plain"],
        env=_airflow_env(home, dags),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert "LinearFlow" in listed.stdout


def test_deploy_without_dags_folder_is_an_error(tmp_path):
    deployed = run_flowc("deploy", "examples/linear.py", "-t", "airflow", "--datastore", str(tmp_path))
    assert deployed.returncode == 2 and "--dags-folder" in deployed.stderr


def importlib_find(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def test_deploy_to_s3_dags_folder(aws_env):
    need(importlib_find("flowc.deploy.package"), "flowc.deploy.package (the code packager) is not in this tree yet")
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="airflow-dags")
    deployed = run_flowc(
        "deploy",
        "examples/foreach.py",
        "-t",
        "airflow",
        "--dags-folder",
        "s3://airflow-dags/dags/",
        "--datastore",
        "s3://airflow-dags/flowc",
        env=aws_env,
    )
    assert deployed.returncode == 0, deployed.stderr
    text = s3.get_object(Bucket="airflow-dags", Key="dags/ForeachFlow.airflow.py")["Body"].read().decode()
    assert "s3://airflow-dags/flowc" in text and "--package" in text


def test_deploy_dry_run_writes_nothing(tmp_path):
    need(importlib_find("flowc.deploy.package"), "flowc.deploy.package (the code packager) is not in this tree yet")
    deployed = run_flowc(
        "deploy",
        "examples/linear.py",
        "-t",
        "airflow",
        "--dry-run",
        "--dags-folder",
        str(tmp_path / "dags"),
        "--datastore",
        str(tmp_path / "datastore"),
    )
    assert deployed.returncode == 0, deployed.stderr
    assert "would write" in deployed.stdout and not (tmp_path / "dags").exists()
    assert not (tmp_path / "datastore").exists()


# ---------------------------------------------------------------------------
# @kubernetes settings Airflow honours, and a hostile flow file name

HONOURED_SOURCE = '''from flowc import FlowSpec, kubernetes, secrets, step


class PodSettingsFlow(FlowSpec):
    @kubernetes(gpu=1, gpu_vendor="amd", shared_memory=256, image_pull_policy="Always",
                labels={"team": "ml"}, annotations={"example.com/owner": "Data Team"},
                node_selector="pool=gpu,zone=a", secrets="db-creds",
                tolerations=[{"key": "spot", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60}])
    @secrets(sources=["api-key"])
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''
HOSTILE_FILE = 'a"""\nimport os\nos.system("touch INJECTED")\n"\'x.py'


@pytest.fixture(scope="session")
def special_dags(airflow_home, tmp_path_factory):
    """The honoured-settings DAG and the hostile-file-name DAG, loaded by DagBag in one subprocess."""
    from flowc.compiler import compile_flow

    home, _ = airflow_home
    folder = tmp_path_factory.mktemp("special_dags")
    (folder / "pod_settings.py").write_text(compile_flow(HONOURED_SOURCE, "pod_settings.py", "airflow").text)
    hostile = compile_flow((EXAMPLES / "linear.py").read_bytes(), HOSTILE_FILE, "airflow", Options(name="HostileFile"))
    (folder / "hostile.py").write_text(hostile.text)
    (folder / "unicode_project.py").write_text(compile_flow(UNICODE_PROJECT_SOURCE, "flüß.py", "airflow").text)
    inspection, _ = _helper("inspect", str(folder), _airflow_env(home, folder))
    return inspection, hostile.text


def test_pod_operator_carries_every_kubernetes_setting(special_dags):
    """No cluster runs here: the evidence is the KubernetesPodOperator the task builds (its pod_operator(argv))."""
    inspection, _ = special_dags
    assert inspection["import_errors"] == {}
    pod = inspection["dags"]["PodSettingsFlow"]["tasks"]["start"]["pod"]
    assert "KubernetesPodOperator" in pod["bases"]
    assert pod["limits"] == pod["requests"] == {"cpu": "1", "memory": "4096Mi", "amd.com/gpu": "1"}
    assert pod["labels"] == {"team": "ml"} and pod["annotations"] == {"example.com/owner": "Data Team"}
    assert pod["image_pull_policy"] == "Always"
    assert pod["node_selector"] == {"pool": "gpu", "zone": "a"}
    assert pod["secret_names"] == ["api-key", "db-creds"]  # @secrets first, then @kubernetes: Argo's order too
    (toleration,) = pod["toleration_dicts"]
    assert toleration["toleration_seconds"] == 60 and toleration["effect"] == "NoExecute"
    (volume,) = pod["volumes"]
    assert volume["name"] == "dshm" and volume["empty_dir"] == {"medium": "Memory", "size_limit": "256Mi"}
    assert [(m["name"], m["mount_path"]) for m in pod["volume_mounts"]] == [("dshm", "/dev/shm")]


def _calls(text: str) -> set[str]:
    import ast

    return {ast.dump(node.func) for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Call)}


def test_hostile_flow_file_name_stays_data(special_dags):
    """A file name with triple quotes, quotes and newlines reaches the DAG only through repr: no new code."""
    inspection, hostile = special_dags
    assert inspection["import_errors"] == {} and "HostileFile" in inspection["dags"]
    normal = compile_flow((EXAMPLES / "linear.py").read_bytes(), "examples/linear.py", "airflow").text
    assert _calls(hostile) <= _calls(normal)
    assert f"FLOW_FILE = {HOSTILE_FILE!r}" in hostile
    assert not list(ROOT.rglob("INJECTED"))


# ---------------------------------------------------------------------------
# DAG ids: checked at compile time as Airflow checks them; the default is always one Airflow takes


def test_default_dag_id_is_project_and_flow_and_always_valid(special_dags):
    """@project names the DAG as it names Argo and Step Functions deployments; any name is cleaned stably."""
    inspection, _ = special_dags
    assert inspection["import_errors"] == {}
    dag_id = airflow_target.default_dag_id("my_team.user.unknown.Flüß", None)  # Metaflow's project.branch.Flow
    assert dag_id in inspection["dags"] and airflow_target.DAG_ID.fullmatch(dag_id)
    assert airflow_target.default_dag_id("LinearFlow", None) == "LinearFlow"
    assert airflow_target.default_dag_id("F", "demo") == "demo-F"
    assert airflow_target.default_dag_id("F", "x" * 300) != airflow_target.default_dag_id("F", "x" * 301)
    assert all(len(airflow_target.default_dag_id("F", "é" * n)) <= 250 for n in (1, 249, 250, 400))


def test_pod_argv_and_env_survive_kubelet_expansion(special_dags):
    """The kubelet rewrites `$$` and `$(NAME)` in command, args and env values: each `$` is doubled.
    No cluster runs here: the evidence is the KubernetesPodOperator the task builds (tests/test_airflow_helpers.py
    checks the escape against the kubelet's expansion rules)."""
    inspection, _ = special_dags
    dag_id = airflow_target.default_dag_id("my_team.user.unknown.Flüß", None)
    pod = inspection["dags"][dag_id]["tasks"]["start"]["pod"]
    assert pod["env"]["PRICE"] == "pay $$$$5 to $$(KUBERNETES_SERVICE_HOST) $${HOME}"
    assert pod["arguments"][-1] == "pay $$$$5 to $$(HOST)" and pod["template_fields"] == []
