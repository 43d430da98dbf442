"""Property tests over generated flows of random shape (tests/flowgen.py).

CI runs a bounded number of examples (FLOWC_FUZZ_EXAMPLES, default 25); `make fuzz` runs many more.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings

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
