"""flowc's authoring API: what a flow file imports.

`import flowc` loads only this API (standard library); never the compiler,
networkx, hera, jinja2, click or boto3.  The client (`Run`, `Flow`) and
`S3` load on first use.
"""

from flowc.api import *  # noqa: F403 - the authoring API is what `import flowc` is
from flowc.api import __all__ as _API

__version__ = "0.1.0"

__all__ = [*_API, "Run", "Flow", "S3"]  # noqa: F405 - Run, Flow and S3 load on first use (__getattr__)


def __getattr__(name):
    if name in ("Run", "Flow"):
        from flowc.runtime import client

        return getattr(client, name)
    if name == "S3":  # metaflow.S3: boto3 loads only when an S3 client talks to S3
        from flowc.runtime import s3

        return s3.S3
    raise AttributeError(f"module 'flowc' has no attribute {name!r}")
