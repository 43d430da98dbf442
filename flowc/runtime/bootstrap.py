"""Start a task from a code package (`--package URL`): fetch, check its sha256, extract, run from it.

The fetching, checking and extracting are flowc/contract/bootstrap.py's
`extract`: the very text the fixed bootstrap program runs on images without
flowc, so the two cannot drift.
"""

from __future__ import annotations

import os
import sys

from flowc.contract.bootstrap import extract


def enter_package(url: str) -> str:
    """Extract the package, make it the working folder and the source of flowc and the flow."""
    folder = extract(url)
    os.chdir(folder)
    if sys.path[:1] != [folder]:
        sys.path.insert(0, folder)
    for name in [m for m in sys.modules if m == "flowc" or m.startswith("flowc.")]:
        if name != "flowc.runtime.__main__":
            del sys.modules[name]
    return folder
