"""Flows written for Metaflow, in the shapes real projects use, run unchanged (issue 14, items 2, 3, 6, 7, 8).

Each file in tests/compat/ passes `flowc check`, compiles for every orchestrator target, and runs
with `flowc run` to the output Metaflow documents for it (its docstring names the source).  Adding a
flow means adding a file and its row in RUNS.
"""

from __future__ import annotations

import pytest

from conftest import ROOT, run_flowc
from flowc.compiler import compile_flow

COMPAT = ROOT / "tests" / "compat"
FLOWS = sorted(COMPAT.glob("*.py"))
ORCHESTRATORS = ("argo", "step-functions", "airflow")

# file stem -> runs, each (extra flowc-run arguments, expected exit code, lines its output must contain)
RUNS = {
    "timeout_config": [
        # the docs: "The flow should fail, as the step takes longer than [the config's timeout]"
        ((), 1, ["timing out after 1 seconds"]),
        (
            ("--config", "config", "longer.json"),
            0,
            ["timing out after 30 seconds", "success", "full config {'timeout': 30}"],
        ),
    ],
    "toml_config": [((), 0, ["Config loaded:", "{'general': {'a': 5, 'b': 'hello'}, 'resources': {'cpu': 1}}"])],
    "deploy_config": [((), 0, ["outs ['ranking:eu:0', 'ranking:eu:1', 'ranking:eu:2']"])],
    "json_parameters": [
        ((), 0, ["lr 0.1 grid [(3, 7), (5, 7)] features ['age', 'income'] dry False"]),
        (
            ("--param", "seed=1", "--param", "seed=2", "--param", "dry-run=true", "--param", "features=a"),
            0,
            ["grid [(3, 1), (3, 2), (5, 1), (5, 2)] features ['a'] dry True"],
        ),
    ],
    "client_in_step": [((), 0, ["total 7 same run True", "metadata local version True"])],
    "previous_run": [((), 0, ["count 1"]), ((), 0, ["count 2"])],
    # item 6: cards (the pages themselves: CARD_PAGES below, and tests/test_cards.py in Chromium)
    "card_default_report": [
        ((), 0, ["scaled [0.5, 1.0, 1.5, 2.0] keys ['first_key', 'second_key']"]),
        (("--param", "alpha=2"), 0, ["scaled [2.0, 4.0, 6.0, 8.0]"]),
    ],
    "card_training_metrics": [((), 0, ["best rate 0.1 loss 0.05"])],
    "card_several_ids": [((), 0, ["config layers [64, 32]"])],
    "card_without_decorator": [((), 0, ["end ran after current.card without @card"])],
    "card_vega_chart": [((), 0, ["last loss 0.2"]), (("--with", "card"), 0, ["last loss 0.2"])],
    # item 7: metaflow.S3 with S3(run=self) (a local datastore: the run's folder; tests/test_s3_client.py on S3)
    "s3_run_checkpoint": [((), 0, ["weights [0.5, 0.25] bias 1.0 other exists False"])],
    "s3_foreach_shards": [
        (
            (),
            0,
            [
                "listed ['shards/alpha.csv', 'shards/beta.csv', 'shards/gamma.csv']",
                "rows ['alpha,5', 'beta,4', 'gamma,5']",
            ],
        )
    ],
}

# file stem -> (step, task, card page) each run must leave in the datastore
CARD_PAGES = {
    "card_default_report": [("start", "0", "default")],
    "card_training_metrics": [("train", "0", "default"), ("train", "2", "default"), ("join", "0", "blank")],
    "card_several_ids": [("start", "0", "overview"), ("start", "0", "plots")],
    "card_without_decorator": [("start", "0", "default")],
    # --with card (the second run) adds a default card to every step, beside start's own, as Metaflow's does
    "card_vega_chart": [("start", "0", "chart"), ("start", "0", "default"), ("end", "0", "default")],
}


def test_every_compat_flow_has_its_runs():
    assert sorted(f.stem for f in FLOWS) == sorted(RUNS)


def test_every_compat_flow_passes_check():
    result = run_flowc("check", *[str(f) for f in FLOWS], cwd=COMPAT)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("target", ORCHESTRATORS)
@pytest.mark.parametrize("flow", FLOWS, ids=[f.stem for f in FLOWS])
def test_compat_flow_compiles_for_every_target(flow, target):
    artifact = compile_flow(flow.read_bytes(), str(flow), target)
    assert artifact.text


@pytest.mark.parametrize("flow", FLOWS, ids=[f.stem for f in FLOWS])
def test_compat_flow_runs_to_its_documented_output(flow, tmp_path):
    for extra, code, lines in RUNS[flow.stem]:
        result = run_flowc("run", flow.name, "--datastore", str(tmp_path / "ds"), *extra, cwd=COMPAT)
        output = result.stdout + result.stderr
        assert result.returncode == code, output
        for line in lines:
            assert line in output, output
    for step, task, page in CARD_PAGES.get(flow.stem, []):
        assert list((tmp_path / "ds").glob(f"*/runs/*/{step}/{task}/cards/{page}.html")), (step, task, page)
