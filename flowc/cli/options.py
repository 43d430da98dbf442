"""Where compile and deploy options come from: flags > FLOWC_* environment > [tool.flowc] > defaults.

`[tool.flowc]` is read from the nearest pyproject.toml at or above the flow
file; a `[tool.flowc.<target>]` sub-table overrides it for one target.  Only
the CLI calls this: emitters receive a finished Options.
"""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path
from typing import Any, Mapping

from flowc.compiler.options import Options

_INTS = {f.name for f in fields(Options) if "int" in str(f.type)}


def find_pyproject(start: Path) -> Path | None:
    for folder in [start, *start.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def pyproject_settings(start: Path, target: str) -> dict[str, Any]:
    path = find_pyproject(start)
    if path is None:
        return {}
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            return {}
    with open(path, "rb") as f:
        table = tomllib.load(f).get("tool", {}).get("flowc", {})
    merged = {k.replace("-", "_"): v for k, v in table.items() if not isinstance(v, dict)}
    merged.update({k.replace("-", "_"): v for k, v in table.get(target, {}).items()})
    return merged


def env_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    out = {}
    for name in Options.names():
        key = f"FLOWC_{name.upper()}"
        if key in environ and environ[key] != "":
            out[name] = environ[key]
    return out


def resolve_options(flags: dict[str, Any], flow_dir: Path, target: str,
                    environ: Mapping[str, str] | None = None) -> Options:
    """Options for `target`, layering defaults, pyproject, environment and flags."""
    values: dict[str, Any] = {}
    known = set(Options.names())
    for layer in (pyproject_settings(flow_dir, target), env_settings(os.environ if environ is None else environ),
                  {k: v for k, v in flags.items() if v is not None}):
        values.update({k: v for k, v in layer.items() if k in known})
    for name in _INTS & values.keys():
        values[name] = int(values[name])
    return Options(**values)
