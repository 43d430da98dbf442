"""Build each locked environment once per platform and publish it to the datastore by content hash.

A build is `uv pip install --target site --require-hashes --no-deps` of the
lock's exact pins, for the target platform and Python (uv picks the wheels
for them, so a linux image's environment builds on a laptop); the archive is
a deterministic tar.gz (entries sorted, mtime 0, no owners) of `site/` and
the manifest.  It is stored as `envs/<archive sha256>.tar.gz`, then the
record `envs/<lock sha>/<platform>.json` that names it: written last, so a
record always names a complete archive.  A record already there is a cache
hit and nothing is built.  Steps that share a lock share one archive.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import tempfile
from dataclasses import dataclass

from flowc.compiler.environments import entry_sha, parse_lock, read_lock_beside
from flowc.compiler.ir import FlowGraph
from flowc.contract.layout import ENV_MANIFEST, ENV_SITE, environment_archive_key, environment_pointer_key
from flowc.contract.platforms import UV_PLATFORMS
from flowc.environments.uv import EnvironmentFailure, run_uv


@dataclass(frozen=True)
class Published:
    lock_sha: str
    platform: str
    archive_sha: str
    built: bool  # False: the datastore already had it (a cache hit)


def build_archive(entry: dict, platform: str) -> tuple[bytes, str]:
    """(tar.gz bytes, sha256) of the environment `entry` (a lock entry) installed for `platform`."""
    if platform not in UV_PLATFORMS:
        raise EnvironmentFailure(f"cannot build for platform {platform!r}: flowc builds for {', '.join(UV_PLATFORMS)}")
    with tempfile.TemporaryDirectory(prefix="flowc-env-") as scratch:
        site = os.path.join(scratch, ENV_SITE)
        os.makedirs(site)
        if entry["lock"].strip():
            requirements = os.path.join(scratch, "requirements.txt")
            with open(requirements, "w", encoding="utf-8") as f:
                f.write(entry["lock"])
            run_uv(
                [
                    "pip",
                    "install",
                    "--target",
                    site,
                    "--require-hashes",
                    "--no-deps",
                    "--link-mode",
                    "copy",
                    "--python-version",
                    entry["python_version"],
                    "--python-platform",
                    UV_PLATFORMS[platform],
                    "--quiet",
                    "-r",
                    requirements,
                ],
                f"cannot build the environment of {', '.join(entry['requirements'])} for {platform}",
            )
        manifest = {"lock": entry_sha(entry), "platform": platform, "python": entry["python_version"]}
        return archive_folder(site, json.dumps(manifest, sort_keys=True).encode())


def archive_folder(site: str, manifest: bytes) -> tuple[bytes, str]:
    """(tar.gz bytes, sha256) of `site` as site/... plus the manifest; the same files give the same bytes."""
    files = {ENV_MANIFEST: manifest}
    for folder, dirs, names in os.walk(site):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            path = os.path.join(folder, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue  # wheels hold regular files only; the unpacker refuses anything else
            arcname = f"{ENV_SITE}/" + os.path.relpath(path, site).replace(os.sep, "/")
            with open(path, "rb") as f:
                files[arcname] = f.read()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for arcname in sorted(files):
            info = tarfile.TarInfo(arcname)
            info.size, info.mtime, info.mode = len(files[arcname]), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(files[arcname]))
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0) as gz:
        gz.write(raw.getvalue())
    data = compressed.getvalue()
    return data, hashlib.sha256(data).hexdigest()


def publish(store, entry: dict, platform: str) -> Published:
    """Make the environment of lock `entry` available for `platform` in `store`: built only when missing."""
    lock_sha = entry_sha(entry)
    pointer_key = environment_pointer_key(lock_sha, platform)
    pointer = store.read_text(pointer_key)
    if pointer is not None:
        archive_sha = json.loads(pointer).get("archive", "")
        if store.exists(environment_archive_key(archive_sha)):
            return Published(lock_sha, platform, archive_sha, built=False)
    data, archive_sha = build_archive(entry, platform)
    key = environment_archive_key(archive_sha)
    if not store.exists(key):
        store.write(key, data)
    store.write_text(pointer_key, json.dumps({"archive": archive_sha}, sort_keys=True) + "\n")
    return Published(lock_sha, platform, archive_sha, built=True)


def publish_flow(flow: FlowGraph, flow_file: str, datastore_root: str, platform: str) -> list[Published]:
    """Publish every environment the flow's steps use (their lock entries) for `platform`."""
    from flowc.runtime.datastore import open_datastore

    used = {step.packages.lock for step in flow.steps if step.packages is not None and step.packages.lock}
    if not used:
        return []
    text, path = read_lock_beside(flow_file)
    entries = {entry_sha(e): e for e in parse_lock(text or "").values()} if text else {}
    missing = used - set(entries)
    if missing:
        raise EnvironmentFailure(f"{path} does not hold environment {sorted(missing)[0][:12]}: run `flowc lock`")
    store = open_datastore(datastore_root)
    return [publish(store, entries[sha], platform) for sha in sorted(used)]
