"""Metaflow's docs on several cards per step: `@card(id=...)` twice, each filled through
`current.card["id"]`, one of them a blank card; Artifact shows a value by its repr, Image a PNG."""

import struct
import zlib

from metaflow import FlowSpec, card, current, step
from metaflow.cards import Artifact, Image, Markdown


def tiny_png(width: int = 4, height: int = 4) -> bytes:
    """A grey PNG, as a plotting library would hand back (real flows use Image.from_matplotlib)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class SeveralCardsFlow(FlowSpec):
    @card(id="overview")
    @card(type="blank", id="plots")
    @step
    def start(self):
        self.config = {"layers": [64, 32], "dropout": 0.2}
        current.card["overview"].append(Markdown("# Overview"))
        current.card["overview"].append(Artifact(self.config, name="config"))
        current.card["plots"].append(Image(tiny_png(), label="loss curve"))
        self.next(self.end)

    @step
    def end(self):
        print("config layers", self.config["layers"])


if __name__ == "__main__":
    SeveralCardsFlow()
