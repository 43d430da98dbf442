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
}


def _label(step) -> str:
    label = step.name
    if step.foreach_var:
        label += f" foreach {step.foreach_var}"
    return label


def to_mermaid(flow: FlowGraph) -> str:
    lines = ["flowchart TD"]
    for step in flow.steps:
        opening, closing = _MERMAID_SHAPES[step.kind]
        lines.append(f'    {step.name}{opening}"{_label(step)}"{closing}')
    for step in flow.steps:
        arrow = "==>" if step.kind is StepKind.FOREACH else "-->"
        for target in step.next:
            lines.append(f"    {step.name} {arrow} {target}")
    return "\n".join(lines) + "\n"


def to_dot(flow: FlowGraph) -> str:
    lines = [f'digraph "{flow.name}" {{', "    node [shape=box, style=rounded];"]
    for step in flow.steps:
        shape = {StepKind.SPLIT: "diamond", StepKind.FOREACH: "parallelogram"}.get(step.kind, "box")
        lines.append(f'    "{step.name}" [label="{_label(step)}", shape={shape}];')
    for step in flow.steps:
        style = ' [style=bold, label="foreach"]' if step.kind is StepKind.FOREACH else ""
        for target in step.next:
            lines.append(f'    "{step.name}" -> "{target}"{style};')
    lines.append("}")
    return "\n".join(lines) + "\n"
