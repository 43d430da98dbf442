"""A handful of the SIGKILL trials of benchmarks/faults.py (`make faults` runs 100)."""

from __future__ import annotations

import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import faults  # noqa: E402


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds task processes through /proc")
def test_random_sigkills_lose_nothing_and_resume_matches_a_clean_run(tmp_path):
    report = faults.run_trials(trials=3, seed=11, workdir=str(tmp_path), echo=lambda line: None)
    assert report.ok, "\n".join(report.failures)
    assert report.trials == 3 and report.runs_failed >= 1
    assert report.resumed == report.runs_failed
    assert report.blobs_checked > 0 and report.done_tasks_checked > 0
