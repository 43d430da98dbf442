"""Issue 13, the Argo side: parameters Argo accepts, scheduled flows that can run, values that reach the pod
byte for byte, the workflow size budget, @skypilot's code package.  Runs go through ../shared/tools/argo_sim.py.
"""

from __future__ import annotations

import textwrap

import pytest
import yaml
from test_argo_execution import _explain, _require_sim, sim  # noqa: F401 - the module-scoped sim fixture

from flowc.compiler import CompileError, Options, compile_flow

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
    assert {p["name"]: p.get("value") for p in arguments} == {"nothing": "", "none": ""}


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
