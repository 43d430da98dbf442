"""The graph derivation both sides use: the compiler's IR and the runtime's scan of the flow class.

From each step's name, `self.next` targets, foreach variable, conditional
map and whether it takes `inputs`, `derive` computes the topological order
(ties broken by source order), each step's parents, the split or foreach each
join closes, the join that closes each split, the foreach scope around each
step, and for each conditional (switch) its branches and the step where they
meet again.

A switch (`self.next({"a": self.x, "b": self.y}, condition="route")`) opens
no split: one branch runs, so its meeting step takes no `inputs` and closes
nothing.  A switch whose map names the step itself is recursive: that
self-edge is a loop of iterations of one step, not a cycle, so it is left out
of parents and of the topological order.
One function, so a compiled workflow and the runtime inside its containers
can never disagree on where a task's inputs come from.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Sequence

START, END = "start", "end"


def switch_is_recursive(name: str, switch) -> bool:
    """A switch that can name itself (its (value, step) map holds `name`): it repeats, one task per iteration,
    until the condition names another step.  One definition for the IR, the runtime and the derivation."""
    return any(target == name for _, target in switch)


def switch_branches(name: str, switch) -> tuple[str, ...]:
    """A switch's distinct targets other than itself, in map order."""
    return tuple(dict.fromkeys(t for _, t in switch if t != name))


@dataclass(frozen=True)
class Node:
    """What the derivation needs of a step, listed in source order."""

    name: str
    next: tuple[str, ...] = ()
    foreach_var: str | None = None
    takes_inputs: bool = False
    switch: tuple[tuple[str, str], ...] = ()  # a conditional: (value, step) in source order; `next` lists its steps

    @property
    def is_switch(self) -> bool:
        return bool(self.switch)

    @property
    def is_recursive(self) -> bool:
        return switch_is_recursive(self.name, self.switch)

    @property
    def branches(self) -> tuple[str, ...]:
        return switch_branches(self.name, self.switch)

    @property
    def is_foreach(self) -> bool:
        return self.foreach_var is not None and self.name != END

    @property
    def opens_split(self) -> bool:
        """A foreach, or a static split into several branches (`end` opens nothing: it has no successors).

        A switch opens no split: only one of its branches runs."""
        return self.name != END and not self.switch and (self.foreach_var is not None or len(self.next) > 1)

    @property
    def opens_switch(self) -> bool:
        """A switch whose branches must meet again: two or more distinct targets besides itself."""
        return len(self.branches) > 1


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
    branches: dict[str, tuple[str, ...]] = field(default_factory=dict)  # switch -> its targets but itself
    meeting: dict[str, str | None] = field(default_factory=dict)  # switch -> where its branches meet (None: nowhere)
    meets: dict[str, tuple[str, ...]] = field(default_factory=dict)  # meeting step -> the switches meeting there
    meeting_with_inputs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # join where a switch meets
    met_twice: dict[str, list[str]] = field(default_factory=dict)  # switch -> steps where some branches meet
    recursive: tuple[str, ...] = ()  # switches naming themselves, in source order
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
            if target == node.name and node.is_recursive:
                continue  # a recursive step's loop over its own iterations: not an edge of the graph
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
    switches = [n for n in nodes if n.is_switch]
    result.recursive = tuple(n.name for n in switches if n.is_recursive)
    for node in switches:
        result.branches[node.name] = node.branches
        # One target besides itself (a recursion's exit, or several values naming one step): nothing to meet.
        single = node.branches[0] if len(node.branches) == 1 else None
        result.meeting[node.name] = single
        if single is not None:
            result.meets[single] = result.meets.get(single, ()) + (node.name,)

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
                opens = by_name[p].opens_split or by_name[p].opens_switch
                handed.append(stacks[p] + ((p,) if opens else ()))
            known = [h for h in handed if h is not None]
            met = _meeting(known, by_name) if len(parents) > 1 and len(known) == len(handed) else None
            prefix = _common_prefix(known) if met is not None else ()
            if (
                met is not None
                and node.takes_inputs
                and prefix
                and by_name[prefix[-1]].opens_split
                and any(h == prefix for h in known)
            ):
                # A join closing its split, reached by some switch's branches before they met: the switch
                # never meets (validation says so), the join closes its split as usual.
                result.closes[name] = prefix[-1]
                stacks[name] = result.split_stack[name] = prefix[:-1]
                continue
            if met is not None:
                # The branches of one or more switches meet here: pop them, close nothing.
                incoming, switches_met = met
                for switch in switches_met:
                    if result.meeting.get(switch) is not None:
                        result.met_twice.setdefault(switch, [result.meeting[switch]]).append(name)
                    result.meeting[switch] = name
                result.meets[name] = result.meets.get(name, ()) + switches_met
                if node.takes_inputs:
                    result.meeting_with_inputs[name] = switches_met
                stacks[name] = result.split_stack[name] = incoming
                continue
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


def _meeting(handed: list[tuple[str, ...]], by_name: dict) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(the stack after, the switches met) when the handed stacks differ only by open switches on top.

    Stacks are equal below their common prefix, and every entry above it is a
    switch: the branches of those switches (innermost last) meet at this step.
    None when no switch is on top of any stack, or when a split is still open
    above the common prefix (a join's business, or a mistake validation names).
    """
    common = _common_prefix(handed)
    above = [s for h in handed for s in h[len(common) :]]
    if not all(by_name[s].is_switch for s in above):
        return None
    met = list(dict.fromkeys(reversed(above)))  # innermost first
    # Standing at the common stack, the parents come from different branches of the switch on its top.
    if common and by_name[common[-1]].is_switch:
        met.append(common[-1])
        common = common[:-1]
    return (common, tuple(met)) if met else None


def _common_prefix(stacks: list[tuple[str, ...]]) -> tuple[str, ...]:
    common = stacks[0]
    for h in stacks[1:]:
        size = 0
        while size < min(len(common), len(h)) and common[size] == h[size]:
            size += 1
        common = common[:size]
    return common


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
