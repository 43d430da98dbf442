"""What `flowc run`, `flowc resume` and `flowc deploy` do before a step runs: lock, name, build, publish.

`prepare_environments` locks what the lock file does not pin yet, names each
step's environment by its lock entry (the compiler's own attach_locks, so a
local run and a compiled document carry the same `--environment` sha), and
builds and publishes each for the platform the tasks will run on.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from flowc.compiler.diagnostics import CompileError, raise_if_errors
from flowc.compiler.environments import attach_locks, read_lock_beside
from flowc.compiler.ir import FlowGraph
from flowc.environments.uv import EnvironmentFailure

NO_ENV_WARNING = "warning: --no-env: steps run in this Python, without the packages their @pypi/@conda ask for: {steps}"


def has_environments(flow: FlowGraph) -> bool:
    return any(step.packages is not None for step in flow.steps)


def without_environments(flow: FlowGraph) -> tuple[FlowGraph, str | None]:
    """(the flow with no step environment, the warning to print or None): `--no-env`."""
    named = [step.name for step in flow.steps if step.packages is not None]
    if not named:
        return flow, None
    steps = tuple(replace(step, packages=None) for step in flow.steps)
    return replace(flow, steps=steps, packages=None), NO_ENV_WARNING.format(steps=", ".join(named))


def named_environments(flow: FlowGraph, flow_path: str) -> FlowGraph:
    """The flow with each step's environment named by the lock (locked first where missing); raises CompileError."""
    from flowc.environments.lock import lock_flow  # runs uv only when something is missing

    lock_flow(flow, flow_path, refresh=False)
    text, name = read_lock_beside(flow_path)
    flow, diagnostics = attach_locks(flow, text, name)
    raise_if_errors(diagnostics)
    return flow


def prepare_environments(
    flow: FlowGraph, flow_path: str, datastore: str, platforms: tuple[str, ...], echo: Callable[[str], None]
) -> FlowGraph:
    """Lock, name and publish every step environment for each of `platforms`; the flow with them named.

    Raises CompileError (located) or EnvironmentFailure (a named cause)."""
    if not has_environments(flow):
        return flow
    from flowc.environments.build import publish_flow

    flow = named_environments(flow, flow_path)
    for platform in platforms:
        for published in publish_flow(flow, flow_path, datastore, platform):
            state = "built" if published.built else "already built"
            echo(f"environment {published.lock_sha[:12]} ({platform}): {state}, archive {published.archive_sha[:12]}")
    return flow


__all__ = ["CompileError", "EnvironmentFailure", "has_environments", "prepare_environments", "without_environments"]
