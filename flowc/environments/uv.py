"""Running uv: found in its PyPI wheel (`uv.find_uv_bin()`) or on PATH, always an argv list.

Where packages come from is uv's own configuration (UV_INDEX_URL,
UV_FIND_LINKS, UV_NO_INDEX, UV_OFFLINE, uv.toml): flowc passes the process
environment through, so a private index or a wheel folder works unchanged.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess


_LABEL = re.compile(r"^(error|cause|caused by|hint|warning):\s*", re.IGNORECASE)


class EnvironmentFailure(Exception):
    """An environment that cannot be locked, built or published; the message names the cause."""


def uv_binary() -> str:
    """The uv executable: the `uv` package's own binary, else `uv` on PATH."""
    try:
        import uv  # the PyPI wheel ships the binary; imported only when an environment is locked or built

        return uv.find_uv_bin()
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found is None:
            raise EnvironmentFailure(
                "uv is not installed: `pip install uv` (flowc locks and builds environments with it)"
            )
        return found


def run_uv(args: list[str], what: str, stdin: str | None = None) -> str:
    """uv's stdout; on failure EnvironmentFailure with `what` and uv's own error lines."""
    argv = [uv_binary(), *args]
    env = dict(os.environ, UV_NO_PROGRESS="1", NO_COLOR="1")
    result = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        # uv's report is "error: ...", "cause: ...", "hint: ..." lines: one line, its labels dropped
        lines = [_LABEL.sub("", line.strip()) for line in result.stderr.splitlines() if line.strip()]
        detail = (
            "; ".join(line for line in lines if line and not line.startswith("Using ")) or f"exit {result.returncode}"
        )
        raise EnvironmentFailure(f"{what}: {detail}")
    return result.stdout
