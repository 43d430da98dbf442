"""Nested foreach, "Creating Flows" (https://docs.metaflow.org/metaflow/basics#foreach: a foreach
may contain another foreach, each closed by its own join): models x folds cross-validation;
the inner join averages a model's folds, the outer join picks the best model."""

from metaflow import FlowSpec, step


class NestedSweepFlow(FlowSpec):
    @step
    def start(self):
        self.models = ["tree", "forest"]
        self.next(self.per_model, foreach="models")

    @step
    def per_model(self):
        self.model = self.input
        self.folds = [0, 1, 2]
        self.next(self.fit_fold, foreach="folds")

    @step
    def fit_fold(self):
        self.fold_score = (0.7 if self.model == "tree" else 0.8) + self.input * 0.01
        self.next(self.average)

    @step
    def average(self, inputs):
        self.model = inputs[0].model
        self.mean = round(sum(i.fold_score for i in inputs) / len(inputs), 3)
        self.next(self.pick)

    @step
    def pick(self, inputs):
        self.scores = sorted((i.model, i.mean) for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("cv scores", self.scores)


if __name__ == "__main__":
    NestedSweepFlow()
