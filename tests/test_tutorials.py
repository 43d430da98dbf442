"""Metaflow's own tutorials, taken from the pinned metaflow wheel at test time, pass flowc (issue 14).

The wheel is downloaded with pip (no dependencies, nothing installed) and its
sha256 checked; the tutorials are read out of it into a temporary folder, never
copied into this repository.  Each of the six tutorial flows (00-05; 06-08 are
notebooks) passes `flowc check` and compiles for every orchestrator target;
the five that need no network run with `flowc run` to the output their READMEs
describe.  04-playlist-plus needs a package index twice: `flowc lock` resolves
its @conda packages (editdistance) before it compiles, and running it would
install them, so it is compiled, not run.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, run_flowc

# The benchmarks' peer (benchmarks/peer.py VERSION) is the same release: one Metaflow for the whole repo.
METAFLOW_VERSION = "2.19.39"
WHEEL = f"metaflow-{METAFLOW_VERSION}-py2.py3-none-any.whl"
WHEEL_SHA256 = "403b110f2975a7eaf29d97909459b2c5afd1508b0779b464e6fe13d15aae6c0e"
ORCHESTRATORS = ("argo", "step-functions", "airflow")
FLOWS = {
    "00-helloworld": "helloworld.py",
    "01-playlist": "playlist.py",
    "02-statistics": "stats.py",
    "03-playlist-redux": "playlist.py",
    "04-playlist-plus": "playlist.py",
    "05-hello-cloud": "hello-cloud.py",
}


def test_the_pin_is_the_benchmarks_peer():
    text = (ROOT / "benchmarks" / "peer.py").read_text()
    assert f'VERSION = "{METAFLOW_VERSION}"' in text


@pytest.fixture(scope="module")
def tutorials(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("metaflow-wheel")
    cache = ROOT / ".venv" / "cache"
    wheel = cache / WHEEL
    if not wheel.exists():
        download = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--disable-pip-version-check"]
            + ["--only-binary", ":all:", "-d", str(folder), f"metaflow=={METAFLOW_VERSION}"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if download.returncode != 0:
            if os.environ.get("CI"):
                pytest.fail(f"cannot download {WHEEL}: {download.stderr.strip()[-500:]}")
            pytest.skip(f"cannot download {WHEEL} (no package index here?): {download.stderr.strip()[-200:]}")
        cache.mkdir(parents=True, exist_ok=True)
        (folder / WHEEL).replace(wheel)
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == WHEEL_SHA256, f"{wheel} is not the pinned wheel"
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith("metaflow/tutorials/"):
                archive.extract(name, folder)
    return folder / "metaflow" / "tutorials"


@pytest.mark.parametrize("tutorial", sorted(FLOWS))
def test_tutorial_passes_check(tutorials, tutorial):
    flow = tutorials / tutorial / FLOWS[tutorial]
    result = run_flowc("check", flow.name, cwd=flow.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(": ok"), result.stdout


@pytest.fixture(scope="module")
def locked_playlist_plus(tutorials) -> Path:
    """04-playlist-plus with its lock: `flowc lock` is the one step that reaches the package index."""
    flow = tutorials / "04-playlist-plus" / FLOWS["04-playlist-plus"]
    result = run_flowc("lock", flow.name, cwd=flow.parent, timeout=300)
    if result.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"flowc lock of tutorial 04 failed: {result.stderr}")
        pytest.skip(f"flowc lock needs a package index: {result.stderr.strip()[-200:]}")
    lock = flow.with_name("playlist.flowc-lock.json")
    assert lock.exists()
    return flow


@pytest.mark.parametrize("target", ORCHESTRATORS)
@pytest.mark.parametrize("tutorial", sorted(FLOWS))
def test_tutorial_compiles_for_every_target(tutorials, tutorial, target, request, tmp_path):
    if tutorial == "04-playlist-plus":
        request.getfixturevalue("locked_playlist_plus")
    flow = tutorials / tutorial / FLOWS[tutorial]
    out = tmp_path / "out"
    out.mkdir()
    result = run_flowc("compile", flow.name, "--target", target, "-o", str(out), cwd=flow.parent)
    assert result.returncode == 0, result.stderr
    assert "error:" not in result.stderr
    assert [p for p in out.iterdir() if p.stat().st_size > 0]


def test_playlist_plus_conda_base_python_reaches_the_lock(locked_playlist_plus):
    """`@conda_base(python=get_python_version())`: the helper picks "3.9.10" on any Python 3, and the step's
    @conda(libraries=...) is merged with the base, as Metaflow merges them (python from the base)."""
    import json

    lock = json.loads(locked_playlist_plus.with_name("playlist.flowc-lock.json").read_text())
    entries = lock["environments"] if isinstance(lock, dict) and "environments" in lock else lock
    text = json.dumps(entries)
    assert '"python": "3.9.10"' in text and '"python_version": "3.9"' in text
    assert "editdistance" in text


def _run(flow: Path, datastore: Path) -> str:
    result = run_flowc("run", flow.name, "--datastore", str(datastore), cwd=flow.parent, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    return output


def test_helloworld_runs(tutorials, tmp_path):
    output = _run(tutorials / "00-helloworld" / "helloworld.py", tmp_path)
    assert "Metaflow says: Hi!" in output and "HelloFlow is all done." in output


def test_playlist_runs_with_its_included_csv(tutorials, tmp_path):
    output = _run(tutorials / "01-playlist" / "playlist.py", tmp_path)
    assert "Playlist for movies in genre 'Sci-Fi'" in output
    assert "Pick 1: '" in output and "Bonus Pick: '" in output


def test_statistics_then_playlist_redux_reads_its_latest_run(tutorials, tmp_path):
    """02 computes per-genre statistics; 03 reads them with `Flow("MovieStatsFlow").latest_successful_run`
    from inside its start step, in the same datastore (the README's order)."""
    output = _run(tutorials / "02-statistics" / "stats.py", tmp_path)
    assert "Computing statistics for Sci-Fi" in output
    from flowc.runtime.client import Flow

    stats = Flow("MovieStatsFlow", datastore=str(tmp_path)).latest_successful_run.data.genre_stats
    assert set(stats["sci-fi"]) == {"quartiles", "dataframe"}
    assert len(stats["sci-fi"]["quartiles"]) == 3  # the 25th, 50th and 75th percentiles
    output = _run(tutorials / "03-playlist-redux" / "playlist.py", tmp_path)
    assert "Playlist for movies in genre 'Sci-Fi'" in output and "Bonus Pick: '" in output


def test_hello_cloud_runs_locally(tutorials, tmp_path):
    """Without --kubernetes, `flowc run` runs the @kubernetes step locally (Metaflow's `run` does the same)."""
    output = _run(tutorials / "05-hello-cloud" / "hello-cloud.py", tmp_path)
    assert "Metaflow says: Hi from the cloud!" in output and "HelloCloud is finished." in output
