"""Generated flows of random shape, as a hypothesis strategy.

A flow is a block of segments between `start` and `end`; a segment is a
linear step, a static branch of 2-5 arms (each arm a block) closed by a join,
or a foreach over a block (nested up to depth 3) closed by a join; with
`generated_flows(conditionals=True)` also a conditional over 2-3 arms of
which one runs (chosen by the artifact it sets), meeting at a plain step,
and a recursive step that repeats 1-3 times.  Steps
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
    kind: str  # "step", "branch", "foreach", "switch", "recur"
    arms: list = field(default_factory=list)  # list of blocks (lists of Shape)
    width: int = 0  # foreach width; a switch's chosen arm; a recursive step's iterations


def blocks(depth: int = 0, foreach_depth: int = 0, size: int = 3, conditionals: bool = False):
    """A strategy for a block: a list of 1..size segments."""
    leaf = st.just(Shape("step"))
    options = [leaf]
    if conditionals:
        options.append(st.integers(min_value=1, max_value=3).map(lambda times: Shape("recur", width=times)))
    if depth < 3:
        options.append(
            st.builds(
                lambda arms: Shape("branch", arms=arms),
                st.lists(
                    st.deferred(lambda: blocks(depth + 1, foreach_depth, 2, conditionals)), min_size=2, max_size=5
                ),
            )
        )
        if conditionals:
            options.append(
                st.lists(
                    st.deferred(lambda: blocks(depth + 1, foreach_depth, 2, conditionals)), min_size=2, max_size=3
                ).flatmap(lambda arms: st.integers(0, len(arms) - 1).map(lambda pick: Shape("switch", arms, pick)))
            )
        if foreach_depth < MAX_FOREACH_DEPTH:
            options.append(
                st.builds(
                    lambda body, width: Shape("foreach", arms=[body], width=width),
                    st.deferred(lambda: blocks(depth + 1, foreach_depth + 1, 2, conditionals)),
                    st.integers(min_value=1, max_value=3),
                )
            )
    return st.lists(st.one_of(*options), min_size=1, max_size=size)


DECORATORS = st.sampled_from(
    [
        "",
        "@resources(cpu=2, memory=2048)",
        "@retry(times=2, minutes_between_retries=0)",
        "@timeout(seconds=120)",
        "@environment(vars={'MODE': 'x; rm -rf / $(whoami) `id` | cat'})",
        "@catch(var='failure')",
        "@kubernetes(cpu=1, memory=1024)",
        "@resources(gpu=1)",
    ]
)


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
        elif shape.kind == "recur":
            total += shape.width
        elif shape.kind == "switch":
            total += 2 + count_tasks(shape.arms[shape.width])
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
        if shape.kind == "recur":
            name = self.name("r")
            self.steps[name] = {
                "next": [name, continuation],
                "kind": "recur",
                "times": shape.width,
                "takes_input": first_in_foreach,
            }
            return name
        if shape.kind == "switch":
            meet = self.name("meet")
            self.steps[meet] = {"next": [continuation], "kind": "step"}
            firsts = [self.block(arm, meet, False) for arm in shape.arms]
            name = self.name("switch")
            self.steps[name] = {"next": firsts, "kind": "switch", "pick": shape.width, "takes_input": first_in_foreach}
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
        if spec["kind"] == "switch":
            lines.append(f"        self.route = 'v{spec['pick']}'")
            arms = ", ".join(f"'v{i}': self.{first}" for i, first in enumerate(spec["next"]))
            lines.append(f"        self.next({{{arms}}}, condition='route')")
        elif spec["kind"] == "recur":
            lines.append(f"        self.{name}_n = getattr(self, '{name}_n', 0) + 1")
            lines.append(f"        self.route = 'again' if self.{name}_n < {spec['times']} else 'done'")
            lines.append(
                f"        self.next({{'again': self.{name}, 'done': self.{spec['next'][1]}}}, condition='route')"
            )
        elif spec["kind"] == "foreach":
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
    if spec["kind"] == "recur":  # one mark per iteration, then on
        return _continue(steps, spec["next"][1], trace + [mark] * (spec["times"] - 1))
    if spec["kind"] == "switch":  # only the chosen arm runs, up to its meeting step
        return _continue(steps, spec["next"][spec["pick"]], trace)
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
def generated_flows(draw, conditionals: bool = False) -> GeneratedFlow:
    """A flow of random shape; with `conditionals`, conditionals and recursive steps too (`flowc run` only,
    until the orchestrators compile them)."""
    shape = draw(blocks(conditionals=conditionals))
    decorators = draw(st.lists(DECORATORS, min_size=1, max_size=4))
    params = draw(
        st.dictionaries(
            st.sampled_from(["alpha", "beta", "label", "count"]),
            st.one_of(st.integers(-5, 5), st.sampled_from(["a b", "x; ls", "$(id)"]), st.floats(0, 1, width=32)),
            max_size=3,
        )
    )
    renderer = _Renderer(decorators)
    first = renderer.block(shape, "end", False)
    renderer.steps = {"start": {"next": [first], "kind": "step"}, **renderer.steps}
    body = []
    for name, spec in renderer.steps.items():
        if name == "start":
            body.append(
                f"    @step\n    def start(self):\n        self.trace = ['start']\n        self.next(self.{first})"
            )
        else:
            body.append(renderer.step_source(name, spec))
    body.append("    @step\n    def end(self):\n        self.trace = self.trace + ['end']")
    parameters = "".join(f"    {k} = Parameter({k!r}, default={v!r})\n" for k, v in sorted(params.items()))
    source = (
        "from flowc import FlowSpec, Parameter, step, resources, retry, timeout, environment, catch, kubernetes\n\n\n"
        f"class GeneratedFlow(FlowSpec):\n{parameters}\n" + "\n\n".join(body) + "\n"
    )
    edges = {name: list(spec["next"]) for name, spec in renderer.steps.items()}
    edges["end"] = []
    _, trace = _continue(renderer.steps, first, ["start"])
    return GeneratedFlow(source, edges, trace + ["end"], params, count_tasks(shape) + 2)


# ---------------------------------------------------------------------------
# Hostile values in every position a user value can take (the injection property of tests/test_fuzz.py)

HOSTILE_TEXT = [
    'a"""\nimport os\nos.system("touch INJECTED")\n"""',
    "'; import os; os.system('id') #",
    "\\",
    "{{ 7 * 7 }}",
    "{% raw %}",
    "$(HOME) $$ ${X}",
    "\x00\r\n\u2028",
    "x' + __import__('os').getcwd() + '",
    ")\nimport os\n(",
    "é ß 字 🙂",
    "",
]
# A benign value for every position: the plain flow the hostile one is compared with.
BENIGN = {
    "file": "flow.py",
    "class_doc": "doc",
    "step": "middle",
    "step_doc": "doc",
    "param_name": "alpha",
    "param_default": "'x'",
    "param_help": "help",
    "env_key": "MODE",
    "env_value": "x",
    "image": "img:1",
    "namespace": "ns",
    "service_account": "sa",
    "label_key": "team",
    "label_value": "ml",
    "annotation_key": "owner",
    "annotation_value": "x",
    "node_selector": "pool",
    "secret": "creds",
    "toleration": "spot",
    "cron": "0 2 * * *",
    "timezone": "UTC",
    "project": "demo",
    "opt_name": "Dag1",
    "opt_image": "img:2",
    "opt_datastore": "s3://b/p",
    "opt_namespace": "ns2",
    "opt_service_account": "sa2",
}


def _text():
    return st.one_of(st.text(max_size=24), st.sampled_from(HOSTILE_TEXT))


def _identifier():
    return st.one_of(
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True),
        st.text(min_size=1, max_size=8).filter(lambda t: t.isidentifier()),
    )


@dataclass
class HostileFlow:
    values: dict  # position -> the value drawn (None: the position is left out, in the plain flow too)

    def source(self, values: dict | None = None) -> str:
        v = values or self.values
        r = repr
        flow_decorators = []
        if v["project"] is not None:
            flow_decorators.append(f"@project(name={r(v['project'])})")
        if v["cron"] is not None:
            flow_decorators.append(f"@schedule(cron={r(v['cron'])}, timezone={r(v['timezone'])})")
        kubernetes = [f"{key}={r(v[key])}" for key in ("image", "namespace", "service_account") if v[key] is not None]
        if v["label_key"] is not None:
            kubernetes.append(f"labels={{{r(v['label_key'])}: {r(v['label_value'])}}}")
            kubernetes.append(f"annotations={{{r(v['annotation_key'])}: {r(v['annotation_value'])}}}")
            kubernetes.append(f"node_selector={{'pool': {r(v['node_selector'])}}}")
            kubernetes.append(f"secrets=[{r(v['secret'])}]")
            kubernetes.append(f"tolerations=[{{'key': {r(v['toleration'])}, 'operator': 'Exists'}}]")
        step_decorators = [f"@kubernetes({', '.join(kubernetes)})"] if kubernetes else []
        if v["env_key"] is not None:
            step_decorators.append(f"@environment(vars={{{r(v['env_key'])}: {r(v['env_value'])}}})")
        step_decorators.append("@retry(times=1, minutes_between_retries=0)")
        parameter = ""
        if v["param_name"] is not None:
            parameter = (
                f"    p = Parameter({r(v['param_name'])}, default={v['param_default']}, help={r(v['param_help'])})\n"
            )
        decorated = "".join(f"    {d}\n" for d in step_decorators)
        return (
            "from flowc import FlowSpec, Parameter, environment, kubernetes, project, retry, schedule, step\n\n\n"
            + "".join(f"{d}\n" for d in flow_decorators)
            + f"class HostileFlow(FlowSpec):\n    {r(v['class_doc'])}\n{parameter}\n"
            + f"    @step\n    def start(self):\n        self.next(self.{v['step']})\n\n"
            + f"{decorated}    @step\n    def {v['step']}(self):\n        {r(v['step_doc'])}\n"
            + "        self.next(self.end)\n\n    @step\n    def end(self):\n        pass\n"
        )

    def options(self, values: dict | None = None) -> dict:
        v = values or self.values
        return {
            field: v[f"opt_{field}"]
            for field in ("name", "image", "datastore", "namespace", "service_account")
            if v[f"opt_{field}"] is not None
        }

    def plain(self) -> dict:
        """The same positions filled with benign values."""
        return {key: (None if value is None else BENIGN[key]) for key, value in self.values.items()}


HOSTILE_POSITIONS = tuple(BENIGN)
OPTIONAL_POSITIONS = (
    "param_name",
    "env_key",
    "image",
    "namespace",
    "service_account",
    "project",
    "label_key",
    "cron",
    "opt_name",
    "opt_image",
    "opt_datastore",
    "opt_namespace",
    "opt_service_account",
)


@st.composite
def hostile_flows(draw) -> HostileFlow:
    """A fixed shape (start -> one decorated step -> end): a few positions hold drawn values, the others a benign
    value or nothing (all hostile at once would nearly always be refused on the first name rule, and the DAG
    path would go untested)."""
    hostile = draw(st.sets(st.sampled_from(HOSTILE_POSITIONS), min_size=1, max_size=4))
    values = {key: None if key in OPTIONAL_POSITIONS and draw(st.booleans()) else BENIGN[key] for key in BENIGN}
    for key in sorted(hostile):
        if key == "step":
            values[key] = draw(_identifier())
        elif key == "param_default":
            values[key] = draw(
                st.one_of(
                    _text().map(repr),
                    st.integers().map(repr),
                    st.floats().map(repr),
                    st.sampled_from(["1e999", "-1e999", "True", "None", "{'a': [1e999]}"]),
                )
            )
        else:
            values[key] = draw(_text())
    if values["param_name"] is None:
        values["param_default"] = values["param_help"] = None
    elif values["param_default"] is None:
        values["param_default"], values["param_help"] = BENIGN["param_default"], BENIGN["param_help"]
    return HostileFlow(values)
