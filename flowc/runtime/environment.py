"""Enter a step's locked Python environment (`--environment SHA`) before the flow is imported.

The datastore's `envs/<lock sha>/<platform>.json` names the archive built
for this node's platform; the archive is fetched and checked against its
sha256 and unpacked once per node by flowc/contract/bootstrap.py's `extract`
(the code package's path: same cache, same checks), then its manifest must
name the very lock the step was compiled with, and this interpreter must be
the Python it was locked for.  Its `site/` folder goes on sys.path ahead of
the image's site-packages, behind the code (flowc and the flow's files).
No package index is reached here: uv is not needed in the container.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys

from flowc.contract.command import EXIT_CORRUPT, EXIT_FAILED, EXIT_USAGE
from flowc.contract.layout import ENV_MANIFEST, ENV_SITE, environment_archive_key, environment_pointer_key
from flowc.contract.platforms import current_platform, python_version

_SHA = re.compile(r"^[0-9a-f]{64}$")


class EnvironmentUnavailable(Exception):
    """The step's environment cannot be entered; `exit_code` says whether a retry could help."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def enter_environment(datastore_root: str, lock_sha: str) -> str:
    """Put the environment locked as `lock_sha` on sys.path; returns its site folder."""
    from flowc.contract.bootstrap import extract
    from flowc.runtime.datastore import DatastoreError, open_datastore

    if not _SHA.match(lock_sha):
        raise EnvironmentUnavailable(f"{lock_sha!r} is not an environment's sha256", EXIT_USAGE)
    platform = current_platform()
    try:
        store = open_datastore(datastore_root)
        pointer = store.read_text(environment_pointer_key(lock_sha, platform))
    except DatastoreError as exc:
        raise EnvironmentUnavailable(f"cannot read the environment record: {exc}", EXIT_FAILED) from None
    if pointer is None:
        raise EnvironmentUnavailable(
            f"environment {lock_sha[:12]} was not built for {platform} in {datastore_root} "
            "(flowc deploy builds it for the image's platform, flowc run for this machine's)",
            EXIT_USAGE,
        )
    try:
        archive_sha = json.loads(pointer)["archive"]
        if not _SHA.match(archive_sha):
            raise ValueError(archive_sha)
    except (ValueError, KeyError, TypeError):
        raise EnvironmentUnavailable(f"the record of environment {lock_sha[:12]} is corrupt", EXIT_CORRUPT) from None
    try:
        folder = extract(store.url(environment_archive_key(archive_sha)))
    except ValueError as exc:  # a sha256 mismatch or an unsafe entry: the archive is not what was built
        raise EnvironmentUnavailable(f"environment archive {archive_sha[:12]}: {exc}", EXIT_CORRUPT) from None
    except Exception as exc:  # noqa: BLE001 - any fetch failure (network, S3, disk) may pass on a retry
        raise EnvironmentUnavailable(
            f"cannot fetch environment archive {archive_sha[:12]}: {exc}", EXIT_FAILED
        ) from None
    _check_manifest(folder, lock_sha)
    site = os.path.join(folder, ENV_SITE)
    # behind the code folder (sys.path[0]: the package or the flow's directory), ahead of the image's packages
    sys.path.insert(1 if sys.path else 0, site)
    importlib.invalidate_caches()
    return site


def _check_manifest(folder: str, lock_sha: str) -> None:
    try:
        with open(os.path.join(folder, ENV_MANIFEST), encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        raise EnvironmentUnavailable("the environment archive has no readable manifest", EXIT_CORRUPT) from None
    if manifest.get("lock") != lock_sha:
        raise EnvironmentUnavailable(
            f"the environment archive was built for lock {str(manifest.get('lock'))[:12]}, not {lock_sha[:12]}",
            EXIT_CORRUPT,
        )
    if manifest.get("python") != python_version():
        raise EnvironmentUnavailable(
            f"environment {lock_sha[:12]} is locked for Python {manifest.get('python')}, but this is Python "
            f"{python_version()} ({sys.executable}): use an image with Python {manifest.get('python')}",
            EXIT_USAGE,
        )
