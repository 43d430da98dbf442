"""flowc's authoring API: what a flow file imports.

`import flowc` loads only this API (standard library); never the compiler,
networkx, hera, jinja2, click or boto3.  The client (`Run`, `Flow`) loads on
first use.
"""

from flowc.api import (
    FlowSpec,
    IncludeFile,
    JSONType,
    Parameter,
    batch,
    card,
    catch,
    conda,
    conda_base,
    current,
    environment,
    kubernetes,
    project,
    pypi,
    pypi_base,
    resources,
    retry,
    schedule,
    secrets,
    skypilot,
    step,
    timeout,
)

__version__ = "0.1.0"

__all__ = [
    "FlowSpec", "step", "Parameter", "JSONType", "IncludeFile", "current",
    "resources", "batch", "kubernetes", "retry", "catch", "timeout", "environment",
    "secrets", "conda", "pypi", "skypilot", "schedule", "project", "conda_base",
    "pypi_base", "card", "Run", "Flow",
]


def __getattr__(name):
    if name in ("Run", "Flow"):
        from flowc.runtime import client

        return getattr(client, name)
    raise AttributeError(f"module 'flowc' has no attribute {name!r}")
