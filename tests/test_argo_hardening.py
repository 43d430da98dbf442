"""Issue 13, the Argo side: parameters Argo accepts, scheduled flows that can run, values that reach the pod
byte for byte, the workflow size budget, @skypilot's code package.  Runs go through ../shared/tools/argo_sim.py.
"""

from __future__ import annotations

import textwrap

import pytest
import yaml
from test_argo_execution import _explain, _require_sim, sim  # noqa: F401 - the module-scoped sim fixture

from flowc.compiler import CompileError, Options, compile_flow
from flowc.contract.command import ORIGIN_RUN_INPUT

OPTIONAL_PARAMETERS = textwrap.dedent('''\
    from flowc import FlowSpec, Parameter, step


    class OptionalFlow(FlowSpec):
        nothing = Parameter("nothing", help="no default at all")
        none = Parameter("none", type=int, default=None)

        @step
        def start(self):
            self.seen = (self.nothing, self.none)
            self.next(self.end)

        @step
        def end(self):
            pass
    ''')


def argo_docs(source: str, filename: str = "flow.py", options: Options = Options()) -> list[dict]:
    return list(yaml.safe_load_all(compile_flow(source, filename, "argo", options).text))


# ---------------------------------------------------------------------------
# Item 12: parameters


def test_optional_parameters_without_default_carry_an_empty_value():
    arguments = argo_docs(OPTIONAL_PARAMETERS)[0]["spec"]["arguments"]["parameters"]
    # and the run a resume reuses, "" for a fresh run (docs/resume.md)
    assert {p["name"]: p.get("value") for p in arguments} == {"nothing": "", "none": "", ORIGIN_RUN_INPUT: ""}


def test_required_parameter_has_no_value_so_submit_asks_for_it():
    source = OPTIONAL_PARAMETERS.replace('help="no default at all"', "required=True")
    arguments = argo_docs(source)[0]["spec"]["arguments"]["parameters"]
    assert "value" not in next(p for p in arguments if p["name"] == "nothing")


def test_optional_parameters_run_on_argo_without_p(sim, tmp_path):  # noqa: F811
    (tmp_path / "optional_flow.py").write_text(OPTIONAL_PARAMETERS)
    result, report = sim.run_source(OPTIONAL_PARAMETERS, "optional_flow.py", workdir=tmp_path)
    assert result.returncode == 0 and report.get("phase") == "Succeeded", _explain(result)
    run = sim.flow_run("optional_flow", report)
    assert run["start"].task.data.seen == (None, None)


SCHEDULED_REQUIRED = textwrap.dedent('''\
    from flowc import FlowSpec, Parameter, schedule, step


    @schedule(cron="0 * * * *")
    class Scheduled(FlowSpec):
        fine = Parameter("fine", default=1)
        who = Parameter("who", required=True)

        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass
    ''')


@pytest.mark.parametrize("target", ["argo", "step-functions", "airflow"])
def test_schedule_with_a_required_parameter_is_refused_at_the_parameter(target):
    with pytest.raises(CompileError) as err:
        compile_flow(SCHEDULED_REQUIRED, "scheduled.py", target, Options())
    text = str(err.value)
    assert "scheduled.py:7:" in text and "parameter 'who' is required" in text and "@schedule (line 4)" in text
    assert "'fine'" not in text


# ---------------------------------------------------------------------------
# Item 3: literal values reach the pod byte for byte through the kubelet's $(VAR) / $$ expansion

TRICKY = "a $(HOME) b $$ c $$(HOME) ${HOME} d$ 'single' \"double\" e$(KUBERNETES_SERVICE_HOST)\nline two $"


def _argo_sim_module():
    import importlib.util

    from test_argo_execution import ARGO_SIM

    if not ARGO_SIM.exists():
        pytest.skip(f"{ARGO_SIM} is missing")
    spec = importlib.util.spec_from_file_location("argo_sim", ARGO_SIM)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("text", [TRICKY, "$", "$$", "$$$", "$(", "$()", "$(X", "(", "$($(HOME))", "$)$("])
def test_kubelet_literal_survives_the_kubelets_expansion(text):
    from flowc.compiler.lower.kubernetes import kubelet_literal

    expand = _argo_sim_module().k8s_expand
    env = {"HOME": "/root", "X": "x", "KUBERNETES_SERVICE_HOST": "10.96.0.1", "": "empty"}
    assert expand(kubelet_literal(text), env) == text
    # a literal part followed by a run-time value: whatever the value begins with, the literal stays
    for value in ("(HOME)", "$", "$(X)", "plain"):
        assert expand(kubelet_literal(text, before_runtime_value=True) + value, env)[: len(text)] == text


def test_kubelet_literal_property():
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    from flowc.compiler.lower.kubernetes import kubelet_literal

    expand = _argo_sim_module().k8s_expand
    env = {"A": "α", "HOME": "/root", "$": "dollar"}

    @hypothesis.settings(max_examples=500, deadline=None)
    @hypothesis.given(st.text(alphabet="$()AHOME{} x", max_size=30))
    def survives(text):
        assert expand(kubelet_literal(text), env) == text

    survives()


LITERALS_FLOW = textwrap.dedent('''\
    import os

    from flowc import FlowSpec, environment, step

    TRICKY = {tricky!r}


    class LiteralFlow(FlowSpec):
        @step
        def start(self):  # --with environment reaches it (a step's own @environment would win)
            self.with_value = os.environ["TRICKY_WITH"]
            self.file_name = os.path.basename(__file__)
            self.next(self.end)

        @environment(vars={{"TRICKY_ENV": TRICKY}})
        @step
        def end(self):
            self.env_value = os.environ["TRICKY_ENV"]
    ''').format(tricky=TRICKY)


def test_literal_values_reach_the_runtime_byte_for_byte_on_argo(sim, tmp_path):  # noqa: F811
    file_name = "flow $(HOME) $$ ${HOME} 'q' \"d\"\nx$.py"
    (tmp_path / file_name).write_text(LITERALS_FLOW)
    store = sim.root / "store $(HOME) $$ ${HOME} 'q' x$"
    with_value = "w $(HOME) $$ ${HOME} 'q' \"d\" $"
    from test_argo_execution import IMAGE

    source = LITERALS_FLOW
    options = Options(image=IMAGE, datastore=str(store))
    text = compile_flow(
        source, file_name, "argo", options, with_decorators=(f"environment:vars={{'TRICKY_WITH': {with_value!r}}}",)
    ).text
    assert "$$(HOME)" in text  # escaped in the manifest, not refused
    result, report = sim.run_source(
        source,
        file_name,
        workdir=tmp_path,
        options=options,
        with_decorators=(f"environment:vars={{'TRICKY_WITH': {with_value!r}}}",),
    )
    assert result.returncode == 0 and report.get("phase") == "Succeeded", _explain(result)
    from flowc.runtime.client import Run

    data = Run(f"LiteralFlow/{report['workflow']}", datastore=str(store))["end"].task.data
    assert (data.env_value, data.with_value, data.file_name) == (TRICKY, with_value, file_name)


DOLLAR_DEFAULT = textwrap.dedent('''\
    from flowc import FlowSpec, Parameter, step


    class DollarFlow(FlowSpec):
        price = Parameter("price", default={tricky!r})

        @step
        def start(self):
            self.seen = self.price
            self.next(self.end)

        @step
        def end(self):
            pass
    ''').format(tricky=TRICKY)


def test_a_default_the_kubelet_would_rewrite_is_read_from_the_flow_with_a_warning():
    artifact = compile_flow(DOLLAR_DEFAULT, "dollar.py", "argo", Options())
    arguments = yaml.safe_load(artifact.text)["spec"]["arguments"]["parameters"]
    assert [p for p in arguments if p["name"] != ORIGIN_RUN_INPUT] == [{"name": "price", "value": ""}]
    assert [str(w).split(": warning: ")[0] for w in artifact.warnings] == ["dollar.py:5:13"]
    assert "argo submit -p" in str(artifact.warnings[0])


def test_a_default_with_dollars_reaches_start_unchanged_on_argo(sim, tmp_path):  # noqa: F811
    (tmp_path / "dollar_flow.py").write_text(DOLLAR_DEFAULT)
    result, report = sim.run_source(DOLLAR_DEFAULT, "dollar_flow.py", workdir=tmp_path)
    assert result.returncode == 0 and report.get("phase") == "Succeeded", _explain(result)
    assert sim.flow_run("dollar_flow", report)["start"].task.data.seen == TRICKY


# ---------------------------------------------------------------------------
# Item 15: a @skypilot step's code package is a workflow argument


def _skypilot_docs(options: Options = Options()) -> dict:
    from conftest import EXAMPLES

    return argo_docs((EXAMPLES / "skypilot.py").read_text(), "skypilot.py", options)[0]


def _launcher_args(doc: dict) -> list[list[str]]:
    return [
        t["container"]["args"]
        for t in doc["spec"]["templates"]
        if "container" in t and "skypilot_launch" in " ".join(t["container"].get("command", []))
    ]


def test_skypilot_package_is_a_required_argument_given_to_every_launcher():
    doc = _skypilot_docs()
    package = next(p for p in doc["spec"]["arguments"]["parameters"] if p["name"] == "flowc-package")
    assert "value" not in package  # argo submit asks for it
    launchers = _launcher_args(doc)
    assert launchers and all("FLOWC_PACKAGE={{workflow.parameters.flowc-package}}" in args for args in launchers)


def test_deploy_compiles_the_package_url_in_as_the_arguments_value():
    doc = _skypilot_docs(Options(package_url="s3://bucket/flows/SkyFlow/packages/" + "a" * 64 + ".tar.gz"))
    package = next(p for p in doc["spec"]["arguments"]["parameters"] if p["name"] == "flowc-package")
    assert package["value"].startswith("s3://bucket/")


def test_a_user_parameter_cannot_take_the_package_arguments_name():
    from conftest import EXAMPLES

    source = (EXAMPLES / "skypilot.py").read_text()
    assert "Parameter" in source.split("class ")[0]  # the example imports it
    source = source.replace("(FlowSpec):", '(FlowSpec):\n    clash = Parameter("flowc-package", default="x")', 1)
    with pytest.raises(CompileError, match="'flowc-package' is flowc's own"):
        compile_flow(source, "skypilot.py", "argo", Options())


def test_argo_sim_asks_for_the_package_at_submit(sim, tmp_path):  # noqa: F811
    from conftest import EXAMPLES

    result, _ = sim.run_source((EXAMPLES / "skypilot.py").read_text(), "skypilot.py")
    assert result.returncode == 3 and "flowc-package.value is required" in result.stderr, _explain(result)


# ---------------------------------------------------------------------------
# Item 13: the run's Workflow object (spec copy + node statuses) under Argo's MAX_WORKFLOW_SIZE binds first


def test_a_template_under_etcds_limit_whose_runs_exceed_max_workflow_size_is_refused():
    from test_argo import linear_flow_source

    from flowc.compiler.targets import argo_checks

    with pytest.raises(CompileError) as caught:
        compile_flow(linear_flow_source(4000), "long.py", "argo", Options())
    (error,) = caught.value.errors
    assert error.location.line == 4 and "MAX_WORKFLOW_SIZE of 1,048,576" in error.message
    assert "~3,800 plain steps" in error.message and "~8,500 items" in error.message
    fits = compile_flow(linear_flow_source(3700), "long.py", "argo", Options())
    assert argo_checks.stored_size_bytes(yaml.safe_load(fits.text)) < argo_checks.ETCD_LIMIT_BYTES


def test_the_size_budget_agrees_with_argo_sim(tmp_path):
    """The compile-time estimate refuses no flow argo_sim's size model runs (3,700 steps) and no less."""
    import subprocess
    import sys

    from test_argo import linear_flow_source
    from test_argo_execution import ARGO_SIM

    if not ARGO_SIM.exists():
        pytest.skip(f"{ARGO_SIM} is missing")
    manifest = tmp_path / "long.argo.yaml"
    manifest.write_text(compile_flow(linear_flow_source(3700), "long.py", "argo", Options()).text)
    result = subprocess.run(
        [sys.executable, str(ARGO_SIM), str(manifest), "--size-only", "1", "--image", "python:3.11-slim=/usr/bin"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and ": OK" in result.stdout, result.stdout + result.stderr
