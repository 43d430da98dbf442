"""Store then load one artifact through flowc's local datastore, the calls the runtime makes
(flowc/runtime/execute.py: put_blob(dump(...)); artifacts.py: ArtifactSource.load).

    python flowc_datastore.py ROOT SOURCE_FILE   -> {"store_s": .., "load_s": .., "bytes": ..}
"""

import json
import sys
import time

from flowc.runtime.artifacts import ArtifactSource, dump
from flowc.runtime.datastore import open_datastore

root, source = sys.argv[1], sys.argv[2]
with open(source, "rb") as f:
    value = bytearray(f.read())
size = len(value)
store = open_datastore(root)
t0 = time.perf_counter()
sha = store.put_blob("BenchFlow", dump("blob", "start", value))
t1 = time.perf_counter()
del value
t2 = time.perf_counter()
loaded = ArtifactSource(store, "BenchFlow", {"blob": sha}).load("blob")
t3 = time.perf_counter()
assert len(loaded) == size
print(json.dumps({"store_s": t1 - t0, "load_s": t3 - t2, "bytes": size}))
