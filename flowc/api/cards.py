"""Card components (`from metaflow.cards import Markdown, Table, ...`) and `current.card`.

A step appends components to `current.card`; after the step the runtime
renders each @card of the task to one self-contained HTML page
(flowc/runtime/card_page.py).  Each component turns itself into HTML here,
and every text it shows goes through `html.escape`: a value from the step
(an artifact, a table cell, a label) can never become markup.  Images are
inlined as data: URIs; nothing on a page points off it.

Standard library only: user flows import this inside containers.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from html import escape

TRUNCATE_CHARS = 2000  # the longest repr an Artifact shows; the rest is cut with a note
TABLE_ROWS = 100  # Table.from_dataframe shows this many rows unless truncate=False
CHART_ROWS = 50  # a VegaChart's data shown as a table: at most this many rows


class MetaflowCardComponent:
    """The base of every component: `html()` is the component as escaped HTML."""

    def html(self) -> str:  # a subclass written for Metaflow renders for Metaflow's own page, not ours
        return f"<pre class='unknown'>{escape(_short_repr(self))}</pre>"


class Markdown(MetaflowCardComponent):
    """Markdown text: headings, paragraphs, lists, **bold**, *italic*, `code`, fenced code blocks, [text](#anchors).

    Rendered here in Python (Metaflow renders it in the browser with a script): the text is escaped first, then
    the few constructs above become tags; a link is kept only when it stays on the page (`#...`)."""

    def __init__(self, text: str = ""):
        self.text = str(text)

    def update(self, text: str) -> None:
        self.text = str(text)

    def html(self) -> str:
        return f"<div class='markdown'>{markdown_html(self.text)}</div>"


class Table(MetaflowCardComponent):
    """Rows of cells under optional headers; a cell may be a component (rendered) or any value (its str)."""

    def __init__(self, data=None, headers=None, disable_updates: bool = False):
        self.data = [list(row) for row in (data or [])]
        self.headers = [str(h) for h in (headers or [])]

    @classmethod
    def from_dataframe(cls, dataframe, truncate: bool = True) -> Table:
        rows = dataframe.head(TABLE_ROWS) if truncate else dataframe
        return cls(rows.values.tolist(), [str(c) for c in dataframe.columns])

    def html(self) -> str:
        head = "".join(f"<th>{escape(h)}</th>" for h in self.headers)
        body = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>" for row in self.data)
        return f"<table class='table'>{f'<thead><tr>{head}</tr></thead>' if head else ''}<tbody>{body}</tbody></table>"


_IMAGE_TYPES = (  # (magic bytes, media type): what a data: URI may carry without the browser guessing
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


class Image(MetaflowCardComponent):
    """Image bytes (PNG, JPEG, GIF or WebP), inlined in the page as a data: URI, with an optional label."""

    def __init__(self, src: bytes = b"", label: str | None = None, disable_updates: bool = False):
        self.src = src
        self.label = label

    @classmethod
    def from_matplotlib(cls, plot, label: str | None = None) -> Image:
        """A matplotlib Figure (or anything with `savefig`, or an Axes' figure) as PNG."""
        import io  # (and matplotlib's PNG writer): only when a flow draws a figure

        figure = plot if hasattr(plot, "savefig") else getattr(plot, "figure", None) or plot.get_figure()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return cls(buffer.getvalue(), label)

    @classmethod
    def from_pil_image(cls, image, label: str | None = None) -> Image:
        import io

        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return cls(buffer.getvalue(), label)

    def media_type(self) -> str | None:
        data = self.src if isinstance(self.src, (bytes, bytearray)) else b""
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return "image/webp"
        return next((kind for magic, kind in _IMAGE_TYPES if data.startswith(magic)), None)

    def html(self) -> str:
        label = f"<figcaption>{escape(str(self.label))}</figcaption>" if self.label else ""
        kind = self.media_type()
        if kind is None:
            what = type(self.src).__name__
            return f"<figure class='image error'><p>Image: not PNG, JPEG, GIF or WebP bytes (got {escape(what)})</p>{label}</figure>"
        data = base64.b64encode(bytes(self.src)).decode("ascii")
        alt = escape(str(self.label or "image"), quote=True)
        return f"<figure class='image'><img alt=\"{alt}\" src=\"data:{kind};base64,{data}\">{label}</figure>"


class Artifact(MetaflowCardComponent):
    """A value shown by its repr (cut at TRUNCATE_CHARS), under its name."""

    def __init__(self, artifact=None, name: str | None = None, compressed: bool = True):
        self.artifact = artifact
        self.name = name

    def update(self, artifact) -> None:
        self.artifact = artifact

    def html(self) -> str:
        name = f"<div class='name'>{escape(str(self.name))}</div>" if self.name else ""
        return f"<div class='artifact'>{name}<pre>{escape(_short_repr(self.artifact))}</pre></div>"


class VegaChart(MetaflowCardComponent):
    """A Vega-Lite spec.  A page that loads no script cannot draw it: it shows the chart's title, its inline
    data as a table (`data.values`, first CHART_ROWS rows) and the spec as JSON, and says so."""

    def __init__(self, spec: dict | None = None, show_controls: bool = False):
        self.spec = dict(spec or {})

    @classmethod
    def from_altair_chart(cls, chart) -> VegaChart:
        return cls(chart.to_dict())

    def update(self, spec: dict | None = None) -> None:
        self.spec = dict(spec or {})

    def html(self) -> str:
        title = self.spec.get("title")
        title = title.get("text") if isinstance(title, dict) else title
        values = (self.spec.get("data") or {}).get("values") if isinstance(self.spec.get("data"), dict) else None
        table = ""
        if isinstance(values, list) and values and all(isinstance(v, dict) for v in values):
            headers = list(dict.fromkeys(k for v in values[:CHART_ROWS] for k in v))
            table = Table([[v.get(h, "") for h in headers] for v in values[:CHART_ROWS]], headers).html()
        spec_text = json.dumps(self.spec, indent=1, sort_keys=True, default=str)
        return (
            "<div class='vega'>"
            + (f"<div class='name'>{escape(str(title))}</div>" if title else "")
            + "<p class='note'>Vega-Lite chart: not drawn (this page loads no script); its data and spec:</p>"
            + table
            + f"<details><summary>spec</summary><pre>{escape(spec_text)}</pre></details></div>"
        )


def _cell(value) -> str:
    if isinstance(value, MetaflowCardComponent):
        return value.html()
    return escape(str(value))


def _short_repr(value) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001 - a repr is the value's own code
        text = f"<repr failed: {type(exc).__name__}: {exc}>"
    if len(text) > TRUNCATE_CHARS:
        text = text[:TRUNCATE_CHARS] + f"… ({len(text) - TRUNCATE_CHARS} more characters)"
    return text


# ---------------------------------------------------------------------------- Markdown, escaped first

_INLINE = (
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"__(.+?)__"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])"), r"<em>\1</em>"),
    (re.compile(r"\[([^\]]+)\]\((#[\w-]*)\)"), r'<a href="\2">\1</a>'),  # on-page anchors only
    (re.compile(r"\[([^\]]+)\]\(([^)]*)\)"), r"\1"),  # any other link: its text, never a reference off the page
)


def _inline(text: str) -> str:
    text = escape(text, quote=True)
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return text


def markdown_html(text: str) -> str:
    """The Markdown subset Metaflow's cards are written with, as HTML; every character of `text` escaped."""
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag = ""
    code: list[str] | None = None

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            out.append(f"<{list_tag}>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + f"</{list_tag}>")
            items.clear()
            list_tag = ""

    for line in str(text).splitlines():
        if code is not None:
            if line.strip().startswith("```"):
                out.append(f"<pre><code>{escape(chr(10).join(code))}</code></pre>")
                code = None
            else:
                code.append(line)
            continue
        stripped = line.strip()
        heading = re.match(r"(#{1,6})\s+(.*)", stripped)
        bullet = re.match(r"[-*+]\s+(.*)", stripped)
        numbered = re.match(r"\d+[.)]\s+(.*)", stripped)
        if stripped.startswith("```"):
            flush()
            code = []
        elif heading:
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2).rstrip('#').strip())}</h{level}>")
        elif bullet or numbered:
            tag = "ul" if bullet else "ol"
            if paragraph or (list_tag and list_tag != tag):
                flush()
            list_tag = tag
            items.append((bullet or numbered).group(1))
        elif not stripped:
            flush()
        elif stripped in ("---", "***", "___"):
            flush()
            out.append("<hr>")
        else:
            if items:
                flush()
            paragraph.append(stripped)
    if code is not None:
        out.append(f"<pre><code>{escape(chr(10).join(code))}</code></pre>")
    flush()
    return "".join(out)


# ---------------------------------------------------------------------------- current.card


class CardComponents:
    """The components of one card: what `current.card["id"]` gives (append, extend, clear, len, iterate)."""

    def __init__(self, components: list | None = None, warn=None, step: str = ""):
        self.components = components if components is not None else []
        self._warn = warn or (lambda message: None)

    def append(self, component) -> None:
        if not isinstance(component, MetaflowCardComponent):
            self._warn(
                f"current.card.append: {type(component).__name__} is not a card component "
                "(Markdown, Table, Image, Artifact, VegaChart): ignored"
            )
            return
        self.components.append(component)

    def extend(self, components) -> None:
        for component in components:
            self.append(component)

    def clear(self) -> None:
        self.components.clear()

    def refresh(self, *args, **kwargs) -> None:
        """Metaflow's live update of a running card; a flowc card is rendered once, after the step."""

    def __len__(self) -> int:
        return len(self.components)

    def __iter__(self):
        return iter(self.components)


class CardCollector:
    """`current.card` in a task: the components appended to each @card of the step, by card.

    `cards` is the step's @card arguments, one dict per card.  `current.card.append` goes to the step's one
    card, or with several to the one without an id; `current.card["id"]` to the card with that id.  As in
    Metaflow, appending where no card takes it is ignored with a warning (printed once per cause), never
    an error: a step without @card still runs."""

    def __init__(self, cards=(), step: str = "", stream=None):
        self.cards = [dict(c) for c in cards]
        self.step = step
        self._stream = stream
        self._warned: set[str] = set()
        self._by_page = {page_name(c): CardComponents(warn=self._warn) for c in self.cards}
        self._ignored = CardComponents([], warn=self._warn)

    def _warn(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            print(f"flowc.runtime: warning: step '{self.step}': {message}", file=self._stream or sys.stderr)

    def _default(self) -> CardComponents:
        if not self.cards:
            self._warn("current.card is used but the step has no @card: its components are ignored")
            return self._ignored
        unnamed = [c for c in self.cards if not c.get("id")]
        chosen = self.cards if len(self.cards) == 1 else unnamed
        if len(chosen) != 1:
            ids = ", ".join(repr(c.get("id")) for c in self.cards if c.get("id"))
            self._warn(
                f"the step has {len(self.cards)} @card and current.card.append cannot choose one: "
                f"use current.card[id] ({ids})"
            )
            return self._ignored
        return self._by_page[page_name(chosen[0])]

    def append(self, component, id: str | None = None) -> None:  # noqa: A002 - Metaflow's argument name
        (self[id] if id is not None else self._default()).append(component)

    def extend(self, components, id: str | None = None) -> None:  # noqa: A002
        (self[id] if id is not None else self._default()).extend(components)

    def clear(self) -> None:
        self._default().clear()

    def refresh(self, *args, **kwargs) -> None:
        """Metaflow's live update of a running card; a flowc card is rendered once, after the step."""

    def __getitem__(self, card_id: str) -> CardComponents:
        for card in self.cards:
            if card.get("id") == card_id:
                return self._by_page[page_name(card)]
        self._warn(f"current.card[{card_id!r}]: the step has no @card(id={card_id!r}): its components are ignored")
        return self._ignored

    def __setitem__(self, card_id: str, components) -> None:
        target = self[card_id]
        target.clear()
        target.extend(components)

    def components_of(self, card: dict) -> list:
        """The components appended to `card` (one of `cards`), for the runtime's renderer."""
        return list(self._by_page[page_name(card)].components)


def page_name(card: dict) -> str:
    """The card's page in the datastore: its id, else its type."""
    return str(card.get("id") or card.get("type") or "default")
