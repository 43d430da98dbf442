"""The CLI as a user runs it: compile, check, graph, several flows, settings, start-up imports."""

from __future__ import annotations

import json
import os
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
    written = sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_file())  # not the .flowc-cache folder
    assert written == sorted(Path(f).stem + ".ir.json" for f in flows)


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
        '[tool.flowc.argo]\nnamespace = "ns-argo"\n'
    )
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


# ---------------------------------------------------------------------------- the options resolver


def test_bad_settings_are_one_line_exit_2(tmp_path):
    bad_env = run_flowc("compile", "examples/linear.py", "-t", "argo", env={"FLOWC_MAX_WORKERS": "abc"})
    assert bad_env.returncode == 2 and bad_env.stderr == "error: FLOWC_MAX_WORKERS='abc' is not an integer\n"
    (tmp_path / "pyproject.toml").write_text('[tool.flowc]\nimage = "x"\nimgae = "typo"\n')
    flow = tmp_path / "linear.py"
    flow.write_text((ROOT / "examples/linear.py").read_text())
    for args in (("compile", str(flow), "-t", "argo"), ("run", str(flow)), ("runs", str(flow))):
        result = run_flowc(*args)
        assert result.returncode == 2, args
        assert result.stderr.count("\n") == 1 and "unknown key 'imgae' in [tool.flowc]" in result.stderr, result.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.flowc.nomad]\nimage = "x"\n')
    result = run_flowc("compile", str(flow), "-t", "argo")
    assert result.returncode == 2 and "unknown table [tool.flowc.nomad]" in result.stderr


def test_an_option_the_target_does_not_read_is_an_error(tmp_path):
    cases = [
        (
            ("--operator", "local", "-t", "argo"),
            {},
            "--operator is not read by --target argo (it is an airflow option)",
        ),
        (("--format", "json", "-t", "airflow"), {}, "--format is not read by --target airflow (it is an argo option)"),
        (
            ("-t", "argo"),
            {"FLOWC_JOB_QUEUE": "q"},
            "FLOWC_JOB_QUEUE is not read by --target argo (it is a step-functions option)",
        ),
        (
            ("-t", "step-functions"),
            {"FLOWC_NAMESPACE": "ml"},
            "FLOWC_NAMESPACE is not read by --target step-functions (it is an airflow and argo option)",
        ),
    ]
    for args, env, message in cases:
        result = run_flowc("compile", "examples/linear.py", *args, env=env)
        assert result.returncode == 2 and result.stderr == f"error: {message}\n", (args, result.stderr)
    deployed = run_flowc("deploy", "examples/linear.py", "-t", "argo", "--job-queue", "q", "--dry-run")
    assert deployed.stderr == "error: --job-queue is not read by --target argo (it is a step-functions option)\n"


def test_shared_table_values_a_target_does_not_read_are_ignored(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.flowc]\noperator = "local"\njob-queue = "q"\n[tool.flowc.argo]\nnamespace = "ml"\n'
    )
    options = resolve_options({}, tmp_path, "argo", environ={})
    assert (options.operator, options.job_queue, options.namespace) == ("kubernetes", None, "ml")
    assert resolve_options({}, tmp_path, "airflow", environ={}).operator == "local"
    (tmp_path / "pyproject.toml").write_text('[tool.flowc.argo]\noperator = "local"\n')
    try:
        resolve_options({}, tmp_path, "argo", environ={})
    except ValueError as exc:
        assert str(exc).startswith("operator in [tool.flowc.argo] of ") and "(it is an airflow option)" in str(exc)
    else:
        raise AssertionError("an option of the argo table that argo does not read was accepted")


def test_run_and_the_client_agree_on_the_default_datastore(tmp_path):
    from flowc.cli.options import resolve_local
    from flowc.contract.settings import local_datastore

    assert (
        resolve_local({}, tmp_path, environ={}).datastore == local_datastore(tmp_path, {}) == str(tmp_path / ".flowc")
    )
    (tmp_path / "pyproject.toml").write_text('[tool.flowc]\ndatastore = "shared-store"\nmax-workers = 3\n')
    settings = resolve_local({}, tmp_path, environ={})
    assert settings.datastore == local_datastore(tmp_path, {}) == str(tmp_path / "shared-store")
    assert settings.max_workers == 3
    (tmp_path / "pyproject.toml").write_text(
        '[tool.flowc]\ndatastore = "s3://b/p"\n[tool.flowc.local]\ndatastore = "here"\n'
    )
    assert resolve_local({}, tmp_path, environ={}).datastore == local_datastore(tmp_path, {}) == str(tmp_path / "here")
    env = {"FLOWC_DATASTORE": "/elsewhere"}
    assert resolve_local({}, tmp_path, environ=env).datastore == local_datastore(tmp_path, env) == "/elsewhere"
    assert resolve_local({"datastore": "/flag"}, tmp_path, environ=env).datastore == "/flag"


def test_client_reads_what_run_wrote_through_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.flowc.local]\ndatastore = "store"\n')
    flow = tmp_path / "linear.py"
    flow.write_text((ROOT / "examples/linear.py").read_text())
    ran = run_flowc("run", str(flow), "--run-id", "p1", "--quiet", env={"FLOWC_DATASTORE": ""})
    assert ran.returncode == 0, ran.stderr
    assert (tmp_path / "store" / "LinearFlow" / "runs" / "p1" / "run.json").exists()
    probe = "import flowc; print(flowc.Run('LinearFlow/p1')['end'].task.data.total)"
    read = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "FLOWC_DATASTORE": "", "PYTHONPATH": str(ROOT)},
    )
    assert read.stdout.strip() == "385", read.stderr


def test_read_by_table_matches_what_each_target_reads():
    """A field is in READ_BY[target] iff changing it changes (or refuses) that target's output on some example."""
    from dataclasses import replace

    from flowc.compiler import CompileError, compile_flow
    from flowc.compiler.options import READ_BY, Options
    from flowc.compiler.targets import TARGETS

    changed = {
        "image": "other:1",
        "datastore": "s3://other-bucket/p",
        "python": "python3.12",
        "namespace": "other-ns",
        "service_account": "other-sa",
        "max_workers": 7,
        "name": "othername",
        "output_format": "json",
        "operator": "local",
        "code_dir": "/code",
        "gpu_vendor": "amd",
        "job_queue": "other-queue",
        "job_definition": "other-def",
        "skypilot_image": "other/sky:1",
        "package_url": "s3://b/p/F/packages/" + "0" * 64 + ".tar.gz",
        "branch": "feature",  # examples/decorators.py has a @project; every other example refuses it
        "production": True,
        "user": "alice",
    }
    assert set(changed) == set(Options.names()) == set(READ_BY)
    examples = [p for p in sorted((ROOT / "examples").glob("*.py"))]
    bases = [Options(datastore="s3://bucket/flowc"), Options(datastore="s3://bucket/flowc", operator="local")]

    def outcome(path, target, options):
        try:
            return compile_flow(path.read_bytes(), str(path), target, options).text
        except CompileError as exc:
            return "refused: " + "\n".join(str(d) for d in exc.diagnostics)

    # Read at deploy, not in the document: the state machine's name (step_functions.state_machine_name).
    # And `user` there: the one @project example (decorators.py) is refused by step-functions, and `user`, unlike
    # --branch, is not refused for a flow without @project (it is who deploys; tests/test_project.py reads it).
    read_by_deploy = {"step-functions": {"name", "user"}, "skypilot": {"user"}}  # no @project example with @skypilot
    for target in TARGETS:
        read = set(read_by_deploy.get(target, ()))
        for path in examples:
            for base in bases:
                before = outcome(path, target, base)
                read |= {
                    f
                    for f, v in changed.items()
                    if f not in read and outcome(path, target, replace(base, **{f: v})) != before
                }
        assert read == {f for f, targets in READ_BY.items() if target in targets}, target


def test_run_and_check_do_not_import_networkx(tmp_path):
    """`flowc run` and `flowc check` of a valid flow never import networkx (it cost more than the rest of a
    small run's start-up; reachability is a walk over the IR). networkx stays for naming a cycle only."""
    probe = (
        "import sys\n"
        "from flowc.cli import main\n"
        "for argv in (['check', 'examples/linear.py'], ['run', 'examples/linear.py', '--datastore', sys.argv[1]]):\n"
        "    try:\n"
        "        main(argv, standalone_mode=False)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('networkx' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "ds")], capture_output=True, text=True, cwd=ROOT
    )
    assert result.stdout.strip().splitlines()[-1] == "False", result.stdout + result.stderr


def test_output_to_a_special_file_writes_into_it_and_leaves_it_in_place(tmp_path):
    """`-o /dev/null` once replaced /dev/null with a regular file (an atomic rename onto it); a FIFO stands in
    for any special file here, so a regression cannot break the machine's /dev/null."""
    import stat
    import threading

    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    result = run_flowc("compile", str(ROOT / "examples" / "linear.py"), "-t", "argo", "-o", str(fifo))
    reader.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and "kind: WorkflowTemplate" in received[0]
    assert [p.name for p in tmp_path.iterdir()] == ["pipe.yaml"]  # no temporary left beside it
