"""`flowc lock`: resolve each distinct environment of a flow with uv into the lock file beside it.

`uv pip compile --universal --generate-hashes` pins every package, for every
platform, with the hashes of its files, so a build anywhere later installs
exactly those files or fails.  An entry records the Python it was resolved
for (the decorator's `python=`, else this interpreter's major.minor).  Same
inputs and the same index give the same lock bytes.
"""

from __future__ import annotations

import os

from flowc.compiler.diagnostics import CompileError, Diagnostic
from flowc.compiler.environments import (
    environment_spec,
    lock_path,
    packages_location,
    parse_lock,
    read_lock_beside,
    render_lock,
    spec_key,
    specs,
)
from flowc.compiler.ir import FlowGraph, Location
from flowc.contract.platforms import python_version
from flowc.environments.uv import EnvironmentFailure, run_uv


def resolve(spec: dict) -> dict:
    """The lock entry for `spec` ({"python", "requirements"}); raises EnvironmentFailure with uv's reason."""
    # packages are built for an interpreter's major.minor (its ABI); the image supplies the interpreter,
    # so python="3.9.10" resolves for 3.9 and the task checks its Python against that
    version = ".".join((spec["python"] or python_version()).split(".")[:2])
    text = ""
    if spec["requirements"]:
        text = run_uv(
            [
                "pip",
                "compile",
                "-",
                "--universal",
                "--generate-hashes",
                "--no-header",
                "--no-annotate",
                "--quiet",
                "--python-version",
                version,
            ],
            "cannot resolve " + ", ".join(spec["requirements"]),
            stdin="\n".join(spec["requirements"]) + "\n",
        )
    return {"python": spec["python"], "requirements": spec["requirements"], "python_version": version, "lock": text}


def lock_flow(flow: FlowGraph, flow_file: str, refresh: bool = False) -> tuple[str, int]:
    """Write the flow's lock file; (its path, how many environments were resolved).

    With `refresh` every environment is resolved again (`flowc lock`); without,
    only those the lock does not pin yet (`flowc run`, `flowc deploy`), and
    the file is left alone when nothing is missing.  A failure to resolve is
    a CompileError located at the decorator that asks for the environment.
    """
    wanted, problems = specs(flow)
    if problems:
        raise CompileError(problems)
    text, path = read_lock_beside(flow_file)
    existing = {}
    if text is not None and not refresh:
        try:
            existing = parse_lock(text)
        except ValueError as exc:
            raise CompileError([Diagnostic(Location(path, 1, 1), f"cannot read the lock file: {exc}")]) from None
    entries, failures, resolved = [], [], 0
    for key, spec in sorted(wanted.items()):
        if key in existing:
            entries.append(existing[key])
            continue
        try:
            entries.append(resolve(spec))
            resolved += 1
        except EnvironmentFailure as exc:
            failures += [Diagnostic(_where(flow, key), f"@{_manager(flow, key)}: {exc}")]
    if failures:
        raise CompileError(failures)
    if wanted and (resolved or refresh):
        new_text = render_lock(entries)
        if new_text != text:
            _write_atomically(path, new_text)
    return path, resolved


def _steps_with(flow: FlowGraph, key: str):
    for step in flow.steps:
        if step.packages is not None:
            spec, _ = environment_spec(step.packages)
            if spec is not None and spec_key(spec) == key:
                yield step


def _where(flow: FlowGraph, key: str) -> Location:
    return packages_location(flow, next(_steps_with(flow, key)))


def _manager(flow: FlowGraph, key: str) -> str:
    return next(_steps_with(flow, key)).packages.manager


def _write_atomically(path: str, text: str) -> None:
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(temporary, path)


__all__ = ["lock_flow", "lock_path", "resolve"]
