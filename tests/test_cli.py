"""The CLI as a user runs it: compile, check, graph, several flows, settings, start-up imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, run_flowc
from flowc.cli.options import resolve_options


def test_compile_ir_to_stdout_and_file(tmp_path):
    result = run_flowc("compile", "examples/linear.py", "-t", "ir")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [s["name"] for s in data["flow"]["steps"]] == ["start", "transform", "end"]
    out = tmp_path / "linear.json"
    result = run_flowc("compile", "examples/linear.py", "-t", "ir", "-o", str(out))
    assert result.returncode == 0
    assert out.read_text() == (ROOT / "tests/golden/linear/ir.json").read_text()


def test_compile_several_flows_in_one_process(tmp_path):
    flows = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples").glob("*.py"))
    result = run_flowc("compile", *flows, "-t", "ir", "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(Path(f).stem + ".ir.json" for f in flows)


def test_several_flows_need_an_output_directory():
    result = run_flowc("compile", "examples/linear.py", "examples/branch.py", "-t", "ir")
    assert result.returncode == 2
    assert "several flows need -o DIR" in result.stderr


def test_one_bad_flow_among_several_fails_but_others_are_written(tmp_path):
    result = run_flowc("compile", "examples/linear.py", "tests/bad/cycle.py", "-t", "ir", "-o", str(tmp_path))
    assert result.returncode == 2
    assert (tmp_path / "linear.ir.json").exists()
    assert "tests/bad/cycle.py:11:9: error: the flow has a cycle" in result.stderr


def test_graph_mermaid_and_dot():
    mermaid = run_flowc("graph", "examples/foreach.py")
    assert mermaid.returncode == 0
    assert "start ==> train" in mermaid.stdout and "pick --> end" in mermaid.stdout
    dot = run_flowc("graph", "examples/branch.py", "--format", "dot")
    assert '"start" -> "count_words";' in dot.stdout and dot.stdout.startswith('digraph "BranchFlow"')


def test_check_ok():
    result = run_flowc("check", "examples/decorators.py")
    assert result.returncode == 0 and "examples/decorators.py: ok" in result.stdout


def test_help_and_import_stay_light():
    """`flowc --help` must not import hera, airflow or boto3; `import flowc` loads only the authoring API."""
    probe = (
        "import sys\n"
        "import flowc\n"
        "light = set(sys.modules)\n"
        "from flowc.cli import main\n"
        "try:\n"
        "    main(['--help'], standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = {m.split('.')[0] for m in sys.modules} & {'hera', 'airflow', 'boto3', 'botocore', 'jinja2', 'networkx'}\n"
        "flowc_heavy = {m.split('.')[0] for m in light} & {'click', 'networkx', 'hera', 'jinja2', 'boto3', 'yaml'}\n"
        "compiler = [m for m in light if m.startswith('flowc.compiler')]\n"
        "print(sorted(heavy), sorted(flowc_heavy), compiler)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip().splitlines()[-1] == "[] [] []", result.stdout + result.stderr
    assert "Usage:" in result.stdout


def test_settings_precedence(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.flowc]\nimage = "from-pyproject"\nnamespace = "ns-pyproject"\nmax-workers = 3\n'
        '[tool.flowc.argo]\nnamespace = "ns-argo"\n')
    flow_dir = tmp_path / "flows"
    flow_dir.mkdir()
    options = resolve_options({"image": None}, flow_dir, "argo", environ={})
    assert (options.image, options.namespace, options.max_workers) == ("from-pyproject", "ns-argo", 3)
    options = resolve_options({}, flow_dir, "airflow", environ={"FLOWC_IMAGE": "from-env"})
    assert (options.image, options.namespace) == ("from-env", "ns-pyproject")
    options = resolve_options({"image": "from-flag"}, flow_dir, "airflow", environ={"FLOWC_IMAGE": "from-env"})
    assert options.image == "from-flag"


def test_unknown_target_is_a_usage_error():
    result = run_flowc("compile", "examples/linear.py", "-t", "nomad")
    assert result.returncode == 2
    assert "Invalid value for '--target'" in result.stderr
