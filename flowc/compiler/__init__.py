"""The compiler: flow source -> IR -> validated -> target text.

    load_flow(source, filename) -> FlowGraph           (raises CompileError)
    compile_flow(source, filename, target, options) -> Artifact

Never imports the user's module or the runtime.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowc.compiler.diagnostics import CompileError, Diagnostic, raise_if_errors
from flowc.compiler.ir import FlowGraph, Location
from flowc.compiler.options import Options


@dataclass(frozen=True)
class Artifact:
    text: str
    suffix: str
    flow: FlowGraph
    warnings: tuple[Diagnostic, ...] = ()


def load_flow(
    source: bytes | str,
    filename: str,
    with_decorators: tuple[str, ...] = (),
    config_files: tuple[tuple[str, str], ...] = (),
) -> tuple[FlowGraph, list[Diagnostic]]:
    """Parse and validate; returns the IR and its warnings, or raises CompileError with every error.

    `config_files`: (config name, path) pairs of `--config NAME PATH`, read instead of the Config's default.
    """
    from flowc.compiler.source import read_flow
    from flowc.compiler.normalize import build_graph, parse_with
    from flowc.compiler.validate import validate

    diagnostics: list[Diagnostic] = []
    attached = []
    for spec in with_decorators:
        use, problems = parse_with(spec)
        diagnostics += problems
        if use is not None:
            attached.append(use)
    raw, found = read_flow(source, filename, dict(config_files))
    diagnostics += found
    if raw is None:
        raise CompileError(diagnostics)
    flow, structure, found = build_graph(raw, filename, tuple(attached))
    diagnostics += found
    diagnostics += validate(flow, structure)
    raise_if_errors(diagnostics)
    return flow, diagnostics


def read_source(path: str) -> bytes:
    """The file's bytes, or a CompileError naming it."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise CompileError([Diagnostic(Location(path, 1, 1), f"cannot read the file: {exc.strerror or exc}")]) from None


def compile_flow(
    source: bytes | str,
    filename: str,
    target: str,
    options: Options = Options(),
    with_decorators: tuple[str, ...] = (),
    config_files: tuple[tuple[str, str], ...] = (),
) -> Artifact:
    """Compile one flow for one target (`config_files`: as load_flow's)."""
    from flowc.compiler import project
    from flowc.compiler.capabilities import check as capability_check
    from flowc.compiler.options import READ_BY
    from flowc.compiler.targets import load_target

    flow, warnings = load_flow(source, filename, with_decorators, config_files)
    flow, found = _with_locks(flow, filename)
    warnings += found
    module = load_target(target)
    # The table first: what the target cannot express at all, then its own limits on the values.
    problems = capability_check(flow, target) + list(module.unsupported(flow, options))
    if target in READ_BY["branch"]:  # a target that names the deployment or renders the tasks' branch
        problems += project.problems(flow, options, target in READ_BY["name"])
    raise_if_errors(warnings + problems)
    document = module.lower(flow, options)  # built once: checked, then rendered
    problems += module.check(flow, document, options)
    raise_if_errors(warnings + problems)
    return Artifact(module.render(document, options), module.SUFFIX, flow, tuple(warnings + problems))


def _with_locks(flow: FlowGraph, filename: str) -> tuple[FlowGraph, list[Diagnostic]]:
    """Each step's environment named by its entry in the lock beside the flow (read, never resolved here)."""
    from flowc.compiler.environments import attach_locks, read_lock_beside

    if all(step.packages is None for step in flow.steps):
        return flow, []  # no file is read for a flow without environments
    lock_text, lock_name = read_lock_beside(filename)
    return attach_locks(flow, lock_text, lock_name)


__all__ = ["Artifact", "CompileError", "Diagnostic", "Options", "compile_flow", "load_flow", "read_source"]
