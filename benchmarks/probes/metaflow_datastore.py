"""Store then load one artifact through Metaflow's local datastore (run with the peer venv's python).

    python metaflow_datastore.py ROOT SOURCE_FILE   -> {"store_s": .., "load_s": .., "bytes": ..}

The artifact is a bytearray with SOURCE_FILE's bytes (read before timing).
"""

import json
import sys
import time

from metaflow.datastore import FlowDataStore
from metaflow.plugins.datastores.local_storage import LocalStorage

root, source = sys.argv[1], sys.argv[2]
with open(source, "rb") as f:
    value = bytearray(f.read())
size = len(value)
flow_store = FlowDataStore("BenchFlow", storage_impl=LocalStorage, ds_root=root)
t0 = time.perf_counter()
task = flow_store.get_task_datastore("1", "start", "1", attempt=0, mode="w")
task.init_task()
task.save_artifacts([("blob", value)])
task.done()
t1 = time.perf_counter()
del value
t2 = time.perf_counter()
loaded = flow_store.get_task_datastore("1", "start", "1", mode="r")["blob"]
t3 = time.perf_counter()
assert len(loaded) == size
print(json.dumps({"store_s": t1 - t0, "load_s": t3 - t2, "bytes": size}))
