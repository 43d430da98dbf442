"""The run report as one HTML page: inline CSS, SVG and a few lines of JS; nothing is fetched from anywhere.

Every value that comes from the run or the flow (step names, artifact reprs,
parameters, errors) goes through html.escape; the page's only script reads
no data from the page text.
"""

from __future__ import annotations

import time
from html import escape

from flowc.runtime import graph_svg
from flowc.report.facts import RunFacts, TaskFacts

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330;background:#fafbfc}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #dde}
.meta{color:#556} .badge{padding:1px 8px;border-radius:10px;color:#fff;font-weight:600}
table{border-collapse:collapse;margin:4px 0} td,th{padding:3px 10px;border-bottom:1px solid #e4e6eb;text-align:left;
vertical-align:top} th{font-weight:600;color:#445}
code,.repr{font-family:ui-monospace,monospace;font-size:12px;white-space:pre-wrap;word-break:break-all}
.graph .node rect{stroke:#334;stroke-width:1.2} .graph .name{font-weight:600;text-anchor:middle;fill:#fff}
.graph .detail{font-size:11px;text-anchor:middle;fill:#fff} .graph .edge{stroke:#778;stroke-width:1.5}
.graph .arrowhead{fill:#778}
.status-ok{--c:#2e8540} .status-caught{--c:#b8860b} .status-failed{--c:#c62828} .status-running{--c:#1565c0}
.status-not-run{--c:#8a8f98} .status-runner-gone{--c:#6a1b9a} .status-unreadable{--c:#6a1b9a}
.status-interrupted{--c:#e65100}
.graph .node rect{fill:var(--c,#8a8f98)} .badge{background:var(--c,#8a8f98)}
.timeline td.track{width:60%;min-width:300px} .track div.lane{position:relative;height:14px;background:#eef0f3}
.lane span{position:absolute;top:0;height:14px;min-width:2px;background:var(--c,#8a8f98)}
details{margin:2px 0} summary{cursor:pointer}
.hidden{display:none}
"""

# Clicking a step in the graph or in a table shows only that step's tasks; clicking again shows all.
SCRIPT = """
(function(){
  var chosen=null;
  function show(step){
    chosen=(chosen===step)?null:step;
    document.querySelectorAll('[data-task-of]').forEach(function(row){
      row.classList.toggle('hidden', chosen!==null && row.getAttribute('data-task-of')!==chosen);
    });
  }
  document.querySelectorAll('.graph .node').forEach(function(node){
    node.addEventListener('click', function(){ show(node.getAttribute('data-step')); });
  });
})();
"""


def render(facts: RunFacts) -> str:
    """The whole page."""
    title = f"{facts.flow}/{facts.run_id}"
    counts = {s.name: len(s.tasks) for s in facts.steps}
    body = [
        f"<h1>{escape(title)} <span class=\"badge {_status_class(facts.status)}\">{escape(facts.status)}</span></h1>",
        f"<div class=\"meta\">started {_when(facts.started)} · finished {_when(facts.finished)}"
        f" · took {_seconds(facts.started, facts.finished)}"
        + (f" · resumed from {escape(facts.origin_run_id)}" if facts.origin_run_id else "")
        + "</div>",
    ]
    if facts.problem:
        body.append(f"<p class=\"problem\">{escape(facts.problem)}</p>")
    body.append("<h2>Graph</h2>")
    if facts.graph_known:
        body.append(graph_svg.render(facts.steps, counts))
    else:
        body.append("<p>The flow file was not found: no graph or resources (pass --flow FLOW.py).</p>")
    body += _parameters(facts) + _timeline(facts) + _steps(facts)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>flowc report: {escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(body)}<script>{SCRIPT}</script></body></html>\n"
    )


def _parameters(facts: RunFacts) -> list[str]:
    out = ["<h2>Parameters</h2>"]
    if not facts.params:
        return out + ["<p>none</p>"]
    rows = "".join(
        f"<tr><th>{escape(str(k))}</th><td><code>{escape(str(v))}</code></td></tr>"
        for k, v in sorted(facts.params.items())
    )
    return out + [f"<table class=\"params\">{rows}</table>"]


def _timeline(facts: RunFacts) -> list[str]:
    tasks = [t for s in facts.steps for t in s.tasks]
    starts = [t.started for t in tasks if t.started] + ([facts.started] if facts.started else [])
    ends = [t.finished for t in tasks if t.finished] + ([facts.finished] if facts.finished else [])
    origin = min(starts) if starts else 0.0
    span = max(max(ends, default=origin) - origin, 1e-3)
    rows = []
    for t in sorted(tasks, key=lambda t: (t.started or float("inf"), t.step, t.id)):
        lanes = "".join(
            _bar(
                a.get("started_at"),
                a.get("finished_at"),
                a.get("status", "?"),
                origin,
                span,
                f"attempt {a.get('attempt')}: {a.get('status')}",
            )
            for a in t.attempts
        )
        if not t.attempts:
            lanes = _bar(t.started, t.finished, t.status, origin, span, t.status)
        offset = f"+{t.started - origin:.2f}s" if t.started else "-"
        rows.append(
            f"<tr data-task-of=\"{escape(t.step)}\"><td>{escape(t.step)}/{escape(t.id)}</td>"
            f"<td><span class=\"badge {_status_class(t.status)}\">{escape(t.status)}</span></td>"
            f"<td>{offset}</td><td>{_seconds(t.started, t.finished)}</td><td>{len(t.attempts) or 1}</td>"
            f"<td class=\"track\"><div class=\"lane\">{lanes}</div></td></tr>"
        )
    out = [
        "<h2>Timeline</h2>",
        "<table class=\"timeline\"><tr><th>task</th><th>status</th><th>start</th>"
        "<th>duration</th><th>attempts</th><th></th></tr>",
        *rows,
        "</table>",
    ]
    if facts.tasks_left_out:
        out.append(f"<p>{facts.tasks_left_out} more tasks not shown.</p>")
    return out


def _bar(start, end, status, origin, span, label) -> str:
    if not start:
        return ""
    left = (start - origin) / span * 100
    width = ((end or start) - start) / span * 100
    return (
        f"<span class=\"{_status_class(status)}\" style=\"left:{left:.2f}%;width:{width:.2f}%\" "
        f"title=\"{escape(label)}\"></span>"
    )


def _steps(facts: RunFacts) -> list[str]:
    out = ["<h2>Steps</h2>"]
    for step in facts.steps:
        out.append(
            f"<h3 id=\"step-{escape(step.name)}\">{escape(step.name)} "
            f"<span class=\"badge {_status_class(step.status)}\">{escape(step.status)}</span></h3>"
        )
        if step.resources:
            cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in step.resources.items())
            out.append(f"<table class=\"resources\">{cells}</table>")
        for task in step.tasks:
            out.append(_task(task))
    return out


def _task(task: TaskFacts) -> str:
    rows = "".join(
        f"<tr><td>{escape(a.name)}</td><td>{escape(a.type)}</td><td>{_size(a.size)}</td>"
        f"<td class=\"repr\">{escape(a.preview)}</td></tr>"
        for a in task.artifacts
    )
    errors = "".join(
        f"<p>attempt {a.get('attempt')}: <code>{escape(str(a['error']))}</code></p>"
        for a in task.attempts
        if a.get("error")
    )
    cards = "".join(f" <a href=\"{escape(url)}\">card</a>" for url in task.cards)
    problem = f"<p>{escape(task.problem)}</p>" if task.problem else ""
    table = (
        (f"<table class=\"artifacts\"><tr><th>artifact</th><th>type</th><th>size</th><th>value</th></tr>{rows}</table>")
        if rows
        else "<p>no artifacts</p>"
    )
    return (
        f"<details data-task-of=\"{escape(task.step)}\"><summary>task {escape(task.id)} "
        f"<span class=\"badge {_status_class(task.status)}\">{escape(task.status)}</span> "
        f"{len(task.artifacts)} artifacts{cards}</summary>{problem}{errors}{table}</details>"
    )


def _status_class(status: str) -> str:
    return "status-" + "".join(c if c.isalnum() else "-" for c in status)


def _size(size) -> str:
    if size is None:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return "?"


def _when(timestamp) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp)) if timestamp else "-"


def _seconds(start, end) -> str:
    return f"{end - start:.2f}s" if start and end else "-"
