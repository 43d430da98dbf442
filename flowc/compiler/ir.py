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

from flowc.contract.graph import Node, Structure, derive  # Structure: validate.py reads it from here
IR_VERSION = 1


class StepKind(str, enum.Enum):
    """How control leaves a step (`Step.closes` says whether it is a join)."""

    START = "start"
    LINEAR = "linear"
    SPLIT = "split"  # static branch: self.next(self.a, self.b)
    FOREACH = "foreach"  # self.next(self.body, foreach="var")
    JOIN = "join"  # a join whose successor is a single step
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
class Compute:
    """Where the step runs: `local` (the orchestrator's default), `batch`, `kubernetes`, `skypilot`.

    `options` holds the backend's other decorator arguments (queue, namespace,
    node_selector, ...) as sorted (name, value) pairs.
    """

    backend: str = "local"
    options: tuple[tuple[str, Any], ...] = ()

    def get(self, name: str, default: Any = None) -> Any:
        for key, value in self.options:
            if key == name:
                return value
        return default


@dataclass(frozen=True)
class Packages:
    manager: str  # "conda" or "pypi"
    packages: tuple[tuple[str, str], ...]
    python: str | None


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
    # Derived by derive_structure:
    parents: tuple[str, ...] = ()
    closes: str | None = None  # for a join: the split or foreach step it closes
    matching_join: str | None = None  # for a split or foreach: the join that closes it
    foreach_scope: tuple[str, ...] = ()  # enclosing foreach steps, outermost first
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

    def __post_init__(self):
        object.__setattr__(self, "_by_name", {s.name: s for s in self.steps})

    def step(self, name: str) -> Step:
        return self._by_name[name]

    def has_step(self, name: str) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def successors(self, name: str) -> tuple[Step, ...]:
        return tuple(self._by_name[n] for n in self._by_name[name].next if n in self._by_name)

    def parents(self, name: str) -> tuple[Step, ...]:
        return tuple(self._by_name[n] for n in self._by_name[name].parents)

    def foreach_body(self, foreach_step: str) -> tuple[Step, ...]:
        """Steps directly or indirectly inside the scope of `foreach_step`, in order."""
        return tuple(s for s in self.steps if foreach_step in s.foreach_scope)

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def max_foreach_depth(self) -> int:
        return max((s.foreach_depth for s in self.steps), default=0)

    def digraph(self):
        """The flow as a networkx DiGraph (nodes are step names)."""
        import networkx as nx

        graph = nx.DiGraph()
        for s in self.steps:
            graph.add_node(s.name)
        for s in self.steps:
            for n in s.next:
                if n in self._by_name:
                    graph.add_edge(s.name, n)
        return graph

    def to_dict(self) -> dict:
        return {"ir_version": IR_VERSION, "flow": _plain(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, indent=2) + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, Location):
        return str(value)
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple) and value and all(isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str) for v in value):
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
    return derive([Node(s.name, s.next, s.foreach_var, s.takes_inputs) for s in steps])


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
        )
        for name in structure.order
    ]
