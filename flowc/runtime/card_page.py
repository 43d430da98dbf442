"""Render a task's @card pages after its step and store them beside the task, before DONE.

One self-contained HTML file per card: `cards/<id or type>.html` (flowc/contract/layout.py).  The page
carries its style inline and a Content-Security-Policy that allows no script, no request and images only
from data: URIs, so it shows the same from the datastore, a laptop or a mail attachment, and a value from
the step can do nothing but be read.

A card never fails its task, as in Metaflow (which renders cards in a separate process and only logs a
failed render): an error or a card past its `timeout` is a warning, and with `save_errors` (the default)
the card's page says what went wrong instead.
"""

from __future__ import annotations

import re
import sys
import time
from html import escape

from flowc.api.cards import Artifact, CardCollector, page_name
from flowc.contract import layout
from flowc.runtime import graph_svg
from flowc.runtime.logs import StepTimeout, timeout_alarm

# An artifact whose name looks like it holds a credential is never shown by value, here or in `flowc report`.
SECRET_NAME = re.compile(r"secret|token|passw|credential|api_?key|private_?key", re.IGNORECASE)
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1d2330; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; }
.where { color: #5a6275; margin-bottom: 16px; }
table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #d5d9e2; padding: 4px 8px;
  text-align: left; vertical-align: top; } th { background: #f1f3f7; }
pre { background: #f6f7f9; padding: 8px; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
.artifact .name, .vega .name { font-weight: 600; } .note, .error { color: #8a4b00; }
figure { margin: 8px 0; } figure img { max-width: 100%; }
svg.graph rect { fill: #eef1f6; stroke: #7a8396; } svg.graph .status-this-task rect { fill: #d7ecff; stroke: #2a6fb0; }
svg.graph text { text-anchor: middle; font-size: 12px; } svg.graph .edge { stroke: #7a8396; }
svg.graph .arrowhead { fill: #7a8396; }
"""


def task_cards(func, attached: dict) -> list[dict]:
    """The step's @card arguments, one dict per card.  `--with card` adds one to every step, beside the
    step's own as in Metaflow, unless the step already writes a page of that name (it keeps its own)."""
    own = list(getattr(func, "_flowc_cards", []))
    if "card" in attached:
        extra = dict(attached["card"] or {})
        if page_name(extra) not in {page_name(c) for c in own}:
            own.append(extra)
    return own


def render_cards(context, flow, meta: dict, collector: CardCollector, key: str) -> None:
    """Write each card of the task to the datastore; a failure is a warning (and an error page), never the task's."""
    for card in collector.cards:
        name = page_name(card)
        page_key = layout.card_page_key(key, name)
        seconds = float(card.get("timeout", 45) or 0)
        try:
            try:
                with timeout_alarm(seconds, context.request.step):
                    page = _page(context, flow, meta, card, collector.components_of(card))
            except StepTimeout:
                raise TimeoutError(f"rendering took longer than the card's timeout of {seconds:g} s") from None
        except Exception as exc:  # noqa: BLE001 - a component's or value's own code failed
            print(
                f"flowc.runtime: warning: step '{context.request.step}': card '{name}' failed to render: "
                f"{type(exc).__name__}: {exc}",
                file=sys.stderr,
            )
            if not card.get("save_errors", True):
                continue
            page = _document(
                f"card '{name}' failed",
                _where(context),
                f"<p class='error'>{escape(f'{type(exc).__name__}: {exc}')}</p>",
            )
        try:
            context.store.write_text(page_key, page)
        except Exception as exc:  # noqa: BLE001 - losing a card must not fail the task (Metaflow's rule too)
            print(f"flowc.runtime: warning: could not store card '{name}': {exc}", file=sys.stderr)


def _where(context) -> str:
    request = context.request
    return f"{context.flow}/{request.run_id}/{request.step}/{request.stored_task_id}"


def _page(context, flow, meta: dict, card: dict, components: list) -> str:
    body = []
    if card.get("type", "default") == "default":
        body.append(_task_section(meta))
        body.append("<h2>Flow</h2>" + graph_svg.render(_graph_steps(context), {}, details=False))
        body.append(_artifacts_section(context, flow, meta))
    if components:
        body.append("<div class='components'>" + "".join(c.html() for c in components) + "</div>")
    title = f"{context.request.step} · {card.get('id') or card.get('type', 'default')}"
    return _document(title, _where(context), "".join(body))


def _document(title: str, where: str, body: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1><div class='where'>{escape(where)}</div>{body}</body></html>"
    )


def _task_section(meta: dict) -> str:
    started, finished = meta.get("started_at"), meta.get("finished_at")
    rows = [
        ("status", meta.get("status")),
        ("attempt", meta.get("attempt")),
        ("started", _clock(started)),
        ("finished", _clock(finished)),
        ("duration", f"{finished - started:.2f} s" if started and finished else ""),
    ]
    if meta.get("exception"):
        rows.append(("exception (@catch)", meta["exception"]))
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
    return f"<h2>Task</h2><table class='task'>{cells}</table>"


def _clock(seconds) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds)) if seconds else ""


def _artifacts_section(context, flow, meta: dict) -> str:
    """The artifacts this step set (and its parameters) by repr; the ones it carries on from its parents by name."""
    own = {n: v for n, v in vars(flow).items() if not n.startswith("_")}
    own.update(context.parameter_values)
    rows = "".join(
        f"<tr><td>{_hidden(name) if SECRET_NAME.search(name) else Artifact(value, name).html()}</td></tr>"
        for name, value in sorted(own.items())
    )
    inherited = sorted(n for n in meta.get("artifacts", {}) if n not in own)
    carried = (
        f"<p class='note'>carried on from the parents, not loaded for the card: {escape(', '.join(inherited))}</p>"
        if inherited
        else ""
    )
    return f"<h2>Artifacts</h2><table class='artifacts'>{rows}</table>{carried}"


def _hidden(name: str) -> str:
    return f"<div class='artifact'><div class='name'>{escape(name)}</div><p class='note'>(not shown: the name looks like a credential)</p></div>"


class _GraphStep:
    def __init__(self, info, status: str):
        self.name, self.next, self.foreach_var, self.status = info.name, info.next, info.foreach_var, status


def _graph_steps(context) -> list:
    """The runtime graph's steps in a topological order (parents first), as graph_svg draws them."""
    steps, order, placed = context.steps, [], set()
    pending = list(steps)
    while pending:
        ready = [n for n in pending if all(p in placed or p == n for p in steps[n].parents)] or pending[:1]
        for name in ready:
            order.append(name)
            placed.add(name)
            pending.remove(name)
    return [_GraphStep(steps[n], "this task" if n == context.request.step else "step") for n in order]
