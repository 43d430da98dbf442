"""Airflow DAG ids: `--name` checked at compile time as Airflow checks it; the default is always one it takes.

Airflow itself loads a DAG with a cleaned default id in tests/test_airflow.py
(test_default_dag_id_is_project_and_flow_and_always_valid).
"""

from __future__ import annotations

import pytest

from conftest import EXAMPLES, run_flowc
from flowc.compiler import Options, compile_flow


@pytest.mark.parametrize(
    "name", ["my dag/../x", "a\n", "x" * 251, "flüß", ""], ids=["path", "newline", "long", "non-ascii", "empty"]
)
def test_bad_dag_id_is_one_located_line(tmp_path, name):
    compiled = run_flowc("compile", "examples/linear.py", "-t", "airflow", "--name", name, "-o", str(tmp_path / "x.py"))
    assert compiled.returncode == 2 and "Traceback" not in compiled.stderr
    (line,) = [line for line in compiled.stderr.splitlines() if "error:" in line]
    assert line.startswith("examples/linear.py:") and "not a valid Airflow DAG id" in line
    assert not (tmp_path / "x.py").exists()


def test_longest_dag_id_airflow_takes_compiles():
    text = compile_flow(
        (EXAMPLES / "linear.py").read_bytes(), "linear.py", "airflow", Options(name="a.-_" * 62 + "ab")
    ).text
    assert f"dag_id={'a.-_' * 62 + 'ab'!r}" in text
