"""Property tests over generated flows of random shape (tests/flowgen.py).

CI runs a bounded number of examples (FLOWC_FUZZ_EXAMPLES, default 25); `make fuzz` runs many more.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings

from conftest import run_flowc
from flowgen import generated_flows
from flowc.compiler import CompileError, Options, compile_flow, load_flow
from flowc.compiler.targets import available

EXAMPLES = int(os.environ.get("FLOWC_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(generated_flows())
def test_generated_flow_ir_has_the_generated_steps_and_edges(flow):
    graph, _ = load_flow(flow.source, "generated.py")
    assert {s.name: list(s.next) for s in graph.steps} == flow.edges
    assert graph.max_foreach_depth <= 3


@FUZZ
@given(generated_flows())
def test_generated_flow_compiles_for_every_target_or_is_refused_with_a_location(flow):
    for target in available():
        try:
            first = compile_flow(flow.source, "generated.py", target, Options()).text
        except CompileError as exc:
            assert exc.errors and all(e.location.line >= 1 for e in exc.errors), target
            continue
        assert compile_flow(flow.source, "generated.py", target, Options()).text == first, target


RUN_EXAMPLES = int(os.environ.get("FLOWC_FUZZ_RUNS", "3"))


@settings(max_examples=RUN_EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
@given(flow=generated_flows().filter(lambda f: 4 <= f.task_count <= 25))
def test_generated_flow_runs_each_task_once_and_joins_see_every_input(flow, tmp_path_factory):
    """`trace` is extended by every task and merged by every join: it equals the simulated one
    only if each step ran exactly once per task and each join saw all of its inputs."""
    work = tmp_path_factory.mktemp("generated_run")
    (work / "generated.py").write_text(flow.source)
    result = run_flowc("run", "generated.py", "--datastore", str(work / "ds"), "--run-id", "r1", "--quiet", cwd=work,
                       timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    from flowc import Run

    assert Run("GeneratedFlow/r1", datastore=str(work / "ds"))["end"].task.data.trace == flow.expected_trace
