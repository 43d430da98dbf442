"""The target table: name -> module.  Modules load on first use (hera, jinja2 are heavy).

A target module provides:
    SUFFIX: str                                   e.g. ".argo.yaml", used for `-o DIR`
    emit(flow: FlowGraph, options: Options) -> str  pure: no files, clock, env or network
    unsupported(flow, options) -> list[Diagnostic]  shapes or values it cannot express
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
