"""A flow file's bytes, before its syntax: size, encoding, and a name the runtime can import it under.

`read_flow` is the frontend's entry point: it refuses what no parse can fix
(a file too large, not UTF-8, named like a module a task imports), then hands
the text to the frontend (flowc/compiler/frontend.py).
"""

from __future__ import annotations

from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.frontend import Frontend, RawFlow
from flowc.compiler.ir import Location

# Modules a task imports besides the standard library: the runtime and the S3 datastore's boto3.
RUNTIME_IMPORTS = ("flowc", "metaflow", "boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")


def shadowed_module(filename: str) -> str | None:
    """Why the flow file's name cannot be used, or None.

    The runtime imports the flow as a module named after its file, with the
    file's folder first on sys.path: `json.py` would replace the json module
    for the runtime and for the flow's own imports, failing later with errors
    that never mention the name.
    """
    import posixpath
    import sys

    module = posixpath.splitext(posixpath.basename(filename.replace("\\", "/")))[0]
    if module in sys.stdlib_module_names:
        where = "Python's standard library"
    elif module in RUNTIME_IMPORTS:
        where = "what a task imports"
    else:
        return None
    return (
        f"the flow file is named like the module '{module}' ({where}); running it would shadow that "
        f"module: rename the file, e.g. {module}_flow.py"
    )


MAX_SOURCE_BYTES = 8 * 1024 * 1024  # far above any real flow file; bounds time and memory


def read_flow(
    source: bytes | str, filename: str, config_files: dict[str, str] | None = None
) -> tuple[RawFlow | None, list[Diagnostic]]:
    """Parse `source` into a RawFlow; diagnostics carry every problem found (`config_files`: --config NAME PATH)."""
    if len(source) > MAX_SOURCE_BYTES:
        return None, [
            Diagnostic(
                Location(filename, 1, 1),
                f"the file is {len(source):,} bytes; flowc reads flow files up to {MAX_SOURCE_BYTES:,}",
            )
        ]
    shadowed = shadowed_module(filename)
    if shadowed:
        return None, [Diagnostic(Location(filename, 1, 1), shadowed)]
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8-sig")  # as Python reads a file: a UTF-8 byte order mark is allowed
        except UnicodeDecodeError as exc:
            line = source[: exc.start].count(b"\n") + 1
            return None, [
                Diagnostic(Location(filename, line, 1), f"the file is not UTF-8 ({exc.reason} at byte {exc.start})")
            ]
    frontend = Frontend(source.removeprefix("\ufeff"), filename, config_files)
    flow = frontend.read()
    return flow, frontend.diagnostics
