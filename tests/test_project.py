"""@project, --branch and --production as Metaflow documents them (its @project docstring), on every target.

Metaflow: the branch is `user.<username>` by default, `test.<branch>` with
`--branch`, `prod` with `--production`, `prod.<branch>` with both; project and
branch names are lowercase letters, digits and `_`; the deployment is named
`<project>.<branch>.<Flow>` (`current.project_flow_name`), and a task sees
`current.project_name`, `branch_name`, `is_user_branch`, `is_production`,
`project_flow_name`.
"""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from conftest import ROOT, run_flowc
from flowc.compiler import CompileError, Options, compile_flow
from flowc.compiler.targets import airflow as airflow_target
from flowc.compiler.targets import step_functions as sfn_target
from flowc.contract import project as rules

FLOW = textwrap.dedent(
    """\
    from metaflow import FlowSpec, current, project, step


    @project(name="fraud")
    class TrainFlow(FlowSpec):
        @step
        def start(self):
            self.facts = {
                name: getattr(current, name)
                for name in ("project_name", "branch_name", "is_user_branch", "is_production", "project_flow_name")
            }
            self.parallel = tuple(current.parallel)
            self.who = current.username, current.namespace
            self.got = current.get("project_name"), current.get("nothing", "default"), "branch_name" in current
            self.next(self.end)

        @step
        def end(self):
            print("facts", json.dumps(self.facts, sort_keys=True))
    """
).replace("from metaflow", "import json\nfrom metaflow", 1)


@pytest.mark.parametrize(
    "branch, production, user, expected",
    [
        (None, False, "alice", "user.alice"),
        ("feat_1", False, "alice", "test.feat_1"),
        (None, True, "alice", "prod"),
        ("feat_1", True, "alice", "prod.feat_1"),
    ],
)
def test_branch_names_follow_metaflows_rules(branch, production, user, expected):
    assert rules.branch_name(branch, production, user) == expected
    assert rules.project_flow_name("fraud", expected, "TrainFlow") == f"fraud.{expected}.TrainFlow"


def test_the_user_is_never_root():
    assert rules.user_from({"USER": "root", "LOGNAME": "bob"}) == "bob"
    assert rules.user_from({"FLOWC_USER": "carol", "USER": "bob"}) == "carol"
    assert rules.user_from({"USER": "root"}) == rules.UNKNOWN_USER


def write(tmp_path, text=FLOW):
    path = tmp_path / "train.py"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "options, argo_name, sfn_name, dag_id",
    [
        (
            Options(user="alice"),
            "fraud-user-alice-trainflow",
            "fraud-user-alice-TrainFlow",
            "fraud.user.alice.TrainFlow",
        ),
        (Options(branch="b1"), "fraud-test-b1-trainflow", "fraud-test-b1-TrainFlow", "fraud.test.b1.TrainFlow"),
        (Options(production=True), "fraud-prod-trainflow", "fraud-prod-TrainFlow", "fraud.prod.TrainFlow"),
        (
            Options(branch="b1", production=True),
            "fraud-prod-b1-trainflow",
            "fraud-prod-b1-TrainFlow",
            "fraud.prod.b1.TrainFlow",
        ),
    ],
)
def test_every_target_deploys_under_project_branch_flow(tmp_path, options, argo_name, sfn_name, dag_id):
    import yaml

    path = write(tmp_path)
    source = path.read_bytes()
    branch = rules.branch_name(options.branch, bool(options.production), options.user)
    argo = list(yaml.safe_load_all(compile_flow(source, str(path), "argo", options).text))[0]
    assert argo["metadata"]["name"] == argo_name
    assert argo["metadata"]["annotations"]["flowc.dev/project-branch"] == branch
    flow = compile_flow(source, str(path), "step-functions", options).flow
    assert sfn_target.state_machine_name(flow, options) == sfn_name
    dag = compile_flow(source, str(path), "airflow", options).text
    assert f"dag_id={dag_id!r}" in dag and f"'project_branch:{branch}'" in dag
    assert airflow_target.dag_id(flow, options) == dag_id
    for target in ("argo", "step-functions", "airflow"):  # every task is told its branch
        text = compile_flow(source, str(path), target, options).text
        assert "--project-branch" in text and branch in text


@pytest.mark.parametrize(
    "options, message",
    [
        (Options(branch="Feature-1"), "branch 'Feature-1' must be 1-128 lowercase letters, digits and _"),
        (Options(user="a b"), "user name 'a b' cannot name a branch (user.<name>): give --branch NAME"),
        (Options(name="other"), "--name is not read for a @project flow"),
    ],
)
def test_bad_branch_names_are_located_errors(tmp_path, options, message):
    path = write(tmp_path)
    with pytest.raises(CompileError) as raised:
        compile_flow(path.read_bytes(), str(path), "argo", options)
    (error,) = raised.value.errors
    assert str(error).startswith(f"{path}:5:2: error: ") and message in str(error)


def test_a_bad_project_name_is_a_located_error(tmp_path):
    path = write(tmp_path, FLOW.replace('name="fraud"', 'name="Fraud Team"'))
    result = run_flowc("compile", str(path), "-t", "airflow", "-o", str(tmp_path / "out.py"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{path}:5:2: error: @project name 'Fraud Team' must be 1-128 lowercase letters" in result.stderr


def test_branch_without_project_is_refused(tmp_path):
    result = run_flowc("compile", str(ROOT / "examples" / "linear.py"), "-t", "argo", "--branch", "x", "-o", "-")
    assert result.returncode == 2 and "--branch names a @project's deployment, and LinearFlow has no @project" in (
        result.stderr
    )
    result = run_flowc("run", str(ROOT / "examples" / "linear.py"), "--production", "--datastore", str(tmp_path))
    assert result.returncode == 2 and "--production names a @project's deployment" in result.stderr


def test_the_cli_takes_the_user_from_flowc_user(tmp_path):
    path = write(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    result = run_flowc("compile", str(path), "-t", "airflow", "-o", str(out), env={"FLOWC_USER": "dana"})
    assert result.returncode == 0, result.stderr
    assert "dag_id='fraud.user.dana.TrainFlow'" in (out / "train.airflow.py").read_text()


def _facts(output: str) -> dict:
    line = next(line for line in output.splitlines() if "facts {" in line)
    return json.loads(line.split("facts ", 1)[1])


@pytest.mark.parametrize(
    "flags, branch",
    [((), "user.erin"), (("--branch", "b2"), "test.b2"), (("--production",), "prod")],
)
def test_current_in_a_local_run(tmp_path, flags, branch):
    path = write(tmp_path)
    result = run_flowc("run", str(path), "--datastore", str(tmp_path / "ds"), *flags, env={"FLOWC_USER": "erin"})
    assert result.returncode == 0, result.stderr
    assert _facts(result.stdout) == {
        "project_name": "fraud",
        "branch_name": branch,
        "is_user_branch": branch.startswith("user."),
        "is_production": branch == "prod",
        "project_flow_name": f"fraud.{branch}.TrainFlow",
    }
    from flowc.runtime.client import Flow

    start = Flow("TrainFlow", datastore=str(tmp_path / "ds")).latest_run["start"].task.data
    assert start.parallel[1:3] == (1, 0)  # num_nodes, node_index: one node
    assert start.got == ("fraud", "default", True)
    assert start.who == ("erin", "user:erin")  # Metaflow's current.username and its namespace user:<name>


def test_resume_keeps_the_origin_branch(tmp_path):
    path = write(tmp_path, FLOW.replace("print(", "assert not __import__('os').path.exists('fail'); print(", 1))
    (tmp_path / "fail").write_text("")
    first = run_flowc("run", str(path), "--datastore", str(tmp_path / "ds"), "--branch", "b3", "--run-id", "r1")
    assert first.returncode == 1
    (tmp_path / "fail").unlink()
    again = run_flowc("resume", "TrainFlow/r1", "--datastore", str(tmp_path / "ds"), "--flow", str(path))
    assert again.returncode == 0, again.stderr
    assert _facts(again.stdout)["branch_name"] == "test.b3"


def test_a_bad_branch_given_to_the_runtime_is_exit_2(tmp_path):
    import subprocess

    path = write(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "flowc.runtime", "step", path.name, "start", "--run-id", "r", "--task-id", "0"]
        + ["--datastore", str(tmp_path / "ds"), "--project-branch", "test.$(rm -rf)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2 and "bad --project-branch 'test.$(rm -rf)'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_branch_reaches_tasks_on_step_functions(tmp_path):
    """Executed on aws-local-stepfunctions: the branch the state machine was compiled for is each task's."""
    from test_step_functions import run_locally

    from flowc.runtime.client import Run

    path = write(tmp_path)
    root = str(tmp_path / "ds")
    options = Options(datastore=root, python=sys.executable, branch="sfn_b")
    definition = json.loads(compile_flow(path.read_bytes(), path.name, "step-functions", options).text)
    outcome = run_locally(definition, tmp_path, "sfn-1", cwd=tmp_path)
    assert outcome["status"] == "SUCCEEDED", [(c["state"], c["stderr"][-800:]) for c in outcome["calls"]]
    facts = Run("TrainFlow/sfn-1", datastore=root)["start"].task.data.facts
    assert facts["project_flow_name"] == "fraud.test.sfn_b.TrainFlow" and facts["is_production"] is False
