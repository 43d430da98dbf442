"""Tiny pure-Python wheels made on the fly, and uv pointed at them alone: environment tests never reach an index.

`offline_uv(monkeypatch, folder)` sets uv's own variables: the wheel folder is
the only source (--find-links, --no-index), UV_OFFLINE forbids the network,
the index URL is one that cannot resolve, and uv's cache is fresh, so a
package found must have come from `folder`.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def make_wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> Path:
    """A py3-none-any wheel of module `name` whose `VERSION` is `version`."""
    dist = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    files = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n".encode(),
        f"{dist}/METADATA": metadata.encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: flowc-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    files[f"{dist}/RECORD"] = ("\n".join(record + [f"{dist}/RECORD,,"]) + "\n").encode()
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for member in sorted(files):
            wheel.writestr(zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0)), files[member])
    return path


def wheel_folder(folder: Path) -> Path:
    """tinypkg 1.0 and 2.0, helper 0.1, and `uses` 1.0 (which needs helper)."""
    folder.mkdir(parents=True, exist_ok=True)
    make_wheel(folder, "tinypkg", "1.0")
    make_wheel(folder, "tinypkg", "2.0")
    make_wheel(folder, "helper", "0.1")
    make_wheel(folder, "uses", "1.0", requires=("helper>=0.1",))
    return folder


def offline_uv_env(wheels: Path, cache: Path) -> dict[str, str]:
    return {
        "UV_FIND_LINKS": str(wheels),
        "UV_NO_INDEX": "1",
        "UV_OFFLINE": "1",
        "UV_INDEX_URL": "http://index.invalid/simple",  # .invalid never resolves (RFC 2606)
        "UV_CACHE_DIR": str(cache),
    }


TWO_VERSIONS_FLOW = '''from flowc import FlowSpec, pypi, step


class TwoVersionsFlow(FlowSpec):
    @pypi(packages={"tinypkg": "1.0"})
    @step
    def start(self):
        import tinypkg

        self.first = tinypkg.VERSION
        self.next(self.end)

    @pypi(packages={"tinypkg": "2.0", "uses": ""})
    @step
    def end(self):
        import tinypkg
        import uses

        self.second = tinypkg.VERSION
        self.helper_found = uses.VERSION
        print("versions", self.first, self.second)
'''


def seed_built_environments(datastore: Path, flow_file: Path, platform: str | None = None) -> None:
    """Publish every environment of the flow's lock as built for `platform` (default: this machine's), each a
    real archive with an empty site folder, so runs and deploys of an example find them in the datastore and
    build nothing: tests that run or deploy examples/decorators.py never download scikit-learn.

    The manifest names this interpreter's Python: a stand-in for this test process, not the lock's image."""
    import json

    from flowc.compiler.environments import entry_sha, lock_path, parse_lock
    from flowc.contract.layout import environment_archive_key, environment_pointer_key
    from flowc.contract.platforms import current_platform, python_version
    from flowc.environments.build import archive_folder

    platform = platform or current_platform()
    for entry in parse_lock(Path(lock_path(str(flow_file))).read_text()).values():
        manifest = {"lock": entry_sha(entry), "platform": platform, "python": python_version()}
        empty = datastore / ".empty-site"
        empty.mkdir(parents=True, exist_ok=True)
        data, archive_sha = archive_folder(str(empty), json.dumps(manifest, sort_keys=True).encode())
        archive = datastore / environment_archive_key(archive_sha)
        archive.parent.mkdir(parents=True, exist_ok=True)
        archive.write_bytes(data)
        pointer = datastore / environment_pointer_key(entry_sha(entry), platform)
        pointer.parent.mkdir(parents=True, exist_ok=True)
        pointer.write_text(json.dumps({"archive": archive_sha}))
