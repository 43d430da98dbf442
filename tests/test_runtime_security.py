"""Runtime security: secret values never reach what flowc prints or saves; blobs are loaded only by hash,
from the run's own datastore, and refused when their bytes do not match their name."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from conftest import run_flowc

from flowc.contract.command import EXIT_CORRUPT
from flowc.runtime.client import Run
from flowc.runtime.datastore import CorruptBlob, LocalDatastore

SECRET_FLOW = textwrap.dedent('''
    import os
    from flowc import FlowSpec, Parameter, environment, secrets, step

    class SecretFlow(FlowSpec):
        fail = Parameter("fail", default="no")

        @secrets(sources=["prod-db-credentials", "arn:aws:secretsmanager:us-east-1:1:secret:api"])
        @step
        def start(self):
            # Use the values without printing or storing them.
            self.seen = sorted(k for k in os.environ if k.endswith(("_TOKEN", "_PASSWORD")) or "SECRET" in k)
            self.lengths = [len(os.environ[k]) for k in self.seen]
            print("start sees", len(self.seen), "secret-like variables")
            self.next(self.end)

        @environment(vars={"PLAIN": "1"})
        @step
        def end(self):
            if self.fail == "yes":
                raise RuntimeError("the end step fails on purpose")
    ''')

SECRETS = {
    "API_TOKEN": "MARKER-tok-5b1f",
    "DB_PASSWORD": "MARKER-pw-9c2e",
    "MY_SECRET_KEY": "MARKER-sk-77aa",
    "AWS_SECRET_ACCESS_KEY": "MARKER-aws-e41d",
}


def all_bytes(folder: Path):
    for path in folder.rglob("*"):
        if path.is_file():
            yield path, path.read_bytes()


def test_secret_values_never_reach_flowc_output_or_the_datastore(tmp_path):
    flow = tmp_path / "secret_flow.py"
    flow.write_text(SECRET_FLOW)
    store = tmp_path / "ds"
    outputs = []
    for run_id, fail in (("ok", "no"), ("bad", "yes")):
        result = run_flowc(
            "run", str(flow), "--datastore", str(store), "--run-id", run_id, "--param", f"fail={fail}", env=SECRETS
        )
        assert result.returncode == (0 if fail == "no" else 1), result.stdout + result.stderr
        outputs.append(result.stdout + result.stderr)
    outputs.append(run_flowc("show", "SecretFlow/bad", "--datastore", str(store)).stdout)
    outputs.append(run_flowc("logs", "bad/start", "--datastore", str(store)).stdout)
    assert "prod-db-credentials" in outputs[0]  # source names are said, values are not
    files = list(all_bytes(store))
    assert len(files) > 10
    for name, value in SECRETS.items():
        for text in outputs:
            assert value not in text, f"{name}'s value printed by flowc"
        for path, data in files:
            assert value.encode() not in data, f"{name}'s value saved in {path}"


def small_run(tmp_path: Path) -> tuple[Path, Path, dict]:
    flow = tmp_path / "small.py"
    flow.write_text(
        textwrap.dedent('''
        from flowc import FlowSpec, step

        class SmallFlow(FlowSpec):
            @step
            def start(self):
                self.numbers = [1, 2, 3]
                self.next(self.end)

            @step
            def end(self):
                self.total = sum(self.numbers)
    ''')
    )
    store = tmp_path / "ds"
    result = run_flowc("run", str(flow), "--datastore", str(store), "--run-id", "r1", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    meta = json.loads((store / "SmallFlow/runs/r1/start/0/meta.json").read_text())
    return flow, store, meta


def test_a_blob_whose_bytes_do_not_match_its_name_is_refused(tmp_path):
    import pickle

    flow, store, meta = small_run(tmp_path)
    sha = meta["artifacts"]["numbers"]
    (store / "SmallFlow/data" / sha).write_bytes(pickle.dumps([1, 2, 300], protocol=5))  # well-formed, wrong
    result = rerun_end(flow, store)
    assert result.returncode == EXIT_CORRUPT
    assert f"artifact blob {sha}" in result.stderr and "is corrupt" in result.stderr
    assert not (store / "SmallFlow/runs/r1/end/0/DONE").exists()
    # resume does not reuse the task whose blob is bad: it runs it again, which writes the blob anew.
    resumed = run_flowc("resume", "SmallFlow/r1", "--from", "end", "--datastore", str(store), "--run-id", "r2")
    assert resumed.returncode == 0 and "artifact 'numbers' of run r1 is corrupt: running it again" in resumed.stdout
    assert Run("SmallFlow/r2", datastore=str(store)).data.total == 6


def rerun_end(flow: Path, store: Path):
    """The `end` task of run r1 again, straight through the runtime (as an orchestrator's retry would)."""
    import subprocess
    import sys

    (store / "SmallFlow/runs/r1/end/0/DONE").unlink()
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "flowc.runtime",
            "step",
            flow.name,
            "end",
            "--run-id",
            "r1",
            "--task-id",
            "0",
            "--datastore",
            str(store),
        ],
        cwd=flow.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_blobs_are_loaded_only_by_hash_from_the_own_datastore(tmp_path):
    flow, store, meta = small_run(tmp_path)
    outside = tmp_path / "evil.pickle"
    outside.write_bytes(b"not loaded")
    ds = LocalDatastore(str(store))
    for reference in ("../../../evil.pickle", str(outside), "A" * 64, meta["artifacts"]["numbers"][:63], "", None):
        with pytest.raises(CorruptBlob, match="is not a sha256"):
            ds.get_blob("SmallFlow", reference)
    # A meta.json edited to point elsewhere: the next task refuses it before unpickling anything.
    path = store / "SmallFlow/runs/r1/start/0/meta.json"
    edited = dict(meta, artifacts=dict(meta["artifacts"], numbers="../../../evil.pickle"))
    path.write_text(json.dumps(edited))
    result = rerun_end(flow, store)
    assert result.returncode == EXIT_CORRUPT
    assert "'../../../evil.pickle'" in result.stderr and "is not a sha256; refusing to load it" in result.stderr
