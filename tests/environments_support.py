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
