"""The incremental compile cache of `flowc compile FLOWS -o DIR`: DIR/.flowc-cache/<key>.json.

Compiling is pure and deterministic (same inputs, same bytes), so an output
whose inputs are unchanged need not be compiled again.  The key is the sha256
of a canonical JSON document of every input a compile reads:

- the flow file's bytes and those of the local modules it imports (found as the
  code package finds them: flowc/deploy/package.py `local_files`),
- the config files it reads (a group, empty until the frontend reads any),
- the lock file beside the flow (its @pypi/@conda environments), or its absence,
- the flow's path as given (it appears in warnings), the target, the resolved
  Options and the --with decorators,
- flowc's version and a digest of flowc's own code (an edited compiler in a
  checkout is a different compiler, whatever its version says).

An entry holds the names and sha256 of the files the compile wrote and its
warnings.  A hit is used only when every one of those files is still there and
byte-identical to what was written: an output edited by hand (or replaced by
another flow's output) is a miss, and the flow compiles as if there were no
cache.  Failed compiles are never cached.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from pathlib import Path

CACHE_FOLDER = ".flowc-cache"
KEY_VERSION = 1  # bump when the key document's shape changes


def _sha256_file(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@functools.lru_cache(maxsize=1)
def flowc_code_digest() -> str:
    """sha256 over flowc's own source files (names and bytes), computed once per process."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(
        p for p in package.rglob("*") if p.is_file() and p.suffix in (".py", ".j2") and "__pycache__" not in p.parts
    ):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def flowc_version() -> str:
    import flowc  # the authoring API only (light); read at call time so a test can change it

    return flowc.__version__


def cache_key(
    flow_path: str,
    target: str,
    options,
    with_decorators: tuple[str, ...],
    config_files: tuple[tuple[str, str], ...] = (),
) -> str | None:
    """The key of one compile, or None when an input cannot be read (the compile then reports why)."""
    # the same discovery the code package uses, so what a flow imports is found one way
    from flowc.compiler.environments import lock_path  # compile reads it: a new lock is a new compile
    from flowc.deploy.package import local_files

    try:
        sources = {name: _sha256_file(path) for name, path in local_files(flow_path).items()}
        configs = {name: [os.path.abspath(path), _sha256_file(path)] for name, path in config_files}
        lock = _sha256_file(lock_path(flow_path)) if os.path.exists(lock_path(flow_path)) else None
    except (OSError, SyntaxError, ValueError):  # unreadable or unparsable: not cacheable, the compile says why
        return None
    document = {
        "key_version": KEY_VERSION,
        "flow": flow_path,
        "sources": sources,
        "configs": configs,
        "lock": lock,
        "target": target,
        "options": dataclasses.asdict(options),
        "with": list(with_decorators),
        "flowc": {"version": flowc_version(), "code": flowc_code_digest()},
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


class CompileCache:
    """The cache of one output directory."""

    def __init__(self, output_dir: Path):
        self.output_dir = output_dir
        self.folder = output_dir / CACHE_FOLDER

    def lookup(self, key: str) -> list[str] | None:
        """The cached compile's warnings when every file it wrote is unchanged; None otherwise."""
        try:
            entry = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            outputs, warnings = entry["outputs"], entry["warnings"]
            for path, sha in entry.get("reads", {}).items():  # config files the compile read
                if _sha256_file(path) != sha:
                    return None
            for name, sha in outputs.items():
                if Path(name).name != name:  # only plain names in DIR: an entry never points elsewhere
                    return None
                if _sha256_file(str(self.output_dir / name)) != sha:
                    return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # no entry, a damaged one, or an output gone: compile
        return [str(w) for w in warnings] if isinstance(warnings, list) and outputs else None

    def store(self, key: str, written: dict[Path, str], warnings: list[str], reads: tuple[str, ...] = ()) -> None:
        """Record what a compile wrote (after it wrote it); best effort: a cache that cannot be written is no cache.

        `reads`: the config files the compile read (a Config's default file is known only once compiled):
        a later lookup is a hit only while each still has the bytes it had.
        """
        try:
            read_shas = {os.path.abspath(path): _sha256_file(path) for path in reads}
        except OSError:
            return
        entry = {
            "outputs": {p.name: hashlib.sha256(text.encode("utf-8")).hexdigest() for p, text in written.items()},
            "warnings": warnings,
            "reads": read_shas,
        }
        destination = self.folder / f"{key}.json"
        temporary = self.folder / f".{key}.tmp{os.getpid()}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(entry, sort_keys=True), encoding="utf-8")
            os.replace(temporary, destination)
        except OSError:
            try:
                temporary.unlink()
            except OSError:
                pass
