"""flowc's authoring API: what a flow file imports.

`import flowc` loads only this API (standard library); never the compiler,
networkx, hera, jinja2, click or boto3.  The client (`Run`, `Flow`) loads on
first use.
"""

from flowc.api import *  # noqa: F403 - the authoring API is what `import flowc` is
from flowc.api import __all__ as _API

__version__ = "0.1.0"

__all__ = [*_API, "Run", "Flow"]  # noqa: F405 - Run and Flow load on first use (__getattr__)


def __getattr__(name):
    if name in ("Run", "Flow"):
        from flowc.runtime import client

        return getattr(client, name)
    raise AttributeError(f"module 'flowc' has no attribute {name!r}")
