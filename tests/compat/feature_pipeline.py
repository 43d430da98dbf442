"""A linear flow, the first transition "Creating Flows" documents
(https://docs.metaflow.org/metaflow/basics#linear): load -> clean -> featurize -> end, each
step's artifacts (self.x) available to the next ones."""

from metaflow import FlowSpec, step


class FeaturePipelineFlow(FlowSpec):
    @step
    def start(self):
        self.rows = [{"age": 34, "income": 52000}, {"age": None, "income": 61000}, {"age": 45, "income": 0}]
        self.next(self.clean)

    @step
    def clean(self):
        self.clean_rows = [r for r in self.rows if r["age"] is not None and r["income"] > 0]
        self.next(self.featurize)

    @step
    def featurize(self):
        self.features = [(r["age"] / 100, round(r["income"] / 100000, 2)) for r in self.clean_rows]
        self.next(self.end)

    @step
    def end(self):
        print("kept", len(self.clean_rows), "of", len(self.rows), "features", self.features)


if __name__ == "__main__":
    FeaturePipelineFlow()
