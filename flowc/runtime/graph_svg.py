"""The flow's graph as inline SVG, each step coloured by its status in the run.

Steps are placed in layers (a step sits one layer below its deepest parent)
and drawn top to bottom; edges are straight lines with an arrow head.
Every name is escaped: a step name comes from the flow file.

It lives in the runtime because both draw it: `flowc report` (on the user's
machine) and the default @card (inside the task's container, where only the
api, contract and runtime are packaged).
"""

from __future__ import annotations

from html import escape

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 170, 44, 30, 46, 12


def layers(steps) -> dict[str, int]:
    """Step name -> layer; `steps` in topological order (the IR's), each with `.name` and `.next`."""
    layer = {}
    for step in steps:
        layer.setdefault(step.name, 0)
        for child in step.next:
            if child == step.name:
                continue  # a recursive step's loop over its iterations: drawn as a note on its box
            layer[child] = max(layer.get(child, 0), layer[step.name] + 1)
    return layer


def render(steps, task_counts: dict[str, int], details: bool = True) -> str:
    """SVG of `steps` (StepFacts: name, status, next, foreach_var); task_counts: step -> number of tasks.

    Without `details` (a card, drawn while its run goes on) each box says only its status."""
    layer = layers(steps)
    rows: dict[int, list] = {}
    for step in steps:
        rows.setdefault(layer[step.name], []).append(step)
    widest = max((len(r) for r in rows.values()), default=1)
    width = MARGIN * 2 + widest * BOX_W + (widest - 1) * GAP_X
    height = MARGIN * 2 + len(rows) * BOX_H + max(len(rows) - 1, 0) * GAP_Y
    where = {}
    for depth, row in rows.items():
        row_width = len(row) * BOX_W + (len(row) - 1) * GAP_X
        x0 = (width - row_width) / 2
        for i, step in enumerate(row):
            where[step.name] = (x0 + i * (BOX_W + GAP_X), MARGIN + depth * (BOX_H + GAP_Y))
    parts = [
        f'<svg class="graph" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="flow graph">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>',
    ]
    for step in steps:
        x, y = where[step.name]
        for child in step.next:
            if child not in where or child == step.name:
                continue
            cx, cy = where[child]
            dashed = ' stroke-dasharray="5 3"' if step.foreach_var else ""
            parts.append(
                f'<line class="edge" x1="{x + BOX_W / 2:.0f}" y1="{y + BOX_H:.0f}" x2="{cx + BOX_W / 2:.0f}" '
                f'y2="{cy - 2:.0f}"{dashed} marker-end="url(#arrow)"/>'
            )
    for step in steps:
        x, y = where[step.name]
        status_class = "status-" + "".join(c if c.isalnum() else "-" for c in step.status)
        count = task_counts.get(step.name, 0)
        detail = f"{step.status} · {count} task{'s' if count != 1 else ''}" if details else step.status
        if step.foreach_var:
            detail += f" · foreach {step.foreach_var}"
        if step.name in step.next:
            detail += " · repeats"
        parts.append(
            f'<g class="node {status_class}" data-step="{escape(step.name)}">'
            f'<title>{escape(step.name)}: {escape(detail)}</title>'
            f'<a href="#step-{escape(step.name)}">'
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="8"/>'
            f'<text x="{x + BOX_W / 2:.0f}" y="{y + 18:.0f}" class="name">{escape(_cut(step.name, 22))}</text>'
            f'<text x="{x + BOX_W / 2:.0f}" y="{y + 35:.0f}" class="detail">{escape(_cut(detail, 30))}</text>'
            '</a></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
