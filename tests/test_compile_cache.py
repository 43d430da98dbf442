"""The incremental compile cache (flowc/cli/compile_cache.py): `flowc compile FLOWS -o DIR` compiles again
only what changed, and never trusts an output that is not byte-identical to what it wrote."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT
from flowc.cli import main
from flowc.cli.compile_cache import CACHE_FOLDER, cache_key
from flowc.compiler.options import Options

FLOW = """
from flowc import FlowSpec, step
from helpers import GREETING


class {name}(FlowSpec):
    @step
    def start(self):
        self.greeting = GREETING
        self.next(self.end)

    @step
    def end(self):
        pass
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    """Two flows importing a sibling module, compiled once into out/ (in process, so compiles can be counted)."""
    (tmp_path / "helpers.py").write_text('GREETING = "hi"\n')
    (tmp_path / "alpha.py").write_text(FLOW.format(name="AlphaFlow"))
    (tmp_path / "beta.py").write_text(
        FLOW.format(name="BetaFlow").replace("from helpers import GREETING\n", 'GREETING = "hello"\n')
    )
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("FLOWC_")]:
        monkeypatch.delenv(name)
    compiled = []
    import flowc.cli.compile as compile_module

    real = compile_module.compile_one

    def counting(path, *args, **kwargs):
        compiled.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(compile_module, "compile_one", counting)

    def run(*extra):
        compiled.clear()
        result = CliRunner().invoke(main, ["compile", "alpha.py", "beta.py", "-t", "argo", "-o", "out", *extra])
        return result, sorted(compiled)

    result, first = run()
    assert result.exit_code == 0, result.output
    assert first == ["alpha.py", "beta.py"]
    return tmp_path, run


def test_a_second_compile_of_unchanged_flows_compiles_nothing(project):
    _, run = project
    result, compiled = run()
    assert result.exit_code == 0 and compiled == []


def test_a_changed_flow_compiles_again_and_only_it(project):
    folder, run = project
    alpha = folder / "alpha.py"
    alpha.write_text(alpha.read_text().replace("pass", "print('done')"))
    result, compiled = run()
    assert result.exit_code == 0 and compiled == ["alpha.py"]
    assert run()[1] == []


def test_a_changed_sibling_module_compiles_the_flows_that_import_it(project):
    folder, run = project
    (folder / "helpers.py").write_text('GREETING = "bonjour"\n')
    assert run()[1] == ["alpha.py"]  # beta does not import helpers


def test_a_changed_option_is_a_miss(project):
    folder, run = project
    assert run("--image", "python:3.12-slim")[1] == ["alpha.py", "beta.py"]
    assert "python:3.12-slim" in (folder / "out" / "alpha.argo.yaml").read_text()
    assert run("--with", "retry:times=2")[1] == ["alpha.py", "beta.py"]
    (folder / "pyproject.toml").write_text('[tool.flowc]\nnamespace = "ml"\n')  # options from pyproject too
    assert run()[1] == ["alpha.py", "beta.py"]


def test_an_output_edited_by_hand_is_never_trusted(project):
    folder, run = project
    output = folder / "out" / "alpha.argo.yaml"
    good = output.read_bytes()
    output.write_bytes(good.replace(b"python:3.11-slim", b"python:evil"))
    result, compiled = run()
    assert compiled == ["alpha.py"] and output.read_bytes() == good
    output.unlink()
    assert run()[1] == ["alpha.py"] and output.read_bytes() == good


def test_a_new_flowc_version_is_a_miss(project, monkeypatch):
    import flowc

    _, run = project
    monkeypatch.setattr(flowc, "__version__", "99.0.0")
    assert run()[1] == ["alpha.py", "beta.py"]


def test_check_compiles_when_the_output_differs_and_trusts_only_a_verified_hit(project):
    folder, run = project
    result, compiled = run("--check")
    assert result.exit_code == 0 and compiled == []
    output = folder / "out" / "beta.argo.yaml"
    output.write_text(output.read_text() + "# edited\n")
    result, compiled = run("--check")
    assert result.exit_code == 1 and compiled == ["beta.py"] and "-# edited" in result.output


def test_warnings_are_printed_on_a_hit_too(project):
    folder, run = project
    beta = folder / "beta.py"
    beta.write_text(
        beta.read_text()
        .replace("    @step\n    def end", "    @functools.cache\n    @step\n    def end")
        .replace("from flowc", "import functools\nfrom flowc")
    )
    first, _ = run()
    second, compiled = run()
    assert compiled == [] and first.exit_code == second.exit_code == 0
    assert "beta.py:" in first.stderr and "not a flowc decorator" in first.stderr
    assert first.stderr == second.stderr


def test_no_cache_compiles_everything_and_a_single_output_file_keeps_no_cache(project):
    folder, run = project
    assert run("--no-cache")[1] == ["alpha.py", "beta.py"]
    result = CliRunner().invoke(main, ["compile", "alpha.py", "-t", "argo", "-o", "single.yaml"])
    assert result.exit_code == 0 and not (folder / CACHE_FOLDER).exists()


def test_a_flow_that_does_not_parse_is_reported_not_cached(project):
    folder, run = project
    (folder / "alpha.py").write_text("class (:\n")
    result, compiled = run()
    assert result.exit_code == 2 and compiled == ["alpha.py"] and "alpha.py:1:" in result.stderr


def test_cache_keys_do_not_depend_on_the_hash_seed(tmp_path):
    flow = ROOT / "examples" / "foreach.py"
    code = (
        "import sys; from flowc.cli.compile_cache import cache_key; from flowc.compiler.options import Options; "
        f"print(cache_key({str(flow)!r}, 'argo', Options(namespace='ml'), ('retry:times=2',)))"
    )
    keys = set()
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        keys.add(
            subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            ).stdout.strip()
        )
    assert len(keys) == 1
    assert keys == {cache_key(str(flow), "argo", Options(namespace="ml"), ("retry:times=2",))}


def test_a_changed_lock_file_compiles_again(tmp_path, monkeypatch):
    """compile reads the lock beside the flow: a re-lock (new pins) is a new output, never a stale cache hit."""
    from flowc.compiler.environments import entry_sha, render_lock

    monkeypatch.chdir(tmp_path)
    (tmp_path / "env.py").write_text(
        "from flowc import FlowSpec, pypi, step\n\n\nclass EnvFlow(FlowSpec):\n"
        "    @pypi(packages={'tinypkg': '1.0'})\n    @step\n    def start(self):\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n"
    )

    def compiled_with(pinned: str) -> tuple[str, str]:
        entry = {"python": None, "requirements": ["tinypkg==1.0"], "python_version": "3.12", "lock": pinned}
        (tmp_path / "env.flowc-lock.json").write_text(render_lock([entry]))
        (tmp_path / "out").mkdir(exist_ok=True)  # a folder: where the cache lives
        result = CliRunner().invoke(main, ["compile", "env.py", "-t", "argo", "-o", "out"])
        assert result.exit_code == 0, result.output
        (output,) = [p for p in (tmp_path / "out").iterdir() if p.is_file()]
        return output.read_text(), entry_sha(entry)

    text, sha = compiled_with("tinypkg==1.0 --hash=sha256:aa\n")
    assert sha in text
    text, sha = compiled_with("tinypkg==1.0 --hash=sha256:bb\n")
    assert sha in text
