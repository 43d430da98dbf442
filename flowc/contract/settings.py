"""Where a setting's value comes from: flag > `FLOWC_*` environment > `[tool.flowc]` > default.

The core of the one options resolver, standard library only, so that both the
CLI (flowc/cli/options.py, which knows the compiler's Options and each
target's table) and the runtime's client (whose default datastore must be the
one `flowc run` writes to) build on the same rules:

- a flag given on the command line wins;
- else `FLOWC_<NAME>` from the environment (empty counts as unset);
- else `[tool.flowc.<section>]`, then `[tool.flowc]`, of the nearest
  pyproject.toml at or above the start folder (the flow's folder, or the
  current folder for the client); keys may be spelled `max-workers` or
  `max_workers`; a relative local `datastore` there is relative to that
  pyproject.toml's folder;
- else the command's default.

Every bad value is a SettingsError with one line that names where it came from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

ENV_PREFIX = "FLOWC_"
LOCAL_SECTION = "local"  # [tool.flowc.local]: the settings of flowc run / resume / show / logs / runs / package
LOCAL_DATASTORE_FOLDER = ".flowc"


class SettingsError(ValueError):
    """A setting that cannot be used, with a one-line message naming its source."""


@dataclass(frozen=True)
class Setting:
    """One resolved value, with where it came from (for messages) and whether the user chose it for this command."""

    value: Any
    origin: str  # "--max-workers", "FLOWC_MAX_WORKERS", "max-workers in [tool.flowc.argo] of /x/pyproject.toml"
    explicit: bool  # a flag, the environment or the section's own table; False for the shared [tool.flowc] table


@dataclass(frozen=True)
class Pyproject:
    """The `[tool.flowc]` table of one pyproject.toml: shared values and one sub-table per section."""

    path: Path | None = None
    shared: Mapping[str, Any] = field(default_factory=dict)
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def section(self, name: str) -> Mapping[str, Any]:
        return self.sections.get(name, {})


def setting_key(key: str) -> str:
    """A pyproject key or flag name as the setting's name: `max-workers` -> `max_workers`."""
    return key.replace("-", "_")


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start`."""
    start = Path(start).resolve()
    for folder in [start, *start.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _flowc_table(path: Path) -> dict:
    """`[tool.flowc]` of one pyproject.toml, as parsed."""
    try:
        # only when there is a pyproject.toml to read
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the backport, when installed
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            return {}
    try:
        with open(path, "rb") as f:
            table = tomllib.load(f).get("tool", {}).get("flowc", {})
    except (OSError, ValueError) as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise SettingsError(f"{path}: cannot read [tool.flowc]: {exc}") from None
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: [tool.flowc] must be a table")
    return table


def read_pyproject(start: Path, known_settings: Iterable[str], known_sections: Iterable[str]) -> Pyproject:
    """The `[tool.flowc]` table nearest `start`; an unknown key or section is a SettingsError."""
    path = find_pyproject(start)
    if path is None:
        return Pyproject(None, {}, {})
    known, sections = set(known_settings), set(known_sections)
    shared, by_section = {}, {}
    for key, value in _flowc_table(path).items():
        if isinstance(value, dict):
            if key not in sections:
                raise SettingsError(f"{path}: unknown table [tool.flowc.{key}]; known: {', '.join(sorted(sections))}")
            by_section[key] = _known_keys(value, known, f"[tool.flowc.{key}]", path)
        else:
            shared.update(_known_keys({key: value}, known, "[tool.flowc]", path))
    return Pyproject(path, shared, by_section)


def _known_keys(table: Mapping[str, Any], known: set[str], where: str, path: Path) -> dict[str, Any]:
    out = {}
    for key, value in table.items():
        if setting_key(key) not in known:
            raise SettingsError(
                f"{path}: unknown key {key!r} in {where}; known: "
                f"{', '.join(sorted(k.replace('_', '-') for k in known))}"
            )
        out[setting_key(key)] = value
    return out


def layered(
    kinds: Mapping[str, type],
    flags: Mapping[str, Any],
    environ: Mapping[str, str],
    pyproject: Pyproject,
    section: str,
    flag_names: Mapping[str, str] | None = None,
) -> dict[str, Setting]:
    """Every setting of `kinds` that some layer gives, typed: flag > environment > section table > shared table."""
    flag_names = flag_names or {}
    where = f"of {pyproject.path}"
    found: dict[str, Setting] = {}
    for name, kind in kinds.items():
        if flags.get(name) is not None:
            found[name] = Setting(flags[name], flag_names.get(name, "--" + name.replace("_", "-")), True)
        elif environ.get(env_name(name), "") != "":
            found[name] = Setting(_typed(environ[env_name(name)], kind, env_name(name)), env_name(name), True)
        elif name in pyproject.section(section):
            origin = f"{name.replace('_', '-')} in [tool.flowc.{section}] {where}"
            found[name] = Setting(
                _from_pyproject(name, pyproject.section(section)[name], kind, origin, pyproject), origin, True
            )
        elif name in pyproject.shared:
            origin = f"{name.replace('_', '-')} in [tool.flowc] {where}"
            found[name] = Setting(_from_pyproject(name, pyproject.shared[name], kind, origin, pyproject), origin, False)
    return found


def _from_pyproject(name: str, value: Any, kind: type, origin: str, pyproject: Pyproject) -> Any:
    if (
        kind is str
        and not isinstance(value, str)
        or kind is int
        and (isinstance(value, bool) or not isinstance(value, int))
        or kind is bool
        and not isinstance(value, bool)
    ):
        expected = {str: "a string", int: "an integer", bool: "true or false"}[kind]
        raise SettingsError(f"{origin}: expected {expected}, got {value!r}")
    if name == "datastore" and "://" not in value and not os.path.isabs(os.path.expanduser(value)):
        return str(pyproject.path.parent / value)  # relative to the file that says it, not to the current folder
    return value


def _typed(text: str, kind: type, origin: str) -> Any:
    if kind is bool:
        if text.lower() in ("1", "true", "yes"):
            return True
        if text.lower() in ("0", "false", "no"):
            return False
        raise SettingsError(f"{origin}={text!r} is not true or false (1/0, true/false, yes/no)")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise SettingsError(f"{origin}={text!r} is not an integer") from None
    return text


def local_datastore(start: Path, environ: Mapping[str, str] | None = None) -> str:
    """The datastore of `flowc run` and of the client: FLOWC_DATASTORE, else `datastore` in
    [tool.flowc.local] or [tool.flowc] of the nearest pyproject.toml, else `.flowc/` in `start`
    (the flow's folder for `flowc run`, the current folder for the client)."""
    environ = os.environ if environ is None else environ
    found = layered({"datastore": str}, {}, environ, _datastore_only(Path(start)), LOCAL_SECTION)
    return found["datastore"].value if "datastore" in found else str(Path(start).resolve() / LOCAL_DATASTORE_FOLDER)


def _datastore_only(start: Path) -> Pyproject:
    """The pyproject table reduced to `datastore`: the client reads only that, and leaves validating the
    rest of [tool.flowc] to the CLI, which knows every setting's name."""
    path = find_pyproject(start)
    if path is None:
        return Pyproject(None, {}, {})
    table = _flowc_table(path)
    local = table.get(LOCAL_SECTION) if isinstance(table.get(LOCAL_SECTION), dict) else {}
    return Pyproject(
        path,
        {k: v for k, v in table.items() if setting_key(k) == "datastore"},
        {LOCAL_SECTION: {setting_key(k): v for k, v in local.items() if setting_key(k) == "datastore"}},
    )
