"""Metaflow 2.16's StepMutator / FlowMutator classes in a flow file: what they may do under flowc.

A mutator runs inside the task (flowc/runtime/user_decorators.py).  One that changes the
flow (adds or removes a decorator or a parameter) would change what Metaflow builds before
the run, while every flowc target was compiled from the source as written: such a call is a
located error here, naming what to write instead.  Read-only mutators (inspecting
`decorator_specs`, `parameters`, `configs`) are fine.
"""

from __future__ import annotations

import ast
from typing import Iterator

MUTATOR_BASES = ("StepMutator", "FlowMutator")
CHANGES = {
    "add_decorator": "adds a decorator",
    "remove_decorator": "removes a decorator",
    "add_parameter": "adds a parameter",
    "remove_parameter": "removes a parameter",
}


def flow_changing_calls(tree: ast.Module, names) -> Iterator[tuple[ast.Call, str]]:
    """(call, message) for each call in a mutator class of this module that would change the flow."""
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        kinds = [names.resolve(base) for base in cls.bases]
        kind = next((k for k in kinds if k in MUTATOR_BASES), None)
        if kind is None:
            continue
        for node in ast.walk(cls):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CHANGES:
                yield (
                    node,
                    (
                        f"{kind} {cls.name} {CHANGES[node.func.attr]} ({node.func.attr}): flowc compiles decorators and "
                        "parameters from the source, so no target would see it; write it on the step or flow instead"
                    ),
                )
