"""The IR: one typed, immutable description of a flow that every target reads.

The frontend builds it; `derive_structure` computes the derived facts once
(topological order, the join that closes each split, foreach scopes) with the
runtime's own derivation (flowc/contract/graph.py), so no emitter recomputes them.  Units are normalized here: CPU in cores (a decimal),
memory and disk in MiB, timeouts and retry delays in seconds.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Iterator

from flowc.compiler.ir_triggers import EventTrigger, FinishTrigger, Triggers  # noqa: F401  (part of the IR)
from flowc.contract.graph import (  # Structure: validate.py reads it from here
    Node,
    Structure,
    derive,
    switch_branches,
    switch_is_recursive,
)

IR_VERSION = 2  # 2: conditionals (SWITCH, condition, switch, meeting, meets, recursion_max)


class StepKind(str, enum.Enum):
    """How control leaves a step (`Step.closes` says whether it is a join)."""

    START = "start"
    LINEAR = "linear"
    SPLIT = "split"  # static branch: self.next(self.a, self.b)
    FOREACH = "foreach"  # self.next(self.body, foreach="var")
    JOIN = "join"  # a join whose successor is a single step
    SWITCH = "switch"  # self.next({"a": self.x, "b": self.y}, condition="route"); recursive if it names itself
    END = "end"


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Resources:
    cpu: float = 1.0
    memory_mib: int = 4096
    gpu: int = 0
    disk_mib: int | None = None
    shared_memory_mib: int | None = None


@dataclass(frozen=True)
class Retry:
    times: int
    delay_seconds: int


@dataclass(frozen=True)
class Catch:
    var: str | None
    print_exception: bool


@dataclass(frozen=True)
class Toleration:
    """One Kubernetes toleration, with Kubernetes' field meanings (normalize accepts its camelCase keys)."""

    key: str | None = None
    operator: str = "Equal"  # Equal or Exists
    value: str | None = None
    effect: str | None = None  # NoSchedule, PreferNoSchedule or NoExecute; None: every effect
    toleration_seconds: int | None = None


@dataclass(frozen=True)
class Kubernetes:
    """@kubernetes placement, validated against Kubernetes' rules by normalize; read by Argo and Airflow."""

    namespace: str | None = None
    service_account: str | None = None
    node_selector: tuple[tuple[str, str], ...] = ()  # sorted (label key, value) pairs
    tolerations: tuple[Toleration, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()  # sorted
    annotations: tuple[tuple[str, str], ...] = ()  # sorted
    image_pull_policy: str | None = None  # Always, IfNotPresent or Never
    gpu_vendor: str | None = None  # None: Options.gpu_vendor
    secrets: tuple[str, ...] = ()  # Kubernetes Secret names (Metaflow's list or "a,b" string)


@dataclass(frozen=True)
class Batch:
    """@batch's AWS Batch settings beyond resources; read by Step Functions."""

    queue: str | None = None
    iam_role: str | None = None  # the job's role (jobRoleArn)
    execution_role: str | None = None  # ECS execution role (executionRoleArn)
    max_swap_mib: int | None = None
    swappiness: int | None = None
    use_tmpfs: bool = False
    tmpfs_size_mib: int | None = None
    tags: tuple[tuple[str, str], ...] = ()  # sorted aws_batch_tags


@dataclass(frozen=True)
class SkyPilot:
    """@skypilot settings: where SkyPilot runs the step."""

    cluster_name: str | None = None
    use_spot: bool = False
    cloud: str | None = None
    region: str | None = None
    accelerators: str | tuple[tuple[str, float], ...] | None = None  # "A100", "A100:2" or ((type, count),)
    cpus: int | float | str | None = None  # as SkyPilot takes it: 4 or "4+"
    memory: int | float | str | None = None  # GB, as SkyPilot takes it: 16 or "16+"
    disk_size_gb: int | None = None
    image_id: str | None = None
    managed: bool = True
    max_restarts_on_errors: int = 0
    autostop_minutes: int | None = None


@dataclass(frozen=True)
class Compute:
    """Where the step runs: `local` (the orchestrator's default), `batch`, `kubernetes`, `skypilot`.

    Exactly the settings of `backend` are set; the others are None.
    """

    backend: str = "local"
    kubernetes: Kubernetes | None = None
    batch: Batch | None = None
    skypilot: SkyPilot | None = None


@dataclass(frozen=True)
class Packages:
    manager: str  # "conda" or "pypi"
    packages: tuple[tuple[str, str], ...]
    python: str | None
    lock: str | None = None  # the sha256 of its entry in the flow's lock file, once compile has found it


@dataclass(frozen=True)
class DecoratorUse:
    """A decorator as written, with its literal arguments (resolved constants)."""

    name: str
    args: tuple[tuple[str, Any], ...]
    location: Location

    def get(self, name: str, default: Any = None) -> Any:
        for key, value in self.args:
            if key == name:
                return value
        return default


@dataclass(frozen=True)
class Step:
    name: str
    kind: StepKind
    next: tuple[str, ...]
    location: Location
    next_location: Location | None = None  # where self.next(...) is written
    takes_inputs: bool = False
    foreach_var: str | None = None
    condition: str | None = None  # a switch's artifact, read after its body
    switch: tuple[tuple[str, str], ...] = ()  # a switch's (value, step) pairs in source order; `next` lists its steps
    recursion_max: int | None = None  # a recursive step's bound on iterations (@recursion(max=N), default 100)
    # Derived by derive_structure:
    parents: tuple[str, ...] = ()
    closes: str | None = None  # for a join: the split or foreach step it closes
    matching_join: str | None = None  # for a split or foreach: the join that closes it
    foreach_scope: tuple[str, ...] = ()  # enclosing foreach steps, outermost first
    meeting: str | None = None  # for a switch: the step where its branches meet (or its one exit)
    meets: tuple[str, ...] = ()  # for a meeting step: the switches whose branches meet here
    # Normalized settings:
    resources: Resources = Resources()
    retry: Retry | None = None
    catch: Catch | None = None
    timeout_seconds: int | None = None
    environment: tuple[tuple[str, str], ...] = ()
    secrets: tuple[str, ...] = ()
    image: str | None = None
    compute: Compute = Compute()
    packages: Packages | None = None
    decorators: tuple[DecoratorUse, ...] = ()
    doc: str | None = None

    @property
    def foreach_depth(self) -> int:
        return len(self.foreach_scope)

    @property
    def is_join(self) -> bool:
        return self.takes_inputs

    @property
    def is_switch(self) -> bool:
        return self.kind is StepKind.SWITCH

    @property
    def is_recursive(self) -> bool:
        return switch_is_recursive(self.name, self.switch)

    @property
    def branches(self) -> tuple[str, ...]:
        return switch_branches(self.name, self.switch)

    def decorator(self, name: str) -> DecoratorUse | None:
        for d in self.decorators:
            if d.name == name:
                return d
        return None

    def location_of(self, *decorators: str) -> Location:
        """Where the first of `decorators` the step carries is written, else the step itself."""
        for name in decorators:
            use = self.decorator(name)
            if use is not None:
                return use.location
        return self.location


@dataclass(frozen=True)
class Parameter:
    name: str
    attribute: str  # the class attribute it is bound to
    type: str  # "str", "int", "float", "bool", "json", "file"
    default: Any
    has_default: bool
    required: bool
    help: str | None
    location: Location
    multiple: bool = False  # the value is a tuple; its --param text a JSON array
    separator: str | None = None  # the runtime splits the text into a list of str

    @property
    def runtime_type(self) -> str:
        """How the runtime command receives the value: a multiple parameter's is JSON text."""
        return "json" if self.multiple else self.type


@dataclass(frozen=True)
class FlowConfig:
    """A Config resolved at compile time (flowc/compiler/configs.py): its value is JSON data."""

    name: str
    attribute: str
    value: Any  # the parsed file: a dict (None for an optional config with nothing given)
    source: str  # the file it was read from, "default_value" or "none"
    location: Location


@dataclass(frozen=True)
class Schedule:
    cron: str
    timezone: str | None
    location: Location


@dataclass(frozen=True)
class FlowGraph:
    name: str
    file: str
    location: Location
    steps: tuple[Step, ...]  # topological order, ties broken by source order
    parameters: tuple[Parameter, ...] = ()
    schedule: Schedule | None = None
    project: str | None = None
    packages: Packages | None = None
    decorators: tuple[DecoratorUse, ...] = ()
    doc: str | None = None
    configs: tuple[FlowConfig, ...] = ()
    triggers: Triggers = Triggers()

    def __post_init__(self):
        object.__setattr__(self, "_by_name", {s.name: s for s in self.steps})

    def step(self, name: str) -> Step:
        return self._by_name[name]

    def has_step(self, name: str) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def parents(self, name: str) -> tuple[Step, ...]:
        return tuple(self._by_name[n] for n in self._by_name[name].parents)

    @property
    def max_foreach_depth(self) -> int:
        return max((s.foreach_depth for s in self.steps), default=0)

    def descendants(self, name: str) -> set[str]:
        """Steps reachable from `name` through one or more transitions (networkx's meaning, without networkx:
        every compile, check and run asks, and importing networkx costs more than the rest of a small compile)."""
        seen: set[str] = set()
        todo = [name]
        while todo:
            step = self._by_name.get(todo.pop())
            for n in step.next if step else ():
                if n in self._by_name and n not in seen:
                    seen.add(n)
                    todo.append(n)
        return seen

    def digraph(self):
        """The flow as a networkx DiGraph (nodes are step names)."""
        import networkx as nx

        graph = nx.DiGraph()
        for s in self.steps:
            graph.add_node(s.name)
        for s in self.steps:
            for n in s.next:
                # A recursive step's self-edge is a loop over its own iterations, not a cycle of the graph.
                if n in self._by_name and not (n == s.name and s.is_recursive):
                    graph.add_edge(s.name, n)
        return graph

    def to_dict(self) -> dict:
        plain = _plain(self)
        # a flow without configs, multiple or separator parameters reads as it did before they existed
        if not self.configs:
            del plain["configs"]
        if not self.triggers:
            del plain["triggers"]
        for param in plain["parameters"]:
            for key in ("multiple", "separator"):
                if not param[key]:
                    del param[key]
        return {"ir_version": IR_VERSION, "flow": plain}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, indent=2) + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, Location):
        return str(value)
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if (
        isinstance(value, tuple)
        and value
        and all(isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str) for v in value)
    ):
        return {k: _plain(v) for k, v in value}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------------
# Derived structure


def derive_structure(steps: list[Step]) -> Structure:
    """Topological order, parents, the split each join closes, foreach scopes (see flowc/contract/graph.py).

    The runtime derives its view of the graph with the same function, so the
    compiled workflow and the tasks inside it agree on every step's inputs.
    """
    return derive([Node(s.name, s.next, s.foreach_var, s.takes_inputs, s.switch) for s in steps])


def with_structure(steps: list[Step], structure: Structure) -> list[Step]:
    """Steps in topological order with their derived fields filled in."""
    from dataclasses import replace

    by_name = {s.name: s for s in steps}
    return [
        replace(
            by_name[name],
            parents=tuple(structure.parents.get(name, ())),
            closes=structure.closes.get(name),
            matching_join=structure.matching_join.get(name),
            foreach_scope=structure.scope.get(name, ()),
            meeting=structure.meeting.get(name),
            meets=structure.meets.get(name, ()),
        )
        for name in structure.order
    ]
