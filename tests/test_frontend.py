"""Frontend and IR: source snippet -> expected IR fact, as a table with ids."""

from __future__ import annotations

import textwrap

import pytest

from conftest import EXAMPLES
from flowc.compiler import CompileError, load_flow
from flowc.compiler.ir import StepKind

HEAD = "from flowc import *\n"


def flow_of(body: str, head: str = HEAD, with_decorators=()):
    source = head + textwrap.dedent(body)
    flow, _warnings = load_flow(source, "flow.py", tuple(with_decorators))
    return flow


LINEAR = """
class F(FlowSpec):
    {decorators}
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def linear_with(decorators: str, head: str = HEAD):
    return flow_of(LINEAR.replace("{decorators}", decorators.replace("\n", "\n    ")), head)


FACTS = [
    ("memory-constant", "MEM = 16000\n", "@resources(memory=MEM)", lambda s: s.resources.memory_mib, 16000),
    ("memory-arithmetic", "GIB = 1024\n", "@resources(memory=16 * GIB)", lambda s: s.resources.memory_mib, 16384),
    ("memory-string", "", "@resources(memory='2048')", lambda s: s.resources.memory_mib, 2048),
    ("cpu-decimal", "", "@resources(cpu=0.5)", lambda s: s.resources.cpu, 0.5),
    (
        "larger-wins",
        "",
        "@resources(cpu=8, memory=1000)\n@batch(cpu=2, memory=4000)",
        lambda s: (s.resources.cpu, s.resources.memory_mib),
        (8.0, 4000),
    ),
    (
        "kubernetes-disk",
        "",
        "@kubernetes(disk=20480, namespace='ml')",
        lambda s: (s.resources.disk_mib, s.compute.backend, s.compute.kubernetes.namespace),
        (20480, "kubernetes", "ml"),
    ),
    ("default-resources", "", "", lambda s: (s.resources.cpu, s.resources.memory_mib, s.resources.gpu), (1.0, 4096, 0)),
    ("timeout-units", "", "@timeout(hours=1, minutes=30, seconds=5)", lambda s: s.timeout_seconds, 5405),
    (
        "retry-delay-seconds",
        "",
        "@retry(times=4, minutes_between_retries=0.5)",
        lambda s: (s.retry.times, s.retry.delay_seconds),
        (4, 30),
    ),
    ("retry-defaults", "", "@retry", lambda s: (s.retry.times, s.retry.delay_seconds), (3, 120)),
    ("catch", "", "@catch(var='err')", lambda s: (s.catch.var, s.catch.print_exception), ("err", True)),
    (
        "environment-strings",
        "",
        "@environment(vars={'B': 2, 'A': 'x', 'C': True})",
        lambda s: s.environment,
        (("A", "x"), ("B", "2"), ("C", "true")),
    ),
    ("secrets", "", "@secrets(sources=['db', 'api'])", lambda s: s.secrets, ("db", "api")),
    ("batch-image", "", "@batch(image='img:1', queue='q')", lambda s: (s.image, s.compute.batch.queue), ("img:1", "q")),
    (
        "pypi",
        "",
        "@pypi(packages={'pandas': '2.2'}, python='3.11')",
        lambda s: (s.packages.manager, s.packages.packages, s.packages.python),
        ("pypi", (("pandas", "2.2"),), "3.11"),
    ),
    ("class-constant", "", "@resources(gpu=GPUS)", lambda s: s.resources.gpu, 2),
]


@pytest.mark.parametrize("module_code,decorators,fact,expected", [f[1:] for f in FACTS], ids=[f[0] for f in FACTS])
def test_step_settings(module_code, decorators, fact, expected):
    source = LINEAR.replace("{decorators}", decorators.replace("\n", "\n    "))
    if "GPUS" in decorators:
        source = source.replace("class F(FlowSpec):", "class F(FlowSpec):\n    GPUS = 2\n")
    flow = flow_of(source, HEAD + module_code)
    assert fact(flow.step("start")) == expected


def test_compiles_without_importing_the_flow_or_its_dependencies():
    flow = flow_of("""
    import module_that_does_not_exist
    from torch_like_thing import Model

    class F(FlowSpec):
        @step
        def start(self):
            self.model = Model()
            self.next(self.end)

        @step
        def end(self):
            raise SystemExit("never runs at compile time")
    """)
    assert [s.name for s in flow.steps] == ["start", "end"]


@pytest.mark.parametrize(
    "head",
    [
        "from metaflow import FlowSpec, step, resources\n",
        "import metaflow\nfrom metaflow import FlowSpec, step, resources\n",
        "from flowc import FlowSpec, step as s, resources\n",
        "try:\n    from metaflow import FlowSpec, step, resources\nexcept ImportError:\n    raise SystemExit(2)\n",
        "try:\n    import numpy\nexcept ImportError:\n    numpy = None\nelse:\n    pass\n"
        "try:\n    from metaflow import FlowSpec, step\nexcept ImportError:\n    from flowc import FlowSpec, step\n"
        "finally:\n    from metaflow import resources\n",
    ],
    ids=["metaflow", "metaflow-module", "alias", "try-except-importerror", "try-fallback-finally"],
)
def test_import_sources(head):
    body = LINEAR.replace("{decorators}", "@resources(cpu=3)")
    if " as s" in head:
        body = body.replace("@step", "@s")
    flow = flow_of(body, head)
    assert flow.step("start").resources.cpu == 3.0


def test_module_attribute_decorators():
    flow = flow_of(
        """
    import metaflow as mf

    class F(mf.FlowSpec):
        @mf.retry(times=1)
        @mf.step
        def start(self):
            self.next(self.end)

        @mf.step
        def end(self):
            pass
    """,
        head="",
    )
    assert flow.step("start").retry.times == 1


NESTED = """
class F(FlowSpec):
    @step
    def start(self):
        self.a = [1, 2]
        self.next(self.l1, foreach="a")

    @step
    def l1(self):
        self.b = [1]
        self.next(self.l2, foreach="b")

    @step
    def l2(self):
        self.c = [1]
        self.next(self.l3, foreach="c")

    @step
    def l3(self):
        self.next(self.j3)

    @step
    def j3(self, inputs):
        self.next(self.j2)

    @step
    def j2(self, inputs):
        self.next(self.j1)

    @step
    def j1(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_nested_foreach_scopes_and_joins():
    flow = flow_of(NESTED)
    assert flow.step("l3").foreach_scope == ("start", "l1", "l2")
    assert flow.step("j3").foreach_scope == ("start", "l1")
    assert flow.step("end").foreach_scope == ()
    assert [(s.name, s.matching_join) for s in flow.steps if s.kind is StepKind.FOREACH] == [
        ("start", "j1"),
        ("l1", "j2"),
        ("l2", "j3"),
    ]
    assert flow.step("j2").closes == "l1"
    assert flow.max_foreach_depth == 3


def test_foreach_inside_branch_and_branch_inside_foreach():
    flow = flow_of((EXAMPLES / "branch_in_foreach.py").read_text(), head="")
    assert flow.step("per_shard").kind is StepKind.SPLIT
    assert flow.step("per_shard").foreach_scope == ("shard",)
    assert flow.step("shard_join").closes == "per_shard"
    assert flow.step("shards_done").closes == "shard"
    assert flow.step("merge").closes == "start"
    assert flow.step("merge").parents == ("side", "shards_done")


def test_steps_are_in_topological_order():
    flow = flow_of(NESTED)
    seen = set()
    for step in flow.steps:
        assert set(step.parents) <= seen, step.name
        seen.add(step.name)


def test_with_attaches_to_steps_lacking_the_decorator():
    flow = flow_of(
        LINEAR.replace("{decorators}", "@retry(times=7)"), with_decorators=["retry:times=2", "batch:cpu=4,queue=q"]
    )
    assert flow.step("start").retry.times == 7
    assert flow.step("end").retry.times == 2
    assert flow.step("end").compute.backend == "batch"
    assert flow.step("end").resources.cpu == 4.0
    assert flow.step("end").compute.batch.queue == "q"


def test_with_bad_argument_is_an_error():
    with pytest.raises(CompileError) as raised:
        flow_of(LINEAR.replace("{decorators}", ""), with_decorators=["retry:tiems=2"])
    assert "--with retry: no argument 'tiems' (did you mean 'times'?)" in str(raised.value)


def test_with_does_not_add_a_second_compute_decorator():
    flow = flow_of(LINEAR.replace("{decorators}", "@kubernetes(cpu=2)"), with_decorators=["batch"])
    assert flow.step("start").compute.backend == "kubernetes"
    assert flow.step("end").compute.backend == "batch"


def test_card_is_known_and_user_decorators_are_noted():
    source = (
        HEAD
        + "from metaflow import card\nimport functools\n"
        + textwrap.dedent(LINEAR.replace("{decorators}", "@card\n    @functools.lru_cache"))
    )
    flow, warnings = load_flow(source, "flow.py")
    messages = [str(w) for w in warnings]
    assert not any("@card" in m for m in messages)  # issue 14: the runtime renders it on every target
    assert any("@functools.lru_cache is not a flowc decorator" in m for m in messages)
    assert all(w.severity == "warning" for w in warnings)
    assert [d.name for d in flow.step("start").decorators] == ["card"]


def test_several_cards_on_a_step_each_with_its_own_page():
    flow = flow_of(LINEAR.replace("{decorators}", "@card\n    @card(type='blank', id='summary')"))
    assert [dict(d.args).get("id") for d in flow.step("start").decorators] == [None, "summary"]


@pytest.mark.parametrize(
    "decorators, message",
    [
        ("@card\n    @card", "5:6: error: @card 'default' is given twice on step 'start': give each one its own id="),
        (
            "@card(id='a/b')",
            "4:6: error: @card(id='a/b'): an id is letters, digits and '_' only (it names the card's page)",
        ),
        ("@card(type='html')", "4:16: error: argument 'type' of @card must be one of default, blank, got 'html'"),
        ("@card(refresh=3)", "4:11: error: @card has no argument 'refresh'"),
    ],
    ids=["same page twice", "id with a slash", "unknown type", "unknown argument"],
)
def test_bad_cards_are_located_errors(decorators, message):
    with pytest.raises(CompileError) as caught:
        flow_of(LINEAR.replace("{decorators}", decorators))
    assert any(message in str(d) for d in caught.value.diagnostics), [str(d) for d in caught.value.diagnostics]


@pytest.mark.parametrize(
    "arguments,cron",
    [
        ("cron='*/5 * * * *'", "*/5 * * * *"),
        ("hourly=True", "0 * * * *"),
        ("weekly=True", "0 0 * * 0"),
        ("", "0 0 * * *"),
    ],
    ids=["cron", "hourly", "weekly", "daily-default"],
)
def test_schedule(arguments, cron):
    source = LINEAR.replace("{decorators}", "").replace("class F", f"@schedule({arguments})\nclass F")
    flow = flow_of(source)
    assert flow.schedule.cron == cron


def test_parameters():
    flow = flow_of((EXAMPLES / "parameters.py").read_text(), head="")
    params = {p.name: (p.type, p.default) for p in flow.parameters}
    assert params == {
        "greeting": ("str", "world"),
        "alpha": ("float", 0.01),
        "epochs": ("int", 3),
        "verbose": ("bool", False),
        "config": ("json", {"layers": [64, 32]}),
    }


def test_ir_json_is_canonical():
    flow = flow_of(NESTED)
    text = flow.to_json()
    import json

    data = json.loads(text)
    assert data["ir_version"] == 2
    assert text == json.dumps(data, sort_keys=True, indent=2) + "\n"
    assert data["flow"]["steps"][0]["location"] == "flow.py:5:5"  # the `def start` line
