"""A static branch closed by a join with merge_artifacts, "Creating Flows"'s Branch section
(https://docs.metaflow.org/metaflow/basics#branch): two models train in parallel from the same
split; the join reads each branch's artifacts through `inputs.<step>` and calls
`self.merge_artifacts(inputs)` to carry the unchanged ones (the split) forward; an artifact
the branches set differently must be excluded or set in the join."""

from metaflow import FlowSpec, step


class BranchTrainEvaluateFlow(FlowSpec):
    @step
    def start(self):
        self.train_set = [(1, 2), (2, 4), (3, 6), (4, 8)]
        self.test_set = [(5, 10), (6, 12)]
        self.next(self.linear, self.constant)

    @step
    def linear(self):
        self.model = "linear"
        self.error = sum(abs(2 * x - y) for x, y in self.test_set)
        self.next(self.join)

    @step
    def constant(self):
        self.model = "constant"
        mean = sum(y for _, y in self.train_set) / len(self.train_set)
        self.error = sum(abs(mean - y) for _, y in self.test_set)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.errors = {"linear": inputs.linear.error, "constant": inputs.constant.error}
        self.best = min(self.errors, key=self.errors.get)
        self.merge_artifacts(inputs, exclude=["model", "error"])
        self.next(self.end)

    @step
    def end(self):
        print("best", self.best, "errors", self.errors, "test rows", len(self.test_set))


if __name__ == "__main__":
    BranchTrainEvaluateFlow()
