"""Which class in a flow file is the runnable flow, and the flow classes it inherits from.

A flow class derives from FlowSpec or from another flow class in the file.
The runnable one is the most derived (a leaf no other flow class derives
from), as the runtime's loader picks it; two unrelated leaves are two flows.
The order a subclass inherits in is Python's own method resolution order,
computed on empty stand-in classes (no user code runs).
"""

from __future__ import annotations

import ast


def flow_chain(frontend, tree: ast.Module) -> list[ast.ClassDef] | None:
    """The runnable flow class and its flow bases, most basic first; None (after an error) if there is none."""
    flows: dict[str, ast.ClassDef] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        if not any(_flow_base(frontend, base, flows) for base in node.bases):
            continue
        if node.name in flows:
            frontend.error(
                node,
                f"a second FlowSpec class '{node.name}' (the first is '{node.name}' "
                f"at line {flows[node.name].lineno}); give each flow class its own name",
            )
            return None
        flows[node.name] = node
    if not flows:
        frontend.error(
            None,
            "no FlowSpec class in this file (expected `class MyFlow(FlowSpec):` "
            "with FlowSpec imported from flowc or metaflow)",
        )
        return None
    derived_from = {base.id for node in flows.values() for base in node.bases if isinstance(base, ast.Name)}
    leaves = [node for name, node in flows.items() if name not in derived_from]
    for extra in leaves[1:]:
        frontend.error(
            extra,
            f"a second FlowSpec class '{extra.name}' (the first is '{leaves[0].name}' "
            f"at line {leaves[0].lineno}) and neither derives from the other; put one flow in each file",
        )
    return _resolution_order(frontend, flows, leaves[0])


def _flow_base(frontend, base: ast.expr, flows: dict[str, ast.ClassDef]) -> bool:
    return frontend.names.resolve(base) == "FlowSpec" or (isinstance(base, ast.Name) and base.id in flows)


def _resolution_order(frontend, flows: dict[str, ast.ClassDef], leaf: ast.ClassDef) -> list[ast.ClassDef] | None:
    root = type("FlowSpec", (), {})
    stand_ins: dict[str, type] = {}
    for name, node in flows.items():  # definition order: a base is defined before its subclasses
        bases = []
        for base in node.bases:
            if isinstance(base, ast.Name) and base.id in stand_ins:
                bases.append(stand_ins[base.id])
            elif frontend.names.resolve(base) == "FlowSpec":
                bases.append(root)
        try:
            stand_ins[name] = type(name, tuple(bases), {})
        except TypeError as exc:  # duplicate base, or no consistent order (Python refuses the class too)
            frontend.error(node, f"class '{name}' cannot derive from these flow classes: {' '.join(str(exc).split())}")
            return None
    nodes = {stand_in: flows[name] for name, stand_in in stand_ins.items()}
    return [nodes[klass] for klass in reversed(stand_ins[leaf.name].__mro__) if klass in nodes]
