"""The client reads runs back from the datastore: Flow, Run, Step, Task, data."""

from __future__ import annotations

import pytest
from conftest import EXAMPLES, run_flowc

from flowc.runtime.client import Flow, Run


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("client") / "ds"
    for run_id in ("first", "second"):
        assert (
            run_flowc(
                "run", str(EXAMPLES / "foreach.py"), "--datastore", str(root), "--run-id", run_id, "--quiet"
            ).returncode
            == 0
        )
    return str(root)


def test_latest_run_and_listing(store, monkeypatch):
    flow = Flow("ForeachFlow", datastore=store)
    assert [r.id for r in flow.runs()] == ["second", "first"]
    assert flow.latest_run.id == "second" and flow.latest_successful_run.id == "second"
    monkeypatch.setenv("FLOWC_DATASTORE", store)
    assert Flow("ForeachFlow").latest_run.id == "second"  # FLOWC_DATASTORE is the default


def test_steps_tasks_and_lazy_data(store):
    run = Run("ForeachFlow/first", datastore=store)
    assert [s.name for s in run.steps()] == ["start", "train", "pick", "end"]
    train = run["train"]
    assert [t.id for t in train] == ["0", "1", "2"]
    assert [t.data.rate for t in train] == [0.001, 0.01, 0.1]
    assert train["1"].index == 1
    data = run["end"].task.data
    assert data.best_rate == 0.01 and "losses" in data and "nope" not in data
    with pytest.raises(AttributeError, match="no artifact 'nope'"):
        data.nope


def test_unknown_runs_and_bad_pathspecs(store):
    with pytest.raises(KeyError):
        Run("ForeachFlow/missing", datastore=store)
    with pytest.raises(ValueError):
        Run("no-slash", datastore=store)
    with pytest.raises(KeyError):
        Run("ForeachFlow/first", datastore=store)["nosuchstep"]


def test_import_flowc_exposes_the_client_lazily():
    import subprocess
    import sys

    code = "import sys, flowc; assert 'flowc.runtime.client' not in sys.modules; flowc.Run; assert 'flowc.runtime.client' in sys.modules"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
