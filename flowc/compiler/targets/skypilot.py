"""Target `skypilot`: one SkyPilot task per `@skypilot` step (the task itself: flowc/compiler/lower/skypilot.py).

Output (lower, then render): a multi-document YAML.  The first document holds only the
flow's name (SkyPilot's chain-DAG header, so `sky`'s own loader reads the
file); each further document is one complete SkyPilot task, and
`flowc compile --target skypilot -o DIR` writes each to its own file
(`split_documents`).  The tasks are meant to be launched one at a time, by the
orchestrator's launcher (`python -m flowc.runtime.skypilot_launch`) or by hand with
`sky jobs launch FILE --env FLOWC_RUN_ID=... --env FLOWC_PACKAGE=...`.
"""

from __future__ import annotations

import re

from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.ir import FlowGraph
from flowc.compiler.lower.skypilot import skypilot_steps, step_problems, task_yaml
from flowc.compiler.lower.yaml import dump_yaml
from flowc.compiler.options import Options

SUFFIX = ".sky.yaml"


def unsupported(flow: FlowGraph, options: Options) -> list[Diagnostic]:
    steps = skypilot_steps(flow)
    if not steps:
        return [
            Diagnostic(
                flow.location,
                "skypilot: no step has @skypilot; add it to the steps to run through "
                "SkyPilot, or compile with --with skypilot",
            )
        ]
    return [d for step in steps for d in step_problems(step)]


def lower(flow: FlowGraph, options: Options) -> list[str]:
    """The chain header, then one task document (YAML with its header comment) per @skypilot step."""
    return [dump_yaml({"name": flow.name})] + [task_yaml(flow, step, options) for step in skypilot_steps(flow)]


def check(flow: FlowGraph, documents: list[str], options: Options) -> list[Diagnostic]:
    return []


def render(documents: list[str], options: Options) -> str:
    return "---\n".join(documents)


def split_documents(text: str) -> dict[str, str]:
    """{task name: document} from the rendered text, for `-o DIR` (one file per step); the header is dropped."""
    found = {}
    for document in re.split(r"^---\n", text, flags=re.MULTILINE):
        match = re.search(r"^name: (\S+)$", document, flags=re.MULTILINE)
        if match and re.search(r"^run:", document, flags=re.MULTILINE):
            found[match.group(1)] = document
    return found
