"""What each target honours, checked: every construct a flow uses, judged by the capability table.

The table is flowc/compiler/capability_table.py (`FEATURES[target][construct]`);
this module finds each construct where the flow writes it and reports, all at
once and at its line, what the target cannot express.  Where a decorator as a
whole is refused, warned or noted, its arguments follow that decision and the
check reports the decorator once.
"""

from __future__ import annotations

from typing import Iterator

from flowc.compiler.capability_table import (
    FEATURES,
    HONOUR,
    NOTE,
    ORCHESTRATORS,
    PARAMETER_TYPES,
    REFUSE,
    SEVERITY,
    WARN,
    Decision,
    all_constructs,
    argument_construct,
    missing_decisions,
)
from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.ir import DecoratorUse, FlowGraph, Location, StepKind
from flowc.contract.decorators import DECORATORS

__all__ = ["FEATURES", "HONOUR", "NOTE", "REFUSE", "WARN", "all_constructs", "check", "missing_decisions", "uses"]


# ---------------------------------------------------------------------------
# The check


def uses(flow: FlowGraph, target: str) -> Iterator[tuple[str, Location]]:
    """(construct, where it is written) for everything `flow` uses that `target` compiles."""
    for construct, where, _ in judged_uses(flow, target):
        yield construct, where


def judged_uses(flow: FlowGraph, target: str) -> Iterator[tuple[str, Location, str]]:
    """(construct, where, the column that judges it) for everything `flow` uses that `target` compiles.

    A @skypilot step's resources are its SkyPilot task's, wherever the
    orchestrator's launcher runs: the skypilot column judges them (so `disk=` is
    honoured on step-functions there, and `shared_memory=` refused on argo).
    """
    steps = [s for s in flow.steps if target != "skypilot" or s.compute.backend == "skypilot"]
    if not steps:  # --target skypilot without a @skypilot step: the target says so itself
        return
    if any(s.kind is not StepKind.END for s in steps):
        yield "linear", flow.location, target
    for step in steps:
        if step.kind is StepKind.SPLIT:
            yield "split", step.next_location or step.location, target
        if step.kind is StepKind.SWITCH:
            where = step.next_location or step.location
            yield ("recursion" if step.is_recursive else "conditional"), where, target
            if step.is_recursive and step.branches[1:]:
                yield "conditional", where, target  # a recursive step that also chooses among several exits
        if step.kind is StepKind.FOREACH:
            yield ("nested foreach" if step.foreach_depth else "foreach"), step.next_location or step.location, target
        launched = step.compute.backend == "skypilot" and target in ORCHESTRATORS
        for use in step.decorators:
            column = "skypilot" if launched and use.name == "resources" else target
            for construct, where in _decorator_uses(use):
                yield construct, where, (column if construct != "@resources" else target)
    for param in flow.parameters:
        yield PARAMETER_TYPES.get(param.type, f"Parameter({param.type})"), param.location, target
        if param.multiple:
            yield "Parameter(multiple=True)", param.location, target
        if param.separator is not None:
            yield "Parameter(separator=)", param.location, target
    for config in flow.configs:
        yield "Config", config.location, target
    for use in flow.decorators:
        for construct, where in _decorator_uses(use):
            yield construct, where, target


def _decorator_uses(use: DecoratorUse) -> Iterator[tuple[str, Location]]:
    spec = DECORATORS.get(use.name)
    if spec is None:  # a foreign decorator: the frontend decided it, the same for every target
        return
    yield f"@{use.name}", use.location
    for key, value in use.args:
        arg = spec.arg(key)
        # An argument left at its default asks for nothing a target could drop.
        if arg is not None and value is not None and value != arg.default:
            yield argument_construct(use.name, key), use.location


def check(flow: FlowGraph, target: str) -> list[Diagnostic]:
    """Every construct `flow` uses that `target` cannot express, at its line, all at once.

    A refused decorator is reported once, not once per argument.  Targets
    without a column (`ir`) honour everything.
    """
    if target not in FEATURES:
        return []
    problems: list[Diagnostic] = []
    reported: set[tuple[str, Location]] = set()
    for construct, where, column in judged_uses(flow, target):
        decision = FEATURES[column].get(construct) or Decision(
            REFUSE, "flowc has no decision for it on this target yet"
        )
        if decision.verdict == HONOUR:
            continue
        decorator = construct.partition("(")[0]
        if (decorator, where) in reported:
            continue
        reported.add((construct if "(" in construct else decorator, where))
        on = "" if column == target else " on a @skypilot step (its resources are the SkyPilot task's)"
        problems.append(
            Diagnostic(
                where,
                f"{target} cannot express {construct}{on}: {decision.reason}",
                severity=SEVERITY[decision.verdict],
            )
        )
    return problems
