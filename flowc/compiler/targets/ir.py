"""Target `ir`: the IR itself as canonical JSON (sorted keys, `ir_version`)."""

from __future__ import annotations

from flowc.compiler.ir import FlowGraph
from flowc.compiler.options import Options

SUFFIX = ".ir.json"


def lower(flow: FlowGraph, options: Options) -> FlowGraph:
    return flow


def check(flow: FlowGraph, document: FlowGraph, options: Options) -> list:
    return []


def render(document: FlowGraph, options: Options) -> str:
    return document.to_json()


def unsupported(flow: FlowGraph, options: Options) -> list:
    return []
