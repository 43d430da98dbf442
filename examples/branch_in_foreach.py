"""Branches inside a foreach body, and a foreach inside a branch."""

from flowc import FlowSpec, step


class BranchInForeachFlow(FlowSpec):
    @step
    def start(self):
        self.shards = ["a", "bb", "ccc"]
        self.next(self.shard, self.side)

    @step
    def side(self):
        self.side_value = 42
        self.next(self.merge)

    @step
    def shard(self):
        self.next(self.per_shard, foreach="shards")

    @step
    def per_shard(self):
        self.name = self.input
        self.next(self.length, self.upper)

    @step
    def length(self):
        self.length_value = len(self.name)
        self.next(self.shard_join)

    @step
    def upper(self):
        self.upper_value = self.name.upper()
        self.next(self.shard_join)

    @step
    def shard_join(self, inputs):
        self.pair = (inputs.upper.upper_value, inputs.length.length_value)
        self.next(self.shards_done)

    @step
    def shards_done(self, inputs):
        self.pairs = sorted(task.pair for task in inputs)
        self.next(self.merge)

    @step
    def merge(self, inputs):
        self.pairs = inputs.shards_done.pairs
        self.side_value = inputs.side.side_value
        self.next(self.end)

    @step
    def end(self):
        print(self.pairs, self.side_value)
