"""Generated flows of random shape, as a hypothesis strategy.

A flow is a block of segments between `start` and `end`; a segment is a
linear step, a static branch of 2-5 arms (each arm a block) closed by a join,
or a foreach over a block (nested up to depth 3) closed by a join.  Steps
carry random decorators; the flow has random parameters.  Every step extends
an artifact `trace`, so the final `trace` tells exactly which tasks ran and
what each join saw; `expected_trace` computes it from the shape alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

MAX_FOREACH_DEPTH = 3


@dataclass
class Shape:
    kind: str  # "step", "branch", "foreach"
    arms: list = field(default_factory=list)  # list of blocks (lists of Shape)
    width: int = 0  # foreach width


def blocks(depth: int = 0, foreach_depth: int = 0, size: int = 3):
    """A strategy for a block: a list of 1..size segments."""
    leaf = st.just(Shape("step"))
    options = [leaf]
    if depth < 3:
        options.append(st.builds(lambda arms: Shape("branch", arms=arms),
                                 st.lists(st.deferred(lambda: blocks(depth + 1, foreach_depth, 2)), min_size=2, max_size=5)))
        if foreach_depth < MAX_FOREACH_DEPTH:
            options.append(st.builds(lambda body, width: Shape("foreach", arms=[body], width=width),
                                     st.deferred(lambda: blocks(depth + 1, foreach_depth + 1, 2)),
                                     st.integers(min_value=1, max_value=3)))
    return st.lists(st.one_of(*options), min_size=1, max_size=size)


DECORATORS = st.sampled_from([
    "", "@resources(cpu=2, memory=2048)", "@retry(times=2, minutes_between_retries=0)", "@timeout(seconds=120)",
    "@environment(vars={'MODE': 'x; rm -rf / $(whoami) `id` | cat'})", "@catch(var='failure')",
    "@kubernetes(cpu=1, memory=1024)", "@resources(gpu=1)",
])


@dataclass
class GeneratedFlow:
    source: str
    edges: dict  # step -> list of next steps
    expected_trace: list
    parameters: dict
    task_count: int = 0


def count_tasks(segments: list[Shape]) -> int:
    """Tasks one pass through the block runs (a foreach multiplies its body)."""
    total = 0
    for shape in segments:
        if shape.kind == "step":
            total += 1
        elif shape.kind == "branch":
            total += 2 + sum(count_tasks(arm) for arm in shape.arms)
        else:
            total += 2 + shape.width * count_tasks(shape.arms[0])
    return total


class _Renderer:
    def __init__(self, decorators: list[str]):
        self.decorators = decorators
        self.steps: dict[str, dict] = {}
        self.counter = 0

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def decorator(self) -> str:
        return self.decorators[self.counter % len(self.decorators)]

    def block(self, segments: list[Shape], continuation: str, first_in_foreach: bool) -> str:
        """Emit the block's steps so that it ends in `continuation`; return its first step."""
        target = continuation
        for index in range(len(segments) - 1, -1, -1):
            target = self.segment(segments[index], target, first_in_foreach and index == 0)
        return target

    def segment(self, shape: Shape, continuation: str, first_in_foreach: bool) -> str:
        if shape.kind == "step":
            name = self.name("s")
            self.steps[name] = {"next": [continuation], "kind": "step", "takes_input": first_in_foreach}
            return name
        join = self.name("join")
        self.steps[join] = {"next": [continuation], "kind": "join"}
        if shape.kind == "branch":
            firsts = [self.block(arm, join, False) for arm in shape.arms]
            name = self.name("split")
            self.steps[name] = {"next": firsts, "kind": "split", "takes_input": first_in_foreach}
            return name
        body = self.block(shape.arms[0], join, True)
        name = self.name("each")
        self.steps[name] = {"next": [body], "kind": "foreach", "width": shape.width, "takes_input": first_in_foreach}
        return name

    def step_source(self, name: str, spec: dict) -> str:
        lines = []
        decorator = self.decorator() if spec["kind"] != "join" else ""
        if decorator:
            lines.append(f"    {decorator}")
        lines.append("    @step")
        if spec["kind"] == "join":
            lines.append(f"    def {name}(self, inputs):")
            lines.append(f"        self.trace = [{name!r}, sorted((i.trace for i in inputs), key=repr)]")
        else:
            lines.append(f"    def {name}(self):")
            mark = f"({name!r}, self.input)" if spec.get("takes_input") else repr(name)
            lines.append(f"        self.trace = self.trace + [{mark}]")
        if spec["kind"] == "foreach":
            lines.append(f"        self.items = list(range({spec['width']}))")
            lines.append(f"        self.next(self.{spec['next'][0]}, foreach='items')")
        else:
            lines.append(f"        self.next({', '.join('self.' + n for n in spec['next'])})")
        return "\n".join(lines)


def expected(steps: dict, name: str, trace: list, item=None):
    """The trace reaching `end` from `name` (simulates the flow)."""
    spec = steps[name]
    if spec["kind"] == "join":
        return name, trace  # the caller collects inputs
    mark = (name, item) if spec.get("takes_input") else name
    trace = trace + [mark]
    if spec["kind"] == "step":
        return _continue(steps, spec["next"][0], trace)
    if spec["kind"] == "split":
        results = [_until_join(steps, first, trace) for first in spec["next"]]
    else:
        results = [_until_join(steps, spec["next"][0], trace, item=i) for i in range(spec["width"])]
    join = results[0][0]
    joined = [join, sorted((r[1] for r in results), key=repr)]
    return _continue(steps, steps[join]["next"][0], joined)


def _until_join(steps, name, trace, item=None):
    return expected(steps, name, trace, item)


def _continue(steps, name, trace):
    if name == "end":
        return "end", trace
    return expected(steps, name, trace)


@st.composite
def generated_flows(draw) -> GeneratedFlow:
    shape = draw(blocks())
    decorators = draw(st.lists(DECORATORS, min_size=1, max_size=4))
    params = draw(st.dictionaries(st.sampled_from(["alpha", "beta", "label", "count"]),
                                  st.one_of(st.integers(-5, 5), st.sampled_from(["a b", "x; ls", "$(id)"]), st.floats(0, 1, width=32)),
                                  max_size=3))
    renderer = _Renderer(decorators)
    first = renderer.block(shape, "end", False)
    renderer.steps = {"start": {"next": [first], "kind": "step"}, **renderer.steps}
    body = []
    for name, spec in renderer.steps.items():
        if name == "start":
            body.append("    @step\n    def start(self):\n        self.trace = ['start']\n"
                        f"        self.next(self.{first})")
        else:
            body.append(renderer.step_source(name, spec))
    body.append("    @step\n    def end(self):\n        self.trace = self.trace + ['end']")
    parameters = "".join(f"    {k} = Parameter({k!r}, default={v!r})\n" for k, v in sorted(params.items()))
    source = ("from flowc import FlowSpec, Parameter, step, resources, retry, timeout, environment, catch, kubernetes\n\n\n"
              f"class GeneratedFlow(FlowSpec):\n{parameters}\n" + "\n\n".join(body) + "\n")
    edges = {name: list(spec["next"]) for name, spec in renderer.steps.items()}
    edges["end"] = []
    _, trace = _continue(renderer.steps, first, ["start"])
    return GeneratedFlow(source, edges, trace + ["end"], params, count_tasks(shape) + 2)
