"""The one options resolver of every command: flag > `FLOWC_*` environment > `[tool.flowc]` > default.

The layering rules live in flowc/contract/settings.py (standard library, shared
with the runtime's client); this module adds what only the CLI knows: the
compiler's Options fields, the deployers' settings, and which target reads
which (flowc/compiler/options.py READ_BY, flowc/deploy DEPLOY_READ_BY).

- compile, check, deploy, trigger: `resolve_for_target` reads `[tool.flowc.<target>]`
  over `[tool.flowc]`.  A setting given explicitly (flag, `FLOWC_*`, or the
  target's own table) that the target does not read is an error; one from the
  shared `[tool.flowc]` table is ignored, since one config serves several targets.
- run, resume, show, logs, runs, package: `resolve_local` reads `datastore` and
  `max_workers`, from `[tool.flowc.local]` over `[tool.flowc]`; the datastore
  default is the client's (`.flowc/` beside the flow), by the same function.

Every bad value is a SettingsError: the commands print it as one `error:` line, exit 2.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping

from flowc.compiler.options import READ_BY, Options
from flowc.compiler.targets import TARGETS
from flowc.contract.project import user_from
from flowc.contract.settings import LOCAL_SECTION, SettingsError, layered, local_datastore, read_pyproject
from flowc.deploy import DEPLOY_READ_BY

OPTION_KINDS: dict[str, type] = {
    f.name: int if "int" in str(f.type) else bool if "bool" in str(f.type) else str for f in fields(Options)
}
DEPLOY_KINDS: dict[str, type] = {name: str for name in DEPLOY_READ_BY}
LOCAL_KINDS: dict[str, type] = {"datastore": str, "max_workers": int}
SETTING_NAMES = (*OPTION_KINDS, *DEPLOY_KINDS)  # what a compiling or deploying command may pass as flags
SECTIONS = (*TARGETS, LOCAL_SECTION)
FLAG_NAMES = {"output_format": "--format"}  # where a flag is not --<name>
CHOICES = {"output_format": ("yaml", "json"), "operator": ("kubernetes", "local")}
AT_LEAST_ONE = ("max_workers",)

__all__ = [
    "SETTING_NAMES",
    "LocalSettings",
    "SettingsError",
    "TargetSettings",
    "resolve_config_files",
    "resolve_for_target",
    "resolve_local",
    "resolve_options",
]


@dataclass(frozen=True)
class TargetSettings:
    options: Options
    deploy: Mapping[str, str]  # the deployer's settings that were given: role_arn, dags_folder, argo_server


@dataclass(frozen=True)
class LocalSettings:
    datastore: str
    max_workers: int


def known_settings() -> set[str]:
    """Every key `[tool.flowc]` may hold (any other is an error)."""
    return set(OPTION_KINDS) | set(DEPLOY_KINDS) | set(LOCAL_KINDS)


def resolve_for_target(
    flags: Mapping[str, Any], flow_dir: Path, target: str, environ: Mapping[str, str] | None = None
) -> TargetSettings:
    """Options (and deploy settings) for `target`; SettingsError for a bad or unread value."""
    environ = os.environ if environ is None else environ
    pyproject = read_pyproject(flow_dir, known_settings(), SECTIONS)
    readers = {**READ_BY, **DEPLOY_READ_BY}
    found = layered({**OPTION_KINDS, **DEPLOY_KINDS}, flags, environ, pyproject, target, FLAG_NAMES)
    values = {}
    for name, setting in found.items():
        if target not in readers[name]:
            if setting.explicit:
                raise SettingsError(
                    f"{setting.origin} is not read by --target {target} (it is {_kind_of_option(readers[name])} option)"
                )
            continue  # the shared [tool.flowc] table serves several targets
        _check_value(name, setting.value, setting.origin)
        values[name] = setting.value
    if target in READ_BY["user"] and "user" not in values:
        values["user"] = user_from(environ)  # @project's default branch is user.<who deploys>, as in Metaflow
    return TargetSettings(
        Options(**{k: v for k, v in values.items() if k in OPTION_KINDS}),
        {k: v for k, v in values.items() if k in DEPLOY_KINDS},
    )


def resolve_options(
    flags: Mapping[str, Any], flow_dir: Path, target: str, environ: Mapping[str, str] | None = None
) -> Options:
    """Options for `target`, layering defaults, pyproject, environment and flags."""
    return resolve_for_target(flags, flow_dir, target, environ).options


def resolve_local(flags: Mapping[str, Any], start: Path, environ: Mapping[str, str] | None = None) -> LocalSettings:
    """The settings of the local commands; `start` is the flow's folder (or the current folder)."""
    environ = os.environ if environ is None else environ
    pyproject = read_pyproject(start, known_settings(), SECTIONS)
    for key in pyproject.section(LOCAL_SECTION):
        if key not in LOCAL_KINDS:
            raise SettingsError(
                f"{key.replace('_', '-')} in [tool.flowc.{LOCAL_SECTION}] of {pyproject.path} is not "
                "read by flowc run (it reads datastore and max-workers)"
            )
    found = layered(LOCAL_KINDS, flags, environ, pyproject, LOCAL_SECTION)
    for name, setting in found.items():
        _check_value(name, setting.value, setting.origin)
    # The datastore through the very function the client uses, so both find the same runs.
    datastore = flags.get("datastore") or local_datastore(start, environ)
    max_workers = found["max_workers"].value if "max_workers" in found else os.cpu_count() or 1
    return LocalSettings(datastore, max_workers)


def resolve_config_files(pairs) -> tuple[tuple[str, str], ...]:
    """`--config NAME PATH` pairs (flag only: a config file belongs to one flow), each name once."""
    seen: dict[str, str] = {}
    for name, path in pairs or ():
        if not name.isidentifier():
            raise SettingsError(f"--config {name} {path}: the config name must be a Python identifier")
        if name in seen:
            raise SettingsError(f"--config {name} is given twice ({seen[name]} and {path})")
        seen[name] = path
    return tuple(sorted(seen.items()))


def _check_value(name: str, value: Any, origin: str) -> None:
    if name in CHOICES and value not in CHOICES[name]:
        raise SettingsError(f"{origin}: {value!r} is not one of {', '.join(CHOICES[name])}")
    if name in AT_LEAST_ONE and value < 1:
        raise SettingsError(f"{origin}: {value!r} must be at least 1")


def _kind_of_option(targets: frozenset[str]) -> str:
    """'an airflow', 'a step-functions', 'an argo and airflow'."""
    names = sorted(targets)
    text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return ("an " if text[0] in "aeiou" else "a ") + text
