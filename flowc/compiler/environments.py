"""Per-step Python environments: what a step asks for, and the lock that pins it.

A step's environment is its `@pypi`/`@conda` (or the flow's `@pypi_base`/
`@conda_base`): a Python version and requirement lines.  `flowc lock` (flowc/
environments/, which runs uv) resolves each distinct one into an entry of the
flow's lock file, `<flow>.flowc-lock.json` beside the flow; compile only reads
that file.  An entry's sha256 names the environment everywhere after: the
runtime's `--environment` argument, the datastore's `envs/<sha>/...` record.
So a dependency change is a diff in every compiled output.

Values reach uv only as lines of a requirements file, never a command line,
and only after the checks here: a name is a PyPI name, a version a specifier.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import replace

from flowc.compiler.conda_names import conda_to_pypi
from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.ir import FlowGraph, Location, Packages

LOCK_SUFFIX = ".flowc-lock.json"
LOCK_FORMAT = 1
PACKAGE_DECORATORS = ("pypi", "conda", "pypi_base", "conda_base")

_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(\[[A-Za-z0-9._,-]+\])?$")
_SPECIFIER = re.compile(r"^(~=|==|!=|<=|>=|<|>|===)\s*[A-Za-z0-9.*+!_-]+$")
_VERSION = re.compile(r"^[0-9][A-Za-z0-9.*+!_-]*$")
_PYTHON = re.compile(r"^3\.[0-9]{1,2}(\.[0-9]{1,3})?$")  # Metaflow's tutorials write "3.9.10"


class LockFileError(ValueError):
    """The lock file cannot be read as one."""


def lock_path(flow_file: str) -> str:
    """Where the lock of `flow_file` lives: beside it, `<name>.flowc-lock.json`."""
    return os.path.splitext(flow_file)[0] + LOCK_SUFFIX


def environment_spec(packages: Packages) -> tuple[dict | None, list[str]]:
    """({"python": "3.12" or None, "requirements": [...]}, problems): what the lock must pin for `packages`."""
    problems, lines = [], []
    if packages.python is not None and not _PYTHON.match(packages.python):
        problems.append(f"python={packages.python!r} must be a Python 3 version, e.g. '3.12' or '3.12.4'")
    for name, version in packages.packages:
        line, problem = (_conda_line if packages.manager == "conda" else _pypi_line)(name, version.strip())
        if problem:
            problems.append(problem)
        else:
            lines.append(line)
    if problems:
        return None, problems
    return {"python": packages.python, "requirements": sorted(lines, key=str.lower)}, []


def _pypi_line(name: str, version: str) -> tuple[str, str | None]:
    # Metaflow's rule: a bare version pins it exactly; a specifier is used as written; "" takes any version.
    if not _NAME.match(name):
        return "", f"{name!r} is not a PyPI package name"
    if version and not (_VERSION.match(version) or all(_SPECIFIER.match(p.strip()) for p in version.split(","))):
        return "", f"{name}: {version!r} is not a version or a version specifier (e.g. '2.2' or '>=2.2,<3')"
    return (f"{name}=={version}" if _VERSION.match(version) else f"{name}{version}"), None


def _conda_line(name: str, version: str) -> tuple[str, str | None]:
    pypi_name = conda_to_pypi(name.partition("::")[2] if "::" in name else name)
    if pypi_name is None:
        return "", f"{name!r} has no PyPI equivalent flowc knows, so uv cannot install it"
    if version.startswith("=") and not version.startswith("=="):
        version = version[1:]  # conda's `=1.2` is "1.2.*", as a bare version is
    if _VERSION.match(version) and "=" not in version:
        # conda's bare "2.1" matches 2.1, 2.1.x...; in PEP 440 that is ==2.1.*
        return pypi_name + (f"=={version}" if version.endswith("*") else f"=={version}.*"), None
    return _pypi_line(pypi_name, version)


def entry_sha(entry: dict) -> str:
    """The sha256 naming a lock entry: of its canonical JSON, so any change to what it pins changes it."""
    text = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def spec_key(spec: dict) -> str:
    return json.dumps([spec["python"], spec["requirements"]])


def parse_lock(text: str) -> dict[str, dict]:
    """{spec_key: entry} of a lock file's text; raises LockFileError naming what is wrong."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise LockFileError(f"not JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("flowc_lock") != LOCK_FORMAT:
        raise LockFileError(f"not a flowc lock file (format {LOCK_FORMAT})")
    entries = {}
    for entry in document.get("environments", []):
        if not (isinstance(entry, dict) and {"python", "requirements", "python_version", "lock"} <= set(entry)):
            raise LockFileError("an environment needs python, requirements, python_version and lock")
        entries[spec_key(entry)] = entry
    return entries


def render_lock(entries: list[dict]) -> str:
    """The lock file's text: entries sorted, stable JSON, so the same locks are the same bytes."""
    ordered = sorted(entries, key=spec_key)
    return json.dumps({"flowc_lock": LOCK_FORMAT, "environments": ordered}, indent=2, sort_keys=True) + "\n"


def packages_location(flow: FlowGraph, step) -> Location:
    """Where the step's environment is asked for: its own decorator, else the flow's."""
    for use in step.decorators:
        if use.name in ("pypi", "conda") and not use.get("disabled"):
            return use.location
    for use in flow.decorators:
        if use.name in ("pypi_base", "conda_base"):
            return use.location
    return step.location


def specs(flow: FlowGraph) -> tuple[dict[str, dict], list[Diagnostic]]:
    """({spec_key: spec} of every step's environment, located problems)."""
    found, diagnostics = {}, []
    for step in flow.steps:
        if step.packages is None:
            continue
        spec, problems = environment_spec(step.packages)
        where = packages_location(flow, step)
        diagnostics += [Diagnostic(where, f"@{step.packages.manager}: {p}") for p in problems]
        if spec is not None:
            found[spec_key(spec)] = spec
    return found, diagnostics


def attach_locks(flow: FlowGraph, lock_text: str | None, lock_name: str) -> tuple[FlowGraph, list[Diagnostic]]:
    """The flow with each step's environment named by its lock entry's sha256, and what stops that.

    Without a lock (`lock_text` None) or with one that does not pin a step's
    environment, that step is an error: it would run in whatever Python the
    image has, which is not what its decorator says.
    """
    if all(step.packages is None for step in flow.steps):
        return flow, []
    entries, diagnostics = {}, []
    if lock_text is not None:
        try:
            entries = parse_lock(lock_text)
        except LockFileError as exc:
            return flow, [Diagnostic(Location(lock_name, 1, 1), f"cannot read the lock file: {exc}")]
    steps = []
    for step in flow.steps:
        if step.packages is None:
            steps.append(step)
            continue
        spec, problems = environment_spec(step.packages)
        where = packages_location(flow, step)
        diagnostics += [Diagnostic(where, f"@{step.packages.manager}: {p}") for p in problems]
        entry = entries.get(spec_key(spec)) if spec is not None else None
        if spec is not None and entry is None:
            missing = "no lock file" if lock_text is None else f"{lock_name} does not pin this environment"
            diagnostics.append(
                Diagnostic(
                    where,
                    f"@{step.packages.manager}: {missing} (python {spec['python'] or 'any'}, "
                    f"{', '.join(spec['requirements']) or 'no packages'}): run `flowc lock {flow.file}` "
                    "(flowc run and deploy lock it themselves)",
                )
            )
        if entry is not None and step.packages.manager == "conda":
            diagnostics.append(
                Diagnostic(where, "@conda: installed from PyPI with uv under the names in the lock", "warning")
            )
        steps.append(replace(step, packages=replace(step.packages, lock=entry_sha(entry) if entry else None)))
    # a flow-level decorator (@conda_base) is every step's: one line per place and cause, not per step
    return replace(flow, steps=tuple(steps)), list(dict.fromkeys(diagnostics))


def read_lock_beside(flow_file: str) -> tuple[str | None, str]:
    """(the lock file's text or None when there is none, its path) for the flow at `flow_file`."""
    path = lock_path(flow_file)
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(), path
    except FileNotFoundError:
        return None, path
