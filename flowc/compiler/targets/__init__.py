"""The target table: name -> module.  Modules load on first use (hera, jinja2 are heavy).

A target module provides (all pure: no files, clock, environment or network):
    SUFFIX: str                                        e.g. ".argo.yaml", used for `-o DIR`
    unsupported(flow, options) -> list[Diagnostic]     values of the IR it cannot express, located
    lower(flow, options) -> document                   the target's document (dicts, or a view model)
    check(flow, document, options) -> list[Diagnostic] platform limits measured on the built document
    render(document, options) -> str                   the text (YAML, JSON, Python)
compile_flow runs them in that order, building each document once.
"""

from __future__ import annotations

import importlib
from types import ModuleType

TARGETS: dict[str, str] = {
    "ir": "flowc.compiler.targets.ir",
    "argo": "flowc.compiler.targets.argo",
    "step-functions": "flowc.compiler.targets.step_functions",
    "airflow": "flowc.compiler.targets.airflow",
    "skypilot": "flowc.compiler.targets.skypilot",
}


def available() -> list[str]:
    """Targets whose module exists in this install."""
    import importlib.util

    return [name for name, module in TARGETS.items() if importlib.util.find_spec(module) is not None]


def load_target(name: str) -> ModuleType:
    return importlib.import_module(TARGETS[name])
