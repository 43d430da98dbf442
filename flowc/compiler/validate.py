"""Graph rules as a list of small checks; every check runs, every problem is reported.

Each check takes the IR and its derived Structure and yields located
Diagnostics.  Per-target rules live with each target (`unsupported`).
"""

from __future__ import annotations

from typing import Iterable

from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.ir import FlowGraph, StepKind, Structure

MAX_STEPS = 5000  # far above any real flow; bounds compile time and output size


def check_start_and_end(flow: FlowGraph, structure: Structure) -> Iterable[Diagnostic]:
    for name in ("start", "end"):
        if not flow.has_step(name):
            yield Diagnostic(flow.location, f"flow '{flow.name}' has no '{name}' step")
    if flow.has_step("start") and flow.step("start").takes_inputs:
        yield Diagnostic(flow.step("start").location, "step 'start' cannot take inputs: nothing comes before it")


def check_next_targets(flow: FlowGraph, structure: Structure) -> Iterable[Diagnostic]:
    names = [s.name for s in flow.steps]
    from flowc.contract.decorators import did_you_mean

    for step in flow.steps:
        for target in step.next:
            if not flow.has_step(target):
                yield Diagnostic(
                    step.next_location or step.location,
                    f"self.next(self.{target}) in step '{step.name}': there is no step '{target}'"
                    + did_you_mean(target, names),
                )
        if len(set(step.next)) != len(step.next):
            yield Diagnostic(
                step.next_location or step.location, f"step '{step.name}' names the same step twice in self.next"
            )


def check_no_cycles(flow: FlowGraph, structure: Structure) -> Iterable[Diagnostic]:
    if structure.acyclic:
        return
    import networkx as nx

    cycle = nx.find_cycle(flow.digraph())
    path = " -> ".join([u for u, _ in cycle] + [cycle[0][0]])
    first = flow.step(cycle[0][0])
    yield Diagnostic(first.next_location or first.location, f"the flow has a cycle: {path}")


def check_reachable(flow: FlowGraph, structure: Structure) -> Iterable[Diagnostic]:
    if not flow.has_step("start") or _broken_transitions(flow):
        return  # the missing or broken transition is the error worth reading
    reached = flow.descendants("start") | {"start"}
    for step in flow.steps:
        if step.name not in reached:
            yield Diagnostic(step.location, f"step '{step.name}' is unreachable from 'start'")


def _broken_transitions(flow: FlowGraph) -> bool:
    return any((not s.next and s.name != "end") or any(not flow.has_step(n) for n in s.next) for s in flow.steps)


def _reachable(flow: FlowGraph) -> set[str]:
    if not flow.has_step("start"):
        return set()
    return flow.descendants("start") | {"start"}


def check_joins_take_inputs(flow: FlowGraph, structure: Structure) -> Iterable[Diagnostic]:
    if not structure.acyclic:
        return
    reached = _reachable(flow)
    for step in flow.steps:
        parents = [p for p in structure.parents.get(step.name, []) if p in reached]
        if len(parents) > 1 and not step.takes_inputs and step.name not in structure.meets:
            yield Diagnostic(
                step.location,
                f"step '{step.name}' joins {', '.join(parents)}: "
                f"a join must take inputs: def {step.name}(self, inputs)",
            )
        elif (
            step.takes_inputs
            and step.name != "start"
            and not step.is_recursive  # check_recursion says why
            and structure.closes.get(step.name, "") is None
        ):
            yield Diagnostic(
                step.location,
                f"step '{step.name}' takes inputs but closes no branch or foreach: "
                f"remove 'inputs' (def {step.name}(self))",
            )


def check_splits_closed(flow: FlowGraph, structure: Structure) -> Iterable[Diagnostic]:
    if not structure.acyclic:
        return
    closers: dict[str, list[str]] = {}
    for join, split in structure.closes.items():
        if split is not None:
            closers.setdefault(split, []).append(join)
    for join, parents in structure.mixed_join.items():
        yield Diagnostic(
            flow.step(join).location,
            f"join '{join}' mixes steps from different branches or foreach scopes ({', '.join(parents)}); "
            "each join closes exactly one split",
        )
    for step in flow.steps:
        if step.kind not in (StepKind.SPLIT, StepKind.FOREACH) or step.name not in structure.split_stack:
            continue
        joins = closers.get(step.name, [])
        what = "foreach" if step.kind is StepKind.FOREACH else "branches"
        if not joins:
            yield Diagnostic(
                step.next_location or step.location,
                f"the {what} of '{step.name}' are never joined: add a step taking (self, inputs)"
                if what == "branches"
                else f"the foreach of '{step.name}' is never joined: add a step taking (self, inputs)",
            )
        for extra in joins[1:]:
            yield Diagnostic(
                flow.step(extra).location,
                f"the {what} of '{step.name}' are joined twice: by '{joins[0]}' and by '{extra}'",
            )


def check_conditionals(flow: FlowGraph, structure: Structure) -> Iterable[Diagnostic]:
    """Each conditional's branches meet at one step (or `end`), which takes no inputs: only one branch runs."""
    if not structure.acyclic:
        return
    reached = _reachable(flow)
    for step in flow.steps:
        if not step.is_switch or step.name not in reached or not step.branches:
            continue
        where = step.next_location or step.location
        shown = ", ".join(f"{value!r} -> {target}" for value, target in step.switch)
        if step.name in structure.met_twice:
            steps = " and ".join(structure.met_twice[step.name])
            yield Diagnostic(
                where,
                f"the branches of conditional '{step.name}' ({shown}) meet in parts, at {steps}: "
                "every branch must reach the same meeting step (or 'end')",
            )
        elif structure.meeting.get(step.name) is None and step.name in structure.split_stack:
            yield Diagnostic(
                where,
                f"the branches of conditional '{step.name}' ({shown}) do not meet at one step: "
                "every branch must reach the same meeting step (or 'end') before any join",
            )
    for name, switches in structure.meeting_with_inputs.items():
        yield Diagnostic(
            flow.step(name).location,
            f"step '{name}' is where the branches of conditional '{', '.join(switches)}' meet: only one branch "
            f"runs, so it takes no inputs: def {name}(self)",
        )


def check_recursion(flow: FlowGraph, structure: Structure) -> Iterable[Diagnostic]:
    """@recursion bounds a recursive step only; a recursive step is not a join (its iterations are its inputs)."""
    for step in flow.steps:
        use = step.decorator("recursion")
        if use is not None and not step.is_recursive:
            yield Diagnostic(
                use.location,
                f"@recursion on step '{step.name}', which is not recursive: it bounds a step whose "
                f"self.next({{..., 'again': self.{step.name}}}, condition=...) names itself; remove it",
            )
        if step.is_recursive and step.takes_inputs:
            yield Diagnostic(
                step.location,
                f"recursive step '{step.name}' cannot be a join: each iteration's input is the iteration before it",
            )


def check_size(flow: FlowGraph, structure: Structure) -> Iterable[Diagnostic]:
    if len(flow.steps) > MAX_STEPS:
        yield Diagnostic(flow.location, f"flow has {len(flow.steps)} steps; flowc compiles at most {MAX_STEPS}")


def check_parameters(flow: FlowGraph, structure: Structure) -> Iterable[Diagnostic]:
    seen: dict[str, int] = {}
    step_names = {s.name for s in flow.steps}
    for p in flow.parameters:
        if p.name in seen:
            yield Diagnostic(p.location, f"parameter '{p.name}' is defined twice (first at line {seen[p.name]})")
        seen[p.name] = p.location.line
        if p.attribute in step_names:
            yield Diagnostic(p.location, f"parameter attribute '{p.attribute}' has the name of a step")


def check_scheduled_parameters(flow: FlowGraph, structure: Structure) -> Iterable[Diagnostic]:
    """A scheduled run is started by the orchestrator with no parameters given: a required one stops every run."""
    if flow.schedule is None:
        return
    for p in flow.parameters:
        if p.required and not p.has_default:
            yield Diagnostic(
                p.location,
                f"parameter '{p.name}' is required, but @schedule (line "
                f"{flow.schedule.location.line}) starts runs that give no parameters, so "
                "no scheduled run could ever start; give it a default or drop required=True",
            )


CHECKS = [
    check_size,
    check_start_and_end,
    check_next_targets,
    check_no_cycles,
    check_reachable,
    check_joins_take_inputs,
    check_splits_closed,
    check_conditionals,
    check_recursion,
    check_parameters,
    check_scheduled_parameters,
]


def validate(flow: FlowGraph, structure: Structure) -> list[Diagnostic]:
    """Every diagnostic of every check."""
    diagnostics: list[Diagnostic] = []
    for check in CHECKS:
        diagnostics.extend(check(flow, structure))
    return diagnostics
