"""The datastore's common logic over a backend's storage primitives (write, read, exists, children).

The layout (which key holds what) is flowc/contract/layout.py; blobs are
pickle 5, plain or framed (blob.py), content-addressed.  Keys are '/'-separated paths relative to ROOT.  Every write is atomic (temp
file + rename locally, whole-object put on S3), so a killed writer leaves
nothing a reader could mistake for finished.  A blob whose content does not
hash to its name is refused.
"""

from __future__ import annotations

import re

from flowc.contract.layout import blob_key
from flowc.runtime.datastore.blob import Framed, _Truncated, sha256_hex, split_blob

SHA256 = re.compile(r"^[0-9a-f]{64}$")


class DatastoreError(Exception):
    """The datastore cannot be read or written (permissions, missing bucket, endpoint gone).

    The message is one line naming the datastore and the cause; the runtime and
    the runner print it as is, without a traceback.
    """


class CorruptBlob(DatastoreError):
    """A blob whose bytes do not hash to its name (or a reference that is not a sha256)."""


class Datastore:
    """Common logic over the storage primitives of a backend."""

    root: str

    # Backends implement: write(key, bytes), create(key, bytes) -> bool (write once), read(key) -> bytes | None,
    # exists(key), children(key).

    def put_blob(self, flow: str, data) -> str:
        """Store `data` (bytes, or a Framed blob) under its sha256 and return the sha.

        A blob already there is kept only if it checks out (blob_intact): a
        corrupt one is replaced, atomically, instead of poisoning every run
        that writes the same value.
        """
        if isinstance(data, Framed):
            return self._put_framed(flow, data)
        sha = sha256_hex(data)
        if not self.blob_intact(flow, sha, len(data)):
            self.write(blob_key(flow, sha), data)
        return sha

    def blob_intact(self, flow: str, sha: str, size: int | None = None, thorough: bool = False) -> bool:
        """Whether blob `sha` is stored whole: present, of `size` bytes when given.

        Backends whose writes are whole-object (S3) need no more; a local
        directory also hashes small blobs, and every blob when `thorough`.
        A reference that is not a sha256 is never intact (and never looked up).
        """
        return isinstance(sha, str) and bool(SHA256.match(sha)) and self._blob_intact(flow, sha, size, thorough)

    def _blob_intact(self, flow: str, sha: str, size: int | None, thorough: bool) -> bool:
        return self.exists(blob_key(flow, sha))

    def _put_framed(self, flow: str, blob: Framed) -> str:
        """Hash, then one whole-object write of the same bytes (local directories stream instead)."""
        sha = blob.sha256()
        if not self.blob_intact(flow, sha, blob.size):
            self.write(blob_key(flow, sha), b"".join(blob.parts))
        return sha

    def get_parts(self, flow: str, sha: str):
        """(in-band pickle, [buffers]) of blob `sha`, for pickle.loads(inband, buffers=buffers); checked first."""
        try:
            return split_blob(self.get_blob(flow, sha))
        except _Truncated:
            raise self._corrupt(sha) from None

    def _check_ref(self, sha) -> None:
        if not isinstance(sha, str) or not SHA256.match(sha):
            raise CorruptBlob(f"artifact reference {sha!r} in {self.root} is not a sha256; refusing to load it")

    def _corrupt(self, sha: str) -> CorruptBlob:
        return CorruptBlob(f"artifact blob {sha} in {self.root} is corrupt (its content does not match its name)")

    def get_blob(self, flow: str, sha: str) -> bytes:
        """The bytes of blob `sha` of `flow`, refused unless they hash to `sha`.

        Only names of 64 lowercase hex digits are looked up, so a reference in a
        meta.json can never point outside ROOT/<flow>/data/.
        """
        self._check_ref(sha)
        data = self.read(blob_key(flow, sha))
        if data is None:
            raise FileNotFoundError(f"artifact blob {sha} is missing: no {self.url(blob_key(flow, sha))}")
        if sha256_hex(data) != sha:
            raise self._corrupt(sha)
        return data

    def create_text(self, key: str, text: str) -> bool:
        """Write `key` only if nothing is there yet (atomically); False when it already exists."""
        return self.create(key, text.encode("utf-8"))

    def read_text(self, key: str) -> str | None:
        data = self.read(key)
        return None if data is None else data.decode("utf-8")

    def write_text(self, key: str, text: str) -> None:
        self.write(key, text.encode("utf-8"))

    def url(self, key: str) -> str:
        return f"{self.root.rstrip('/')}/{key}"
