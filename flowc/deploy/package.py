"""The code package: a deterministic tar.gz of the flow, its local modules and the flowc runtime.

Same sources, same bytes, on any machine: entries sorted, mtime 0, owner 0/0
with no names, mode 0644, gzip header without name or time.  Its sha256
names it in the datastore (`ROOT/<Flow>/packages/<sha>.tar.gz`), and the
runtime checks that hash before running anything from it.
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import io
import os
import tarfile

from flowc.contract.layout import package_key

# What a container needs of flowc: the authoring API, the contract and the runtime (an allowlist, so
# nothing that imports the compiler, the CLI or the deployers is ever shipped).
PACKAGED_FLOWC = ("__init__.py", "cards.py", "api", "contract", "runtime")  # cards.py: `from flowc.cards import ...`


def _imported_names(path: str) -> set[str]:
    with open(path, "rb") as f:
        tree = ast.parse(f.read(), filename=path)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level:
            names.update(alias.name for alias in node.names)
            if node.module:
                names.add(node.module.split(".")[0])
    return names


def _python_files(folder: str):
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(".py"):
                yield os.path.join(current, name)


def local_files(flow_path: str) -> dict[str, str]:
    """{archive name: path} of the flow file and the local modules it imports (transitively)."""
    flow_path = os.path.abspath(flow_path)
    root = os.path.dirname(flow_path)
    found = {os.path.basename(flow_path): flow_path}
    todo = [flow_path]
    while todo:
        for name in sorted(_imported_names(todo.pop())):
            if name == "flowc":
                continue
            module, package = os.path.join(root, f"{name}.py"), os.path.join(root, name)
            candidates = (
                [module] if os.path.isfile(module) else (list(_python_files(package)) if os.path.isdir(package) else [])
            )
            for path in candidates:
                arcname = os.path.relpath(path, root).replace(os.sep, "/")
                if arcname not in found:
                    found[arcname] = path
                    todo.append(path)
    return found


def flowc_files() -> dict[str, str]:
    """{archive name: path} of what a task needs of flowc: PACKAGED_FLOWC."""
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parent = os.path.dirname(package_dir)
    found = {}
    for path in _python_files(package_dir):
        arcname = os.path.relpath(path, parent).replace(os.sep, "/")
        if arcname.split("/")[1] not in PACKAGED_FLOWC:
            continue
        found[arcname] = path
    return found


def build_package(flow_path: str) -> tuple[bytes, str]:
    """(tar.gz bytes, sha256 hex) of the flow's code package; deterministic."""
    entries = dict(flowc_files())
    entries.update(local_files(flow_path))  # a user module never replaces flowc's own files
    entries.update(flowc_files())
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for arcname in sorted(entries):
            with open(entries[arcname], "rb") as f:
                content = f.read()
            info = tarfile.TarInfo(arcname)
            info.size, info.mtime, info.mode = len(content), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(content))
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0) as gz:
        gz.write(raw.getvalue())
    data = compressed.getvalue()
    return data, hashlib.sha256(data).hexdigest()


def upload_package(datastore_root: str, flow_name: str, data: bytes, sha: str) -> str:
    """Store the package at ROOT/<Flow>/packages/<sha>.tar.gz (once) and return its URL or path."""
    from flowc.runtime.datastore import open_datastore

    if hashlib.sha256(data).hexdigest() != sha:
        raise ValueError("package bytes do not match the given sha256")
    store = open_datastore(datastore_root)
    key = package_key(flow_name, sha)
    if not store.exists(key):
        store.write(key, data)
    return store.url(key)
