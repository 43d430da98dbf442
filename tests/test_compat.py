"""Flows written for Metaflow, in the shapes real projects use, run unchanged (issue 14, items 2, 3, 6, 7, 8).

Each file in tests/compat/ passes `flowc check`, compiles for every orchestrator target, and runs
with `flowc run` to the output Metaflow documents for it (its docstring names the source).  Adding a
flow means adding a file and its row in RUNS.

Naming rule: files named compat_*.py are helper modules the flows import (constants, base flows),
not flows; data and config files may have any other name.  A flow that reads another flow's runs
names it in RUN_FIRST: that flow's RUNS rows run first, in the same datastore.
"""

from __future__ import annotations

import pytest

from conftest import ROOT, run_flowc
from flowc.compiler import compile_flow

COMPAT = ROOT / "tests" / "compat"
FLOWS = sorted(f for f in COMPAT.glob("*.py") if not f.name.startswith("compat_"))
ORCHESTRATORS = ("argo", "step-functions", "airflow")

# file stem -> runs, each (extra flowc-run arguments, expected exit code, lines its output must contain)
RUNS = {
    "base_class_constants": [((), 0, ["positives [0.7, 0.9] memory 4096"])],
    "required_default": [
        ((), 0, ["query SELECT * FROM daily_events LIMIT 100"]),
        (("--param", "dataset=hourly", "--param", "limit=5"), 0, ["query SELECT * FROM hourly LIMIT 5"]),
    ],
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
    # item 1: values the compiler reads with ast (sibling modules, **{...}, f-strings, file defaults)
    "sibling_constants": [((), 0, ["team ranking model {'age': 3, 'income': 6, 'tenure': 6}"])],
    "constant_kwargs": [((), 0, ["env [('LOG_LEVEL', 'info'), ('MODEL_FAMILY', 'gbm'), ('STAGE', 'dev')]"])],
    "formatted_constants": [((), 0, ["path models/ranking/v1.4 registry registry/ranking:1.4"])],
    "class_constants": [
        ((), 0, ["labels ['negative', 'positive', 'positive', 'negative'] memory 4096"]),
        (("--param", "min-score=0.5"), 0, ["labels ['positive', 'positive'] memory 4096"]),
    ],
    "playlist_include": [
        ((), 0, ["Playlist for movies in genre Sci-Fi", "Pick 0: Arrival (2016)", "Pick 2: Alien (1979)"]),
        (("--param", "genre=Crime"), 0, ["Pick 0: Fargo (1996)", "Pick 1: Heat (1995)"]),
    ],
    "genre_stats": [
        ((), 0, ["stats [('Comedy', 2400), ('Crime', 6700), ('Drama', 6700), ('Horror', 8000), ('Sci-Fi', 8000)]"])
    ],
    "genre_playlist_redux": [((), 0, ["Using analysis from GenreStatsFlow", "median gross for Drama 6700"])],
    # item 2: Config files (JSON, YAML, TOML) in decorators, in steps, and replaced with --config
    "json_config_train": [
        ((), 0, ["rows 8 epochs 3 weight 0.875"]),
        (("--config", "cfg", "train_config_big.json"), 0, ["rows 20 epochs 5 weight 0.4095"]),
    ],
    "yaml_config_sweep": [((), 0, ["best accuracy 1.0 at lr 0.1"])],
    "toml_baseflow": [((), 0, ["project compat_baseflow values [0, 1, 4] cpu 2"])],
    # item 3: Parameter kinds
    "jsontype_search_space": [
        ((), 0, ["candidates ['ridge(alpha=0.1)', 'ridge(alpha=1.0)', 'ridge(alpha=10.0)'] weights sum 1.0 dict"]),
        (("--param", 'space={"model": "lasso", "alpha": [2]}'), 0, ["candidates ['lasso(alpha=2)']"]),
    ],
    "multiple_regions": [
        ((), 0, ["regions are a tuple", "extracted ['eu-d1', 'us-d1']"]),
        (("--param", "region=apac", "--param", "day=3", "--param", "day=4"), 0, ["extracted ['apac-d3', 'apac-d4']"]),
    ],
    "flag_and_separator": [
        ((), 0, ["mode incremental tables ['users', 'orders', 'events']"]),
        (("--param", "full-refresh=true", "--param", "tables=users"), 0, ["mode full tables ['users']"]),
    ],
    # item 10: a hyphen in a parameter name (compiled for step-functions by the compile test)
    "hyphen_parameter": [
        ((), 0, ["sampled 4 docs: ['a b c', 'f g h i', 'j k l', 'n o p q r']"]),
        (("--param", "num-docs=1"), 0, ["sampled 1 docs: ['a b c']"]),
    ],
    # item 4: inheritance, in one file, from a sibling module, with a mixin
    "inherit_sibling": [((), 0, ["custom evaluate for 2 epochs", "ChurnTrainFlow score 0.12"])],
    "inherit_same_file": [
        ((), 0, ["DedupEtlFlow loaded 3 rows from events"]),
        (("--param", "keep=last", "--param", "source=s3"), 0, ["DedupEtlFlow loaded 3 rows from s3"]),
    ],
    "inherit_mixin": [((), 0, ["accuracy 0.5"])],
    # item 5: current (project branches, task fields, retry_count)
    "project_branches": [
        ((), 0, ["project fraud branch user.", "user branch True production False", "flow name fraud.user."]),
        (
            ("--branch", "nightly"),
            0,
            [
                "branch test.nightly",
                "user branch False production False",
                "flow name fraud.test.nightly.FraudModelFlow",
            ],
        ),
        (
            ("--production",),
            0,
            ["branch prod", "production True", "flow name fraud.prod.FraudModelFlow key models/prod"],
        ),
    ],
    "current_fields": [
        (
            (),
            0,
            [
                "step end flow CurrentFieldsFlow pathspec ok True",
                "nodes [(1, 0)] user known True",
                "get missing fallback get step end",
                "tags is a collection True",
            ],
        )
    ],
    "retry_flaky_fetch": [((), 0, ["attempt 0", "attempt 1", "fetched 42 rows on attempt 1"])],
    # item 8: the client inside a step, @catch(var=)
    "catch_divide": [((), 0, ["ratios [5.0, 2.0] failed for [0]"])],
    "client_run_tasks": [((), 0, ["tasks 3 rows [71, 72, 73] run id matches True"])],
    # item 9: user_step_decorator (timing, exception handling, skipping) and a read-only StepMutator
    "timed_pipeline": [((), 0, ["timed features", "timed train", "coef 8.0 timed steps ['features', 'train']"])],
    "fallback_decorator": [((), 0, ["enrich failed (KeyError); using fallback 'unknown'", "geo unknown"])],
    "skip_cached_step": [
        ((), 0, ["source computed"]),
        (("--param", "use-cache=true"), 0, ["expensive: cache hit, skipping", "source cache"]),
    ],
    "policy_mutator": [((), 0, ["policy ok: resources,retry", "scored 300"])],
    # item 10: imports guarded by try/except ImportError
    "try_import": [((), 0, ["moving average [2.0, 3.0, 4.0, 5.0] in GuardedImportFlow"])],
    # graph shapes in small ML/data flows: linear, branch + merge_artifacts, foreach, nested foreach,
    # conditional, recursion
    "feature_pipeline": [((), 0, ["kept 1 of 3 features [(0.34, 0.52)]"])],
    "branch_train_evaluate": [((), 0, ["best linear errors {'linear': 0, 'constant': 12.0} test rows 2"])],
    "hyperparameter_sweep": [
        ((), 0, ["tried 4 best alpha 0.3 loss 0.05"]),
        (("--param", "target=1.2"), 0, ["tried 4 best alpha 1.0 loss 0.25"]),
    ],
    "nested_sweep": [((), 0, ["cv scores [('forest', 0.81), ('tree', 0.71)]"])],
    "conditional_retrain": [
        ((), 0, ["action keep published model-v1"]),
        (("--param", "drift=0.5"), 0, ["action retrain published model-v2"]),
    ],
    "recursive_training": [
        ((), 0, ["epochs 4 losses [0.5, 0.25, 0.125, 0.0625]"]),
        (("--param", "tolerance=0.01"), 0, ["epochs 7 losses"]),
    ],
    # more of items 1, 2, 4, 8, 9
    "ratings_include": [
        ((), 0, ["averages {'Alien': 4.67, 'Solaris': 4.5}"]),
        (("--param", "min-votes=1"), 0, ["averages {'Alien': 4.67, 'Heat': 3.0, 'Solaris': 4.5}"]),
    ],
    "config_default_value": [
        ((), 0, ["batches 3 of 4 retries 1"]),
        (("--config", "limits", "limits_small.json"), 0, ["batches 2 of 5 retries 0"]),
    ],
    "override_parameter": [
        ((), 0, ["latency alerts [0.85, 0.9] threshold 0.8"]),
        (("--param", "threshold=0.1", "--param", "label=cpu"), 0, ["cpu alerts [0.3, 0.6, 0.85, 0.9] threshold 0.1"]),
    ],
    "catch_after_retries": [((), 0, ["scoring attempt 0", "scoring attempt 2", "scoring failed: True"])],
    "mocked_step": [((), 0, ["call_llm: mocked", "completion (mocked completion) for 'summarise the release notes'"])],
    "audited_flow": [
        (
            (),
            0,
            ["audit parameters ['alpha', 'window'] steps ['end', 'start']", "smoothed [10, 11.0, 11.0, 13.0] window 7"],
        )
    ],
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


# flow stem -> the flow stem whose runs it reads (run before it, in the same datastore)
RUN_FIRST = {"genre_playlist_redux": "genre_stats"}


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
    first = RUN_FIRST.get(flow.stem)
    runs = [(f"{first}.py", *row) for row in RUNS[first]] if first else []
    for name, extra, code, lines in runs + [(flow.name, *row) for row in RUNS[flow.stem]]:
        result = run_flowc("run", name, "--datastore", str(tmp_path / "ds"), *extra, cwd=COMPAT)
        output = result.stdout + result.stderr
        assert result.returncode == code, output
        for line in lines:
            assert line in output, output
    for step, task, page in CARD_PAGES.get(flow.stem, []):
        assert list((tmp_path / "ds").glob(f"*/runs/*/{step}/{task}/cards/{page}.html")), (step, task, page)
