"""The authoring API: what a flow file imports (FlowSpec, step, Parameter, current, the decorators).

Standard library only; `flowc/__init__.py` re-exports it.
"""

from flowc.api.decorators import (
    batch,
    card,
    catch,
    conda,
    conda_base,
    environment,
    kubernetes,
    project,
    pypi,
    pypi_base,
    recursion,
    resources,
    retry,
    schedule,
    secrets,
    skypilot,
    timeout,
    trigger,
    trigger_on_finish,
)
from flowc.api.configs import Config, ConfigValue, config_expr
from flowc.api.flowspec import FlowSpec, IncludeFile, JSONType, Parameter, current, step
from flowc.api.user_decorators import USER_SKIP_STEP, FlowMutator, StepMutator, user_step_decorator

__all__ = [
    "FlowSpec",
    "step",
    "Parameter",
    "JSONType",
    "IncludeFile",
    "Config",
    "ConfigValue",
    "config_expr",
    "current",
    "resources",
    "batch",
    "kubernetes",
    "retry",
    "catch",
    "timeout",
    "recursion",
    "environment",
    "secrets",
    "conda",
    "pypi",
    "skypilot",
    "schedule",
    "trigger",
    "trigger_on_finish",
    "project",
    "conda_base",
    "pypi_base",
    "card",
    "user_step_decorator",
    "StepMutator",
    "FlowMutator",
    "USER_SKIP_STEP",
]
