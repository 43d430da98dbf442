"""`from metaflow import S3` / `from flowc import S3`: Metaflow's S3 client, the documented subset.

    with S3(run=self) as s3:                 # rooted at the run's folder: ROOT/<Flow>/s3/<run>/
        url = s3.put("model", pickle.dumps(model))
    with S3(s3root="s3://bucket/data") as s3:
        s3.get("x.csv").text, [o.key for o in s3.get_all()]

`S3(run=self)` roots the client beside the run in the run's own datastore (flowc/contract/layout.py:
`run_s3_key`): on an s3:// datastore that is S3; on a local datastore (Metaflow would need S3) it is a
folder with the same API, so a flow behaves the same in `flowc run` and deployed.  `s3root=` and
`bucket=`/`prefix=` always mean S3, through boto3.  The *_many calls run on a thread pool of
FLOWC_S3_CONCURRENCY transfers.  Downloaded objects are temporary files, removed by close() (the
`with` block's end).  Errors are Metaflow's names: MetaflowS3NotFound, MetaflowS3AccessDenied,
MetaflowS3URLException, MetaflowS3InvalidObject (all MetaflowS3Exception).
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import threading

from flowc.runtime.s3_backends import (
    BotoBackend,
    LocalBackend,
    MetaflowS3AccessDenied,
    MetaflowS3Exception,
    MetaflowS3NotFound,
    MetaflowS3URLException,
)

__all__ = [
    "S3",
    "S3Object",
    "S3PutObject",
    "MetaflowS3Exception",
    "MetaflowS3NotFound",
    "MetaflowS3AccessDenied",
    "MetaflowS3URLException",
    "MetaflowS3InvalidObject",
]


class MetaflowS3InvalidObject(MetaflowS3Exception):
    """put() was given something that is not str, bytes or a readable file object."""


class S3PutObject:
    """One object for put_many (value=) or put_files (path=), with optional content type and metadata."""

    def __init__(self, key: str, value=None, path: str | None = None, content_type=None, metadata=None):
        self.key, self.value, self.path, self.content_type, self.metadata = key, value, path, content_type, metadata

    def __iter__(self):  # (key, value-or-path), as the tuples put_many/put_files also take
        return iter((self.key, self.value if self.path is None else self.path))


class S3Object:
    """An object (or, from list_paths, a prefix: `exists` False) as Metaflow's S3 client returns it."""

    def __init__(self, url: str, key: str, path: str | None = None, head=None, prefix: bool = False):
        self.url, self.key, self.path = url, key, path
        self._head = head
        self.prefix = prefix

    @property
    def exists(self) -> bool:
        return self._head is not None and not self.prefix

    @property
    def downloaded(self) -> bool:
        return self.path is not None

    @property
    def has_info(self) -> bool:
        return self._head is not None

    @property
    def size(self) -> int | None:
        return self._head.size if self._head is not None else None

    @property
    def content_type(self) -> str | None:
        return self._head.content_type if self._head is not None else None

    @property
    def metadata(self) -> dict | None:
        return self._head.metadata if self._head is not None else None

    @property
    def last_modified(self) -> float | None:
        return self._head.last_modified if self._head is not None else None

    @property
    def blob(self) -> bytes | None:
        if self.path is None:
            return None
        with open(self.path, "rb") as f:
            return f.read()

    @property
    def text(self) -> str | None:
        blob = self.blob
        return None if blob is None else blob.decode("utf-8")

    def __repr__(self) -> str:
        return f"<S3Object {self.url} ({self.size} bytes)>" if self.exists else f"<S3Object {self.url} (missing)>"


class S3:
    """Metaflow's S3 client: a root (run=, s3root=, bucket=/prefix=) or none (every key a full s3:// URL)."""

    def __init__(self, tmproot: str = ".", bucket=None, prefix=None, run=None, s3root=None, **kwargs):
        self._tmproot, self._tmpdir = tmproot, None
        self._tmpdir_lock = threading.Lock()
        self._numbers = itertools.count()  # next() on a count is atomic under the GIL: threads get distinct names
        self._buckets: dict[str, BotoBackend] = {}
        self._backend = None
        if run is not None:
            self._backend = _run_backend(run, bucket, prefix)
        elif s3root is not None:
            bucket_name, key_prefix = _split_url(s3root)
            self._backend = BotoBackend(bucket_name, key_prefix)
        elif bucket is not None or prefix is not None:
            if not bucket:
                raise MetaflowS3URLException("S3(prefix=...) needs bucket= too (or s3root='s3://bucket/prefix')")
            self._backend = BotoBackend(bucket, prefix or "")

    # -- the with block ----------------------------------------------------------------------------

    def __enter__(self) -> S3:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Remove the downloaded files (every S3Object.path of this client)."""
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def _download_path(self) -> str:
        with self._tmpdir_lock:  # get_many's threads: two folders made at once would leak one past close()
            if self._tmpdir is None:
                self._tmpdir = tempfile.mkdtemp(prefix="metaflow.s3.", dir=self._tmproot)
        return os.path.join(self._tmpdir, f"object-{next(self._numbers)}")  # in our own fresh 0700 folder

    # -- keys --------------------------------------------------------------------------------------

    def _locate(self, key) -> tuple:
        """(backend, key relative to it, the key as the caller gave it)."""
        given = "" if key is None else str(key)
        if self._backend is not None:
            if "://" in given:
                raise MetaflowS3URLException(
                    f"{given!r}: this S3 client has a root; give keys relative to it, not full URLs"
                )
            return self._backend, given.lstrip("/"), given
        if not given.startswith("s3://"):
            raise MetaflowS3URLException(f"{given!r}: without run=, s3root= or bucket=, a key is a full s3:// URL")
        bucket, rel = _split_url(given)
        if bucket not in self._buckets:
            self._buckets[bucket] = BotoBackend(bucket, "")
        return self._buckets[bucket], rel, given

    def _parallel(self, function, items: list) -> list:
        if len(items) <= 1:
            return [function(i) for i in items]
        from concurrent.futures import ThreadPoolExecutor  # only for the *_many calls

        backend = self._backend or next(iter(self._buckets.values()), None)
        workers = getattr(backend, "concurrency", 8) or 8
        with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
            return list(pool.map(function, items))

    # -- get ---------------------------------------------------------------------------------------

    def get(self, key=None, return_missing: bool = False, return_info: bool = True) -> S3Object:
        """The object at `key`, downloaded to a temporary file; MetaflowS3NotFound unless return_missing."""
        backend, rel, given = self._locate(key)
        path = self._download_path()
        head = backend.download(rel, path)
        if head is None:
            if not return_missing:
                raise MetaflowS3NotFound(f"{backend.url(rel)} does not exist")
            return S3Object(backend.url(rel), given)
        return S3Object(backend.url(rel), given, path, head)

    def get_many(self, keys, return_missing: bool = False, return_info: bool = True) -> list[S3Object]:
        return self._parallel(lambda k: self.get(k, return_missing), list(keys))

    def get_recursive(self, keys, return_info: bool = False) -> list[S3Object]:
        """Every object under each key (a prefix), downloaded."""
        found = [o for k in keys for o in self.list_recursive([k])]
        return self._parallel(lambda o: self.get(o.key), found)

    def get_all(self, return_info: bool = False) -> list[S3Object]:
        """Every object under the client's root."""
        if self._backend is None:
            raise MetaflowS3URLException("get_all() needs a root: S3(run=...), S3(s3root=...) or S3(bucket=...)")
        return self.get_recursive([None])

    def info(self, key=None, return_missing: bool = False) -> S3Object:
        backend, rel, given = self._locate(key)
        head = backend.head(rel)
        if head is None and not return_missing:
            raise MetaflowS3NotFound(f"{backend.url(rel)} does not exist")
        return S3Object(backend.url(rel), given, None, head)

    def info_many(self, keys, return_missing: bool = False) -> list[S3Object]:
        return self._parallel(lambda k: self.info(k, return_missing), list(keys))

    # -- list --------------------------------------------------------------------------------------

    def list_paths(self, keys=None) -> list[S3Object]:
        """One level below each key (default: the root): objects, and prefixes with `exists` False."""
        found = []
        for key in keys if keys is not None else [None]:
            backend, rel, given = self._locate(key)
            objects, prefixes = backend.list(rel, recursive=False)
            found += [S3Object(backend.url(k), self._key_for(given, rel, k), None, _size(s)) for k, s in objects]
            found += [
                S3Object(backend.url(p), self._key_for(given, rel, p), prefix=True, head=_size(0)) for p in prefixes
            ]
        return found

    def list_recursive(self, keys=None) -> list[S3Object]:
        """Every object below each key (default: the root)."""
        found = []
        for key in keys if keys is not None else [None]:
            backend, rel, given = self._locate(key)
            objects, _ = backend.list(rel, recursive=True)
            found += [S3Object(backend.url(k), self._key_for(given, rel, k), None, _size(s)) for k, s in objects]
        return found

    def _key_for(self, given: str, rel: str, found: str) -> str:
        """A listed object's key as the caller would give it: relative to the root, or a full URL without one."""
        if self._backend is not None:
            return found
        return given[: len(given) - len(rel)] + found if rel else given.rstrip("/") + "/" + found

    # -- put ---------------------------------------------------------------------------------------

    def put(self, key, obj, overwrite: bool = True, content_type=None, metadata=None) -> str:
        """Store `obj` (str as UTF-8, bytes, or a readable file object) at `key`; its URL."""
        backend, rel, _ = self._locate(key)
        if not rel:
            raise MetaflowS3URLException("put() needs a key")
        backend.put(rel, _as_bytes(key, obj), None, overwrite, _extra(content_type, metadata))
        return backend.url(rel)

    def put_many(self, key_objs, overwrite: bool = True) -> list[tuple[str, str]]:
        """Store each (key, obj) (or S3PutObject) in parallel; (key, url) of each object stored."""

        def one(item):
            key, obj = tuple(item)
            backend, rel, _ = self._locate(key)
            extra = _extra(getattr(item, "content_type", None), getattr(item, "metadata", None))
            stored = backend.put(rel, _as_bytes(key, obj), None, overwrite, extra)
            return (key, backend.url(rel)) if stored else None

        return [r for r in self._parallel(one, list(key_objs)) if r is not None]

    def put_files(self, key_paths, overwrite: bool = True) -> list[tuple[str, str]]:
        """Upload each (key, local path) (or S3PutObject with path=) in parallel; (key, url) of each one stored."""

        def one(item):
            key, path = tuple(item)
            if not os.path.isfile(path):
                raise MetaflowS3NotFound(f"local file {path!r} (for key {key!r}) does not exist")
            backend, rel, _ = self._locate(key)
            extra = _extra(getattr(item, "content_type", None), getattr(item, "metadata", None))
            return (key, backend.url(rel)) if backend.put(rel, None, path, overwrite, extra) else None

        return [r for r in self._parallel(one, list(key_paths)) if r is not None]


def _size(size: int):
    from flowc.runtime.s3_backends import Head

    return Head(size)


def _as_bytes(key, obj) -> bytes:
    if isinstance(obj, str):
        return obj.encode("utf-8")
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return bytes(obj)
    if hasattr(obj, "read"):
        data = obj.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    raise MetaflowS3InvalidObject(
        f"cannot put {type(obj).__name__} at {key!r}: give str, bytes or a file object (pickle other values first)"
    )


def _extra(content_type, metadata) -> dict:
    extra = {}
    if content_type:
        extra["ContentType"] = content_type
    if metadata:
        extra["Metadata"] = {str(k): str(v) for k, v in metadata.items()}
    return extra


def _split_url(url: str) -> tuple[str, str]:
    if not isinstance(url, str) or not url.startswith("s3://"):
        raise MetaflowS3URLException(f"{url!r} is not an s3:// URL")
    bucket, _, key = url[len("s3://") :].partition("/")
    if not bucket:
        raise MetaflowS3URLException(f"{url!r} names no bucket")
    return bucket, key


def _run_backend(run, bucket, prefix):
    """The folder of `run` (a running flow's `self`, or a client Run) in its datastore."""
    from flowc.contract.layout import run_s3_key
    from flowc.contract.settings import env_name

    from flowc.api.flowspec import FlowSpec

    if not isinstance(run, FlowSpec):  # a client Run: "Flow/run"
        flow_name, _, run_id = run.pathspec.partition("/")
        root = run._store.root
    else:
        from flowc.api.flowspec import current

        if not current.is_running_flow:
            raise MetaflowS3URLException("S3(run=self) is for a running step (or pass a client Run)")
        flow_name, run_id = current.flow_name, current.run_id
        root = os.environ.get(env_name("datastore")) or ".flowc"
    key = run_s3_key(flow_name, run_id)
    if bucket is not None or prefix is not None:  # Metaflow: they replace DATATOOLS_S3ROOT's bucket and prefix
        return BotoBackend(bucket or _split_url(root)[0], f"{(prefix or '').strip('/')}/{flow_name}/{run_id}")
    if root.startswith("s3://"):
        root_bucket, root_prefix = _split_url(root.rstrip("/"))
        return BotoBackend(root_bucket, f"{root_prefix}/{key}" if root_prefix else key)
    return LocalBackend(os.path.join(root, *key.split("/")))
