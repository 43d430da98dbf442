"""Start a task from a code package (`--package URL`): fetch, check its sha256, extract, run from it.

The URL is `s3://.../<sha256>.tar.gz` or a local path; the name's hash is
checked against the bytes before anything is extracted.  Extraction goes to
a cache folder (FLOWC_PACKAGE_CACHE, default <tmp>/flowc-packages/<sha>),
made complete by an atomic rename, so concurrent tasks share it safely.

flowc/contract/bootstrap.py holds the same logic as one fixed program for images that
have only Python (and boto3).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tarfile
import tempfile

SHA_NAME = re.compile(r"([0-9a-f]{64})\.tar\.gz$")


def fetch(url: str) -> bytes:
    if url.startswith("s3://"):
        import boto3

        bucket, _, key = url[len("s3://"):].partition("/")
        return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    path = url[len("file://"):] if url.startswith("file://") else url
    with open(path, "rb") as f:
        return f.read()


def extract(url: str) -> str:
    """The folder holding the package's files (cached by sha256)."""
    match = SHA_NAME.search(url)
    if not match:
        raise ValueError("the package name must be <sha256>.tar.gz")
    sha = match.group(1)
    cache = os.environ.get("FLOWC_PACKAGE_CACHE") or os.path.join(tempfile.gettempdir(), "flowc-packages")
    target = os.path.join(cache, sha)
    if os.path.isdir(target):
        return target
    data = fetch(url)
    if hashlib.sha256(data).hexdigest() != sha:
        raise ValueError("sha256 mismatch: the package's content does not match its name")
    os.makedirs(cache, exist_ok=True)
    staging = tempfile.mkdtemp(dir=cache, prefix=".tmp-")
    import io

    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile() or member.name.startswith(("/", "..")) or "/../" in member.name:
                raise ValueError(f"unsafe entry in package: {member.name!r}")
        if hasattr(tarfile, "data_filter"):
            tar.extractall(staging, filter="data")
        else:
            tar.extractall(staging)
    try:
        os.rename(staging, target)
    except OSError:  # another task finished first: use its copy
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
    return target


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
