"""A hybrid run: the heavy step goes to AWS Batch, the rest runs where `flowc run` runs.

    flowc run examples/hybrid.py --batch --datastore s3://bucket/prefix

sends each `score` split to AWS Batch as its own job (at most --max-workers at
once) and runs `start`, `join` and `end` as local processes; artifacts flow
through the s3:// datastore.  Without --batch every step runs locally.
"""

from flowc import FlowSpec, Parameter, batch, resources, retry, step, timeout

GIB = 1024


class HybridFlow(FlowSpec):
    shards = Parameter("shards", default=3, help="how many Batch jobs score the data")

    @step
    def start(self):
        self.parts = list(range(int(self.shards)))
        self.next(self.score, foreach="parts")

    # The heavy step: one Batch job per split, resubmitted on failure, stopped by Batch after 10 minutes.
    @batch
    @resources(cpu=2, memory=8 * GIB)
    @retry(times=1)
    @timeout(minutes=10)
    @step
    def score(self):
        self.partial = sum(i * i for i in range(self.input * 1000, (self.input + 1) * 1000))
        print("scored part", self.input)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.partial for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("total", self.total)


if __name__ == "__main__":
    HybridFlow()
