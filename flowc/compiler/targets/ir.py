"""Target `ir`: the IR itself as canonical JSON (sorted keys, `ir_version`)."""

from __future__ import annotations

from flowc.compiler.ir import FlowGraph
from flowc.compiler.options import Options

SUFFIX = ".ir.json"


def emit(flow: FlowGraph, options: Options) -> str:
    return flow.to_json()


def unsupported(flow: FlowGraph, options: Options) -> list:
    return []
