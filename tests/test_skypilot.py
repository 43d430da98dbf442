"""@skypilot steps: the SkyPilot task YAML, its validation by SkyPilot's own loader, and the launcher.

No cloud is reachable here.  So: the generated YAML is checked with SkyPilot's
loader (`skypilot==0.14.1` in its own venv, .venv-sky: it conflicts with
Airflow), and the launcher runs against a stand-in `sky` executable written by
these tests into a temporary folder.  The stand-in records its argv, exits with
the code a test asks for, and in one test does what SkyPilot does on a VM: runs
the task's `run` script with bash, with the task's envs plus the `--env` values.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLES, ROOT, need, run_flowc
from flowc.compiler import CompileError, Options, compile_flow, load_flow
from flowc.compiler.command import render
from flowc.compiler.lower import skypilot as sky_task
from flowc.compiler.targets import skypilot

SKY_PYTHON = ROOT / ".venv-sky" / "bin" / "python"
EXAMPLE = EXAMPLES / "skypilot.py"


def compile_text(path: Path, options: Options = Options(), with_decorators=()) -> str:
    return compile_flow(
        path.read_bytes(), path.relative_to(ROOT).as_posix(), "skypilot", options, tuple(with_decorators)
    ).text


def flow_of(path: Path, with_decorators=()):
    return load_flow(path.read_bytes(), path.relative_to(ROOT).as_posix(), tuple(with_decorators))[0]


def documents(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d and "run" in d]


# ---------------------------------------------------------------------------
# SkyPilot's own loader


SKY_CHECK = textwrap.dedent("""
    import json, sys, yaml
    from sky.utils import dag_utils
    import sky
    overrides = [("FLOWC_RUN_ID", "r1"), ("FLOWC_TASK_ID", "0"), ("FLOWC_PACKAGE", "s3://b/p/" + "0" * 64 + ".tar.gz")]
    results = []
    for text in json.load(sys.stdin):
        dag = dag_utils.load_chain_dag_from_yaml_str(text, env_overrides=overrides)
        out = {"dag": dag.name, "tasks": [[t.name, str(t.resources)] for t in dag.tasks]}
        errors = []
        for doc in [d for d in yaml.safe_load_all(text) if d and "run" in d]:
            sky.Task.from_yaml_config(dict(doc), env_overrides=overrides)
            try:
                sky.Task.from_yaml_config(dict(doc))
            except ValueError as exc:
                errors.append(str(exc))
        out["without_env"] = errors
        results.append(out)
    print(json.dumps(results))
""")


def sky_check(*texts: str) -> list[dict]:
    """Each text loaded by SkyPilot 0.14.1's own loader (one subprocess: `import sky` takes ~3 s)."""
    need(
        SKY_PYTHON.exists(),
        "SkyPilot's venv .venv-sky is missing (python3 -m venv .venv-sky && "
        ".venv-sky/bin/pip install skypilot==0.14.1)",
    )
    result = subprocess.run(
        [str(SKY_PYTHON), "-c", SKY_CHECK], input=json.dumps(texts), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_example_passes_skypilots_loader():
    (checked,) = sky_check(compile_text(EXAMPLE))
    assert checked["dag"] == "SkyFlow"
    assert [name for name, _ in checked["tasks"]] == ["featurize", "train"]
    assert "Spot" in checked["tasks"][0][1] and "A10G" in checked["tasks"][1][1]
    # Without --env FLOWC_RUN_ID SkyPilot refuses to launch: the run id is never guessed.
    assert all("FLOWC_RUN_ID" in e for e in checked["without_env"]) and len(checked["without_env"]) == 2


def test_with_skypilot_on_every_example_passes_skypilots_loader():
    texts = []
    for example in sorted(EXAMPLES.glob("*.py")):
        try:
            texts.append(compile_text(example, with_decorators=["skypilot:use_spot=True"]))
        except CompileError as exc:  # e.g. @secrets: refused, with its line
            assert all("skypilot" in d.message or "SkyPilot" in d.message for d in exc.diagnostics), exc.diagnostics
    assert len(texts) >= 6
    assert all(checked["tasks"] for checked in sky_check(*texts))


# ---------------------------------------------------------------------------
# The mapping


def test_resources_envs_and_recovery():
    featurize, train = documents(compile_text(EXAMPLE))
    assert featurize["resources"] == {
        "infra": "aws/us-east-1",
        "cpus": "4+",
        "memory": "16+",
        "disk_size": 64,
        "use_spot": True,
        "job_recovery": {"max_restarts_on_errors": 2},
    }
    assert train["resources"]["accelerators"] == "A10G:1" and train["resources"]["memory"] == "24+"
    assert "job_recovery" not in train["resources"]  # a reused cluster: not a managed job
    assert featurize["envs"]["FLOWC_RUN_ID"] is None and featurize["envs"]["FLOWC_TASK_ID"] is None
    assert train["envs"]["FLOWC_TASK_ID"] == "0"
    assert featurize["envs"]["FLOWC_MAX_ATTEMPTS"] == "3"
    assert "pip" not in featurize["setup"]


@pytest.mark.parametrize("mib,expected", [(1024, 1), (1536, 1.5), (1000, 0.98), (16 * 1024 + 1, 16.01)])
def test_memory_mib_becomes_gigabytes_rounded_up(mib, expected):
    assert sky_task.gigabytes(mib) == expected


HOSTILE = '''
from flowc import FlowSpec, Parameter, environment, skypilot, step

class Hostile(FlowSpec):
    p = Parameter("a-b", default="`id`; $(touch /tmp/pwned)")

    @environment(vars={"X": "$(rm -rf ~); echo '\\"; exit 1"})
    @skypilot(region="us-east-1")
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_run_script_is_constant_text_and_values_travel_in_envs(tmp_path):
    path = tmp_path / "hostile flow;rm.py"
    path.write_text(HOSTILE)
    options = Options(datastore="s3://b/$(whoami)/`x`", package_url="s3://b/'q\"/" + "a" * 64 + ".tar.gz")
    flow = load_flow(path.read_bytes(), str(path))[0]
    (doc,) = documents(skypilot.render(skypilot.lower(flow, options), options))
    # Only flags, fixed words and quoted "$FLOWC_..." references: no value is ever part of the script.
    tokens = doc["run"].replace("\\\n", " ").split()
    for token in tokens:
        assert re.fullmatch(r'exec|-c|step|--[a-z-]+|"\$FLOWC_[A-Z0-9_]+"|"\$FLOWC_PYTHON"', token), token
    assert doc["envs"]["FLOWC_FLOW_FILE"] == "hostile flow;rm.py"
    assert doc["envs"]["FLOWC_DATASTORE"] == options.datastore
    assert doc["envs"]["FLOWC_PARAM_0"] == "a-b="
    assert doc["envs"]["X"].startswith("$(rm -rf ~)")


def test_refusals_are_located():
    source = textwrap.dedent('''
        from flowc import FlowSpec, resources, secrets, skypilot, step

        class F(FlowSpec):
            @skypilot()
            @resources(gpu=2)
            @secrets(sources=["db"])
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    ''')
    with pytest.raises(CompileError) as caught:
        compile_flow(source, "f.py", "skypilot")
    messages = [(d.location.line, d.message) for d in caught.value.diagnostics]
    assert any(line == 6 and "accelerators" in m for line, m in messages), messages
    assert any(line == 7 and "secrets" in m for line, m in messages), messages
    with pytest.raises(CompileError) as caught:
        compile_flow((EXAMPLES / "linear.py").read_bytes(), "examples/linear.py", "skypilot")
    assert "no step has @skypilot" in str(caught.value.diagnostics[0])
    # The orchestrators refuse the same shapes, with the same lines.
    for target in ("argo", "airflow"):
        with pytest.raises(CompileError) as caught:
            compile_flow(source, "f.py", target)
        assert any(d.location.line == 6 for d in caught.value.diagnostics)


def test_compile_to_a_directory_writes_one_task_per_step(tmp_path):
    result = run_flowc("compile", "examples/skypilot.py", "-t", "skypilot", "-o", str(tmp_path) + os.sep)
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in tmp_path.iterdir() if p.is_file())  # not the .flowc-cache folder
    assert written == ["skypilot.featurize.sky.yaml", "skypilot.train.sky.yaml"]
    assert yaml.safe_load((tmp_path / "skypilot.train.sky.yaml").read_text())["name"] == "train"


# ---------------------------------------------------------------------------
# The launcher's argv, as the orchestrators render it


def test_launcher_argv_in_argo_and_airflow():
    from flowc.compiler.targets.argo_argv import argo_placeholder

    flow = flow_of(EXAMPLE)
    featurize = render(sky_task.launcher_argv(flow, flow.step("featurize"), Options()), argo_placeholder)
    assert featurize[:3] == ["python", "-m", "flowc.runtime.skypilot_launch"]
    assert featurize[featurize.index("--mode") + 1] == "managed"
    assert "FLOWC_RUN_ID={{workflow.name}}" in featurize
    assert "FLOWC_TASK_ID={{inputs.parameters.task-id}}" in featurize
    assert not any(a.startswith("FLOWC_ATTEMPT=") for a in featurize)  # retried by SkyPilot, not by Argo
    train = render(sky_task.launcher_argv(flow, flow.step("train"), Options()), argo_placeholder)
    assert train[train.index("--cluster") + 1] == "flowc-train" and "--autostop-minutes" in train
    argo = yaml.safe_load(compile_flow(EXAMPLE.read_bytes(), "examples/skypilot.py", "argo").text)
    template = {t["name"]: t for t in argo["spec"]["templates"]}["featurize"]
    assert template["container"]["image"] == Options().skypilot_image and "retryStrategy" not in template
    airflow = compile_flow(EXAMPLE.read_bytes(), "examples/skypilot.py", "airflow").text
    assert airflow.count("'flowc.runtime.skypilot_launch'") == 2


# ---------------------------------------------------------------------------
# The launcher against a stand-in `sky` (no cloud here)


FAKE_SKY = textwrap.dedent('''\
    #!{python}
    """Stand-in for SkyPilot's `sky` CLI: records argv; exits as FAKE_SKY_CODES says; may run the task."""
    import json, os, subprocess, sys
    import yaml
    argv = sys.argv[1:]
    with open(os.environ["FAKE_SKY_LOG"], "a") as f:
        f.write(json.dumps(argv) + "\\n")
    command = "jobs launch" if argv[:2] == ["jobs", "launch"] else argv[0]
    codes = dict(item.split("=") for item in os.environ.get("FAKE_SKY_CODES", "").split(",") if item)
    if command in codes:
        sys.exit(int(codes[command]))
    # Do what SkyPilot does on the VM: the task's envs, then --env, then bash runs `run`.
    task = yaml.safe_load(open(argv[-1]))
    env = dict(os.environ, **{{k: v for k, v in task["envs"].items() if v is not None}})
    for i, item in enumerate(argv):
        if item == "--env":
            name, _, value = argv[i + 1].partition("=")
            env[name] = value
    code = subprocess.run(["bash", "-c", task.get("setup", "true")], env=env).returncode
    code = code or subprocess.run(["bash", "-c", task["run"]], env=env).returncode
    sys.exit(100 if code else 0)
''')


@pytest.fixture
def fake_sky(tmp_path):
    folder = tmp_path / "bin"
    folder.mkdir()
    sky = folder / "sky"
    sky.write_text(FAKE_SKY.format(python=sys.executable))
    sky.chmod(0o755)
    log = tmp_path / "sky-calls.jsonl"

    def launch(*args: str, codes: str = "") -> tuple[subprocess.CompletedProcess, list]:
        env = dict(
            os.environ,
            PATH=f"{folder}{os.pathsep}{os.environ['PATH']}",
            FAKE_SKY_LOG=str(log),
            FAKE_SKY_CODES=codes,
            PYTHONPATH=str(ROOT),
        )
        result = subprocess.run(
            [sys.executable, "-m", "flowc.runtime.skypilot_launch", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        log.unlink(missing_ok=True)
        return result, calls

    return launch


TASK = (
    "name: t\nenvs:\n  FLOWC_FLOW: F\n  FLOWC_STEP: s\n  FLOWC_RUN_ID: null\n  FLOWC_DATASTORE: /nowhere\nrun: 'true'\n"
)


@pytest.mark.parametrize(
    "codes,expected",
    [("", 0), ("jobs launch=100", 1), ("jobs launch=103", 1), ("jobs launch=101", 3), ("jobs launch=1", 3)],
)
def test_managed_job_exit_codes(fake_sky, codes, expected):
    result, calls = fake_sky("--task-yaml", TASK, "--mode", "managed", "--env", "FLOWC_RUN_ID=r1", codes=codes)
    assert result.returncode == expected, result.stderr
    (call,) = calls
    assert call[:4] == ["jobs", "launch", "--yes", "--name"]
    assert call[call.index("--env") + 1] == "FLOWC_RUN_ID=r1" and call[-1].endswith("task.yaml")


def test_cluster_mode_execs_then_launches_when_the_cluster_is_not_up(fake_sky):
    args = (
        "--task-yaml",
        TASK,
        "--mode",
        "cluster",
        "--cluster",
        "c1",
        "--autostop-minutes",
        "30",
        "--env",
        "FLOWC_RUN_ID=r1",
    )
    result, calls = fake_sky(*args, codes="exec=0")
    assert result.returncode == 0 and [c[:2] for c in calls] == [["exec", "c1"]]
    result, calls = fake_sky(*args, codes="exec=1,launch=0")  # 1: not a job code, the cluster is not there
    assert result.returncode == 0 and [c[0] for c in calls] == ["exec", "launch"]
    assert calls[1][:4] == ["launch", "--yes", "--cluster", "c1"] and "--idle-minutes-to-autostop" in calls[1]
    result, calls = fake_sky(*args, codes="exec=100")  # the step ran and failed: no second launch
    assert result.returncode == 1 and len(calls) == 1


def test_fresh_mode_tears_its_cluster_down(fake_sky):
    result, calls = fake_sky("--task-yaml", TASK, "--mode", "fresh", "--env", "FLOWC_RUN_ID=r1", codes="launch=0")
    assert result.returncode == 0
    assert calls[0][0] == "launch" and "--down" in calls[0] and calls[0][3].startswith("flowc-")


def test_usage_errors(fake_sky):
    result, calls = fake_sky("--task-yaml", TASK, "--mode", "managed")
    assert result.returncode == 2 and "FLOWC_RUN_ID" in result.stderr and calls == []
    result, _ = fake_sky("--task-yaml", TASK, "--mode", "cluster", "--env", "FLOWC_RUN_ID=r")
    assert result.returncode == 2 and "--cluster" in result.stderr


def test_sky_missing_is_a_launch_failure(tmp_path):
    env = dict(os.environ, FLOWC_SKY=str(tmp_path / "no-sky"), PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowc.runtime.skypilot_launch",
            "--task-yaml",
            TASK,
            "--mode",
            "managed",
            "--env",
            "FLOWC_RUN_ID=r",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3 and "not found" in result.stderr


def test_task_runs_from_the_code_package_and_a_restart_finds_done(fake_sky, tmp_path):
    """The generated `run` script, executed by bash as SkyPilot would: bootstrap -> runtime -> datastore."""
    from flowc.deploy.package import build_package, upload_package

    datastore = tmp_path / "ds"
    data, sha = build_package(str(EXAMPLES / "foreach.py"))
    url = upload_package(str(datastore), "ForeachFlow", data, sha)
    options = Options(datastore=str(datastore), package_url=url, python=sys.executable)
    flow = flow_of(EXAMPLES / "foreach.py", ["skypilot"])
    start = flow.steps[0]
    assert start.kind.value == "foreach"
    argv = render(
        sky_task.launcher_argv(flow, start, options, foreach_out=str(tmp_path / "split.json")),
        lambda p: {"run_id": "r1", "task_id": "0"}.get(p.kind, ""),
    )
    result, calls = fake_sky(*argv[3:])
    assert result.returncode == 0, result.stderr[-3000:]
    done = datastore / "ForeachFlow/runs/r1/start/0/DONE"
    assert done.exists()
    assert json.loads((tmp_path / "split.json").read_text()) == json.loads(
        (datastore / "ForeachFlow/runs/r1/start/0/foreach.json").read_text()
    )
    # A restarted job (spot recovery, restart on error) finds its DONE and exits at once.
    before = done.stat().st_mtime_ns
    result, _ = fake_sky(*argv[3:])
    assert result.returncode == 0 and "already done" in result.stderr
    assert done.stat().st_mtime_ns == before


def test_decorators_attached_with_with_travel_as_variables_too():
    """`--with catch` adds a --decorator item to the runtime argv; the run line references it like any flag."""
    import yaml

    from flowc.compiler import Options, compile_flow

    text = compile_flow(
        (EXAMPLES / "linear.py").read_text(),
        "linear.py",
        "skypilot",
        Options(),
        with_decorators=("skypilot", "catch:var=error"),
    ).text
    tasks = [d for d in yaml.safe_load_all(text) if d and "run" in d]
    assert tasks and all('--decorator "$FLOWC_DECORATOR_0"' in t["run"] for t in tasks)
    assert all(t["envs"]["FLOWC_DECORATOR_0"] == '{"catch": {"var": "error"}}' for t in tasks)
