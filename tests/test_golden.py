"""Every example compiled for every target, compared byte for byte with tests/golden/<example>/.

A target that refuses an example has `<golden name>.error` holding the diagnostics instead.
Targets are discovered from the target table: adding a target adds its column here.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import EXAMPLES, GOLDEN, ROOT, compare_golden, example_files
from flowc.compiler import CompileError, Options, compile_flow
from flowc.compiler.targets import available, load_target

CASES = [(example, target) for example in example_files() for target in available()]


def golden_name(target: str) -> str:
    return load_target(target).SUFFIX.lstrip(".")


@pytest.mark.parametrize("example,target", CASES, ids=[f"{e.stem}-{t}" for e, t in CASES])
def test_golden(example, target, update_golden):
    relative = example.relative_to(ROOT).as_posix()
    name = golden_name(target)
    try:
        text = compile_flow(example.read_bytes(), relative, target, Options()).text
        error_file = GOLDEN / example.stem / (name + ".error")
        assert update_golden or not error_file.exists(), (
            f"{error_file.name} exists but {target} now compiles {example.name}"
        )
        if update_golden and error_file.exists():
            error_file.unlink()
    except CompileError as exc:
        name += ".error"
        text = "\n".join(str(d) for d in exc.diagnostics) + "\n"
    compare_golden(GOLDEN / example.stem / name, text, update_golden)


def test_every_example_has_goldens():
    for example in example_files():
        assert (GOLDEN / example.stem / "ir.json").exists(), f"no golden IR for {example.name}"


@pytest.mark.parametrize("target", available())
def test_output_is_identical_across_hash_seeds(target):
    """Same input, same bytes, whatever PYTHONHASHSEED: what makes golden review work."""
    example = EXAMPLES / "decorators.py"
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        result = subprocess.run(
            [sys.executable, "-m", "flowc.cli", "compile", example.relative_to(ROOT).as_posix(), "-t", target],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode in (0, 2), result.stderr
        outputs.add(result.stdout + result.stderr)
    assert len(outputs) == 1
