"""`from flowc.cards import Markdown, Table, Image, Artifact, VegaChart`: the card components (flowc/api/cards.py)."""

from flowc.api.cards import Artifact, Image, Markdown, MetaflowCardComponent, Table, VegaChart

__all__ = ["Markdown", "Table", "Image", "Artifact", "VegaChart", "MetaflowCardComponent"]
