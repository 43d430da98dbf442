"""The platform an environment is built for, as the runtime names its own and as uv names it.

The runtime finds an environment's archive by (lock sha, its own platform), so
a linux/aarch64 node never unpacks wheels built for x86_64: it reports that
the environment was not built for it instead.
"""

from __future__ import annotations

import platform
import sys

# flowc's platform name -> uv's --python-platform (manylinux_2_28: glibc 2.28, any current Debian/Ubuntu/RHEL 8+ image)
UV_PLATFORMS = {
    "linux-x86_64": "x86_64-manylinux_2_28",
    "linux-aarch64": "aarch64-manylinux_2_28",
    "darwin-arm64": "aarch64-apple-darwin",
    "darwin-x86_64": "x86_64-apple-darwin",
}
_MACHINES = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64"}


def current_platform() -> str:
    """This interpreter's platform in flowc's names: linux-x86_64, linux-aarch64, darwin-arm64, ..."""
    machine = platform.machine().lower()
    system = "darwin" if sys.platform == "darwin" else sys.platform.rstrip("0123456789")
    if system == "darwin":
        return f"darwin-{'arm64' if machine in ('arm64', 'aarch64') else machine}"
    return f"{system}-{_MACHINES.get(machine, machine)}"


def python_version() -> str:
    """This interpreter's major.minor, as a lock records it."""
    return "%d.%d" % sys.version_info[:2]
