"""The flow's graph as Mermaid or Graphviz dot, for a reviewer to see its shape."""

from __future__ import annotations

from flowc.compiler.ir import FlowGraph, StepKind

_MERMAID_SHAPES = {
    StepKind.START: ("([", "])"),
    StepKind.END: ("([", "])"),
    StepKind.SPLIT: ("{{", "}}"),
    StepKind.FOREACH: ("[/", "/]"),
    StepKind.JOIN: ("[\\", "/]"),
    StepKind.LINEAR: ("[", "]"),
    StepKind.SWITCH: ("{", "}"),
}


def _edges(step) -> list[tuple[str, str | None]]:
    """(target, label) of each edge: a conditional's edges carry the values that choose them."""
    if not step.switch:
        return [(target, "foreach" if step.kind is StepKind.FOREACH else None) for target in step.next]
    values: dict[str, list[str]] = {}
    for value, target in step.switch:
        values.setdefault(target, []).append(value)
    return [(target, ", ".join(found)) for target, found in values.items()]


def _mermaid_text(text: str) -> str:
    """A label inside Mermaid's double quotes: its quote and line breaks become entity codes and spaces."""
    return " ".join(text.replace("#", "#35;").replace('"', "#quot;").split())


def _dot_text(text: str) -> str:
    """A label inside dot's double quotes."""
    return " ".join(text.replace("\\", "\\\\").replace('"', '\\"').split())


def _label(step) -> str:
    label = step.name
    if step.foreach_var:
        label += f" foreach {step.foreach_var}"
    if step.condition:
        label += f" on {step.condition}"
    return label


def to_mermaid(flow: FlowGraph) -> str:
    lines = ["flowchart TD"]
    for step in flow.steps:
        opening, closing = _MERMAID_SHAPES[step.kind]
        lines.append(f'    {step.name}{opening}"{_label(step)}"{closing}')
    for step in flow.steps:
        arrow = "==>" if step.kind is StepKind.FOREACH else "-->"
        for target, label in _edges(step):
            if step.switch:
                lines.append(f'    {step.name} {arrow}|"{_mermaid_text(label)}"| {target}')
            else:
                lines.append(f"    {step.name} {arrow} {target}")
    return "\n".join(lines) + "\n"


def to_dot(flow: FlowGraph) -> str:
    lines = [f'digraph "{flow.name}" {{', "    node [shape=box, style=rounded];"]
    for step in flow.steps:
        shape = {StepKind.SPLIT: "diamond", StepKind.FOREACH: "parallelogram", StepKind.SWITCH: "hexagon"}.get(
            step.kind, "box"
        )
        lines.append(f'    "{step.name}" [label="{_label(step)}", shape={shape}];')
    for step in flow.steps:
        for target, label in _edges(step):
            if step.kind is StepKind.FOREACH:
                style = ' [style=bold, label="foreach"]'
            elif step.switch:
                style = f' [style=dashed, label="{_dot_text(label)}"]'
            else:
                style = ""
            lines.append(f'    "{step.name}" -> "{target}"{style};')
    lines.append("}")
    return "\n".join(lines) + "\n"
