"""The shape of data-prep flows in the wild: a foreach writes one shard per branch to a local file and
uploads it with `S3(run=self).put_files`; the join lists the shards (`list_paths`) and reads them all
at once (`get_many`), as Metaflow's docs show for parallel transfers."""

import os
import tempfile

from metaflow import S3, FlowSpec, step


class S3ShardsFlow(FlowSpec):
    @step
    def start(self):
        self.parts = ["alpha", "beta", "gamma"]
        self.next(self.write, foreach="parts")

    @step
    def write(self):
        path = os.path.join(tempfile.mkdtemp(), "shard.csv")
        with open(path, "w") as f:
            f.write(f"{self.input},{len(self.input)}\n")
        with S3(run=self) as s3:
            [(self.key, _url)] = s3.put_files([(f"shards/{self.input}.csv", path)])
        self.next(self.join)

    @step
    def join(self, inputs):
        with S3(run=self) as s3:
            listed = sorted(o.key for o in s3.list_paths(["shards"]))
            rows = [o.text.strip() for o in s3.get_many(listed)]
        self.rows = rows
        print("listed", listed)
        self.next(self.end)

    @step
    def end(self):
        print("rows", self.rows)


if __name__ == "__main__":
    S3ShardsFlow()
