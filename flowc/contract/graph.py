"""The graph derivation both sides use: the compiler's IR and the runtime's scan of the flow class.

From each step's name, `self.next` targets, foreach variable and whether it
takes `inputs`, `derive` computes the topological order (ties broken by
source order), each step's parents, the split or foreach each join closes,
the join that closes each split, and the foreach scope around each step.
One function, so a compiled workflow and the runtime inside its containers
can never disagree on where a task's inputs come from.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Sequence

START, END = "start", "end"


@dataclass(frozen=True)
class Node:
    """What the derivation needs of a step, listed in source order."""

    name: str
    next: tuple[str, ...] = ()
    foreach_var: str | None = None
    takes_inputs: bool = False

    @property
    def is_foreach(self) -> bool:
        return self.foreach_var is not None and self.name != END

    @property
    def opens_split(self) -> bool:
        """A foreach, or a static split into several branches (`end` opens nothing: it has no successors)."""
        return self.name != END and (self.foreach_var is not None or len(self.next) > 1)


@dataclass
class Structure:
    """Derived facts for each step; a fact stays None (or absent) where the graph is too broken to say."""

    order: list[str] = field(default_factory=list)
    parents: dict[str, list[str]] = field(default_factory=dict)
    closes: dict[str, str | None] = field(default_factory=dict)  # join -> the split it closes
    matching_join: dict[str, str | None] = field(default_factory=dict)  # split -> the join closing it
    scope: dict[str, tuple[str, ...]] = field(default_factory=dict)  # step -> enclosing foreach steps
    split_stack: dict[str, tuple[str, ...] | None] = field(default_factory=dict)  # open splits, outermost first
    mixed_join: dict[str, list[str]] = field(default_factory=dict)  # join -> parents from different splits
    acyclic: bool = True


def derive(nodes: Sequence[Node]) -> Structure:
    """Topological order, parents, the split each join closes, foreach scopes.

    Walks the DAG from `start` carrying the stack of open splits: a split or
    foreach pushes itself for its successors; a join pops the top, which is the
    split it closes.  Any inconsistency is recorded, not raised: the compiler's
    validation turns it into a located error, the runtime into a one-line one.
    """
    by_name = {n.name: n for n in nodes}
    source_rank = {n.name: i for i, n in enumerate(nodes)}
    successors = {name: [] for name in by_name}
    predecessors: dict[str, set[str]] = {name: set() for name in by_name}
    for node in nodes:
        for target in node.next:
            if target in by_name and node.name not in predecessors[target]:
                predecessors[target].add(node.name)
                successors[node.name].append(target)

    result = Structure()
    result.parents = {name: sorted(predecessors[name], key=source_rank.__getitem__) for name in by_name}
    order = _topological_order(successors, predecessors, source_rank)
    if order is None:
        result.acyclic = False
        result.order = list(by_name)
        return result
    result.order = order

    stacks: dict[str, tuple[str, ...] | None] = {}
    for name in order:
        node = by_name[name]
        parents = result.parents[name]
        if not parents:
            incoming = () if name == START else None
        else:
            # The stack each parent hands down to this step.
            handed = []
            for p in parents:
                if stacks.get(p) is None:
                    handed.append(None)
                    continue
                handed.append(stacks[p] + ((p,) if by_name[p].opens_split else ()))
            known = [h for h in handed if h is not None]
            incoming = known[0] if known and all(h == known[0] for h in known) else None
            if known and incoming is None and node.takes_inputs:
                result.mixed_join[name] = list(parents)
        # A step with several parents closes a split even when it forgot `inputs`
        # (validation says so), so one mistake does not cascade into others.
        if incoming is not None and (node.takes_inputs or len(parents) > 1):
            if incoming:
                result.closes[name] = incoming[-1]
                incoming = incoming[:-1]
            else:
                result.closes[name] = None
                incoming = None
        stacks[name] = incoming
        result.split_stack[name] = incoming

    for name in order:
        stack = stacks.get(name)
        if stack is not None:
            result.scope[name] = tuple(s for s in stack if by_name[s].is_foreach)
    for join, split in result.closes.items():
        if split is not None:
            result.matching_join.setdefault(split, join)
    return result


def _topological_order(successors: dict, predecessors: dict, source_rank: dict) -> list[str] | None:
    """Kahn's algorithm, always taking the ready step first in source order; None when there is a cycle."""
    indegree = {name: len(parents) for name, parents in predecessors.items()}
    ready = [(source_rank[name], name) for name, degree in indegree.items() if degree == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(name)
        for target in successors[name]:
            indegree[target] -= 1
            if indegree[target] == 0:
                heapq.heappush(ready, (source_rank[target], target))
    return order if len(order) == len(indegree) else None
