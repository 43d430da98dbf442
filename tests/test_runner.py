"""End to end: every example runs with `flowc run` and its final artifacts are read back with the client."""

from __future__ import annotations

import json
import textwrap

import pytest
from conftest import EXAMPLES, run_flowc
from environments_support import seed_built_environments

from flowc.runtime.client import Flow, Run


def expect_branch(d):
    assert d.summary == {"words": 9, "letters": 35}
    assert d.text.startswith("the quick")


def expect_foreach(d):
    assert d.best_rate == 0.01
    assert d.losses[0] == pytest.approx(1.0) and len(d.losses) == 3


def expect_retry_catch(d):
    assert d.attempts_needed == 2
    assert isinstance(d.broken_error, ValueError) and "always fails" in str(d.broken_error)
    assert d.partial == "written before the failure"


def expect_decorators(d):
    assert (d.mode, d.rows, d.score) == ("full", 1000, 0.9)  # @environment reached the task
    assert "train_error" not in d  # excluded from the merge; train succeeded


EXPECTED = {
    "linear": lambda d: d.total == 385 or pytest.fail(f"total {d.total}"),
    "branch": expect_branch,
    "foreach": expect_foreach,
    "nested_foreach": lambda d: d.totals == {"north": 300, "south": 300} or pytest.fail(str(d.totals)),
    "parameters": lambda d: (
        (d.message, d.layers, d.epochs) == ("hello world 0.01", [64, 32], 3) or pytest.fail(d.message)
    ),
    "retry_catch": expect_retry_catch,
    "branch_in_foreach": lambda d: (
        (d.pairs, d.side_value) == ([("A", 1), ("BB", 2), ("CCC", 3)], 42) or pytest.fail(str(d.pairs))
    ),
    "decorators": expect_decorators,
    "conditional": lambda d: d.summary == "high: 400" or pytest.fail(d.summary),  # the default route
    "recursive": lambda d: (d.iterations, d.total) == ([0, 1, 2, 3], 10) or pytest.fail(f"{d.iterations}"),
    "configs": lambda d: d.model == "ridge" or pytest.fail(str(d.model)),  # from examples/configs.json
    "parameter_kinds": lambda d: (
        d.summary
        == {
            "sizes": [64, 32],
            "tags": ["red", "blue"],
            "tags_is_tuple": True,
            "seed_total": 3,
            "dry_run": False,
            "columns": ["id", "name"],
        }
        or pytest.fail(str(d.summary))
    ),
    "metaflow_api": lambda d: d.results == [0, 1, 4, 9] or pytest.fail(str(d.results)),
    # seeds 1, 2, 3; each split sums seed * i for i < 1000 = seed * 499500; 6 * 499500 = 2997000 = 97 * 30896 + 88
    "skypilot": lambda d: (d.total, d.score) == (2997000, 88) or pytest.fail(f"{d.total} {d.score}"),
    # three shards of i * i over 1000 numbers each: the sum of squares below 3000
    "hybrid": lambda d: d.total == 8995500500 or pytest.fail(f"total {d.total}"),
    # run by hand (or by flowc run): the triggers apply when deployed, the parameters keep their defaults
    "trigger_event": lambda d: d.summary == "events:100" or pytest.fail(str(d.summary)),
    "trigger_upstream": lambda d: d.numbers == [0, 1, 2] or pytest.fail(str(d.numbers)),
    "trigger_downstream": lambda d: None,  # no artifacts: it ran to its end
}


def test_every_example_has_an_expectation():
    assert sorted(p.stem for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.fixture(scope="module")
def example_runs(tmp_path_factory):
    """Every example run once, a few at a time (the runs are independent subprocesses)."""
    from concurrent.futures import ThreadPoolExecutor

    root = tmp_path_factory.mktemp("examples")

    def one(example):
        store = root / example
        if example == "decorators":  # its @pypi/@conda environments, already built: nothing is downloaded
            seed_built_environments(store, EXAMPLES / "decorators.py")
        result = run_flowc(
            "run", str(EXAMPLES / f"{example}.py"), "--datastore", str(store), "--run-id", "r1", "--max-workers", "2"
        )
        return example, (store, result)

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(one, sorted(EXPECTED)))


@pytest.mark.parametrize("example", sorted(EXPECTED))
def test_example_runs_end_to_end(example, example_runs):
    store, result = example_runs[example]
    assert result.returncode == 0, result.stdout + result.stderr
    flow_name = json.loads(next(store.glob("*/runs/r1/run.json")).read_text())["flow"]
    run = Run(f"{flow_name}/r1", datastore=str(store))
    assert run.successful
    EXPECTED[example](run["end"].task.data)


def test_parameters_are_typed_and_passed_to_start(tmp_path):
    store = str(tmp_path / "ds")
    result = run_flowc(
        "run",
        str(EXAMPLES / "parameters.py"),
        "--datastore",
        store,
        "--run-id",
        "p",
        "--param",
        "greeting=you",
        "--param",
        "alpha=0.5",
        "--param",
        "epochs=7",
        "--param",
        "verbose=true",
        "--param",
        'config={"layers": [1]}',
    )
    assert result.returncode == 0, result.stderr
    data = Run("ParameterFlow/p", datastore=store).data
    assert (data.message, data.epochs, data.verbose, data.layers, data.alpha) == ("hello you 0.5", 7, True, [1], 0.5)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--param", "epochs=many"], "epochs"),
        (["--param", "nope=1"], "unknown parameter 'nope'"),
        (["--param", "novalue"], "NAME=VALUE"),
    ],
)
def test_bad_parameters_are_usage_errors(tmp_path, args, fragment):
    result = run_flowc("run", str(EXAMPLES / "parameters.py"), "--datastore", str(tmp_path), *args)
    assert result.returncode == 2
    assert fragment in result.stdout + result.stderr


FAILING = textwrap.dedent('''
    from flowc import FlowSpec, step

    class FixMe(FlowSpec):
        @step
        def start(self):
            self.base = 20
            self.parts = [1, 2, 3]
            self.next(self.fan, foreach="parts")

        @step
        def fan(self):
            if self.input == 2:
                raise ValueError("part two is broken")
            self.value = self.base + self.input
            self.next(self.gather)

        @step
        def gather(self, inputs):
            self.values = sorted(t.value for t in inputs)
            self.next(self.end)

        @step
        def end(self):
            pass
''')


def test_failed_step_is_named_and_resume_after_fix_reuses_finished_tasks(tmp_path):
    flow = tmp_path / "fixme.py"
    flow.write_text(FAILING)
    store = str(tmp_path / "ds")
    first = run_flowc("run", str(flow), "--datastore", store, "--run-id", "bad", "--max-workers", "1")
    assert first.returncode == 1
    assert "step 'fan' task 1" in first.stdout and "part two is broken" in first.stdout
    assert Run("FixMe/bad", datastore=store).status == "failed"

    flow.write_text(FAILING.replace('raise ValueError("part two is broken")', "pass"))
    second = run_flowc("resume", "FixMe/bad", "--datastore", store, "--run-id", "good")
    assert second.returncode == 0, second.stdout + second.stderr
    run = Run("FixMe/good", datastore=store)
    assert run.data.values == [21, 22, 23]
    assert run["start"].task.meta["origin_run_id"] == "bad"  # reused, not re-run
    assert run["fan"]["0"].meta.get("origin_run_id") == "bad"
    assert run["fan"]["1"].meta.get("origin_run_id") is None  # the failed one ran again
    assert Flow("FixMe", datastore=store).latest_run.id == "good"


def test_resume_from_a_step_reruns_it_and_what_follows(tmp_path):
    store = str(tmp_path / "ds")
    assert run_flowc("run", str(EXAMPLES / "linear.py"), "--datastore", store, "--run-id", "a").returncode == 0
    result = run_flowc("resume", "a", "--from", "transform", "--datastore", store, "--run-id", "b")
    assert result.returncode == 0, result.stderr
    run = Run("LinearFlow/b", datastore=store)
    assert run["start"].task.meta["origin_run_id"] == "a"
    assert "origin_run_id" not in run["transform"].task.meta
    assert run.data.total == 385


def test_show_logs_and_runs(tmp_path):
    store = str(tmp_path / "ds")
    assert run_flowc("run", str(EXAMPLES / "retry_catch.py"), "--datastore", store, "--run-id", "x").returncode == 0
    shown = run_flowc("show", "RetryCatchFlow/x", "--datastore", store)
    assert shown.returncode == 0
    assert "broken" in shown.stdout and "caught ValueError" in shown.stdout
    logs = run_flowc("logs", "x/flaky", "--datastore", store)
    assert "attempt 0 stderr" in logs.stdout and "transient failure on the first attempt" in logs.stdout
    assert "flaky needed 2 attempts" in run_flowc("logs", "x/end/0", "--datastore", store).stdout
    listed = run_flowc("runs", str(EXAMPLES / "retry_catch.py"), "--datastore", store)
    assert listed.stdout.split()[0:2] == ["x", "ok"]
    assert run_flowc("show", "nope", "--datastore", store).returncode == 2


def test_default_datastore_is_beside_the_flow_or_flowc_datastore(tmp_path):
    flow = tmp_path / "linear.py"
    flow.write_text((EXAMPLES / "linear.py").read_text())
    assert run_flowc("run", str(flow), "--run-id", "d", env={"FLOWC_DATASTORE": ""}).returncode == 0
    assert (tmp_path / ".flowc" / "LinearFlow" / "runs" / "d" / "end" / "0" / "DONE").exists()
    other = tmp_path / "elsewhere"
    assert run_flowc("run", str(flow), "--run-id", "e", env={"FLOWC_DATASTORE": str(other)}).returncode == 0
    assert Flow("LinearFlow", datastore=str(other)).latest_run.data.total == 385
