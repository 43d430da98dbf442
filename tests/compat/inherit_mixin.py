"""A mixin of helper methods next to a base flow that adds a step between start and end (issue 14
item 4): the derived flow overrides `start` to route through its own `score` step, so the graph
is the derived class's; the mixin contributes no steps, only methods, as Metaflow's BaseFlow page
recommends for shared helpers (https://docs.metaflow.org/metaflow/composing-flows/baseflow)."""

from metaflow import FlowSpec, Parameter, step


class MetricsMixin:
    def accuracy(self, pairs):
        return sum(1 for p, y in pairs if p == y) / len(pairs)


class BaseScoring(FlowSpec):
    cutoff = Parameter("cutoff", default=0.5)

    @step
    def start(self):
        self.pairs = []
        self.next(self.end)

    @step
    def end(self):
        print("accuracy", getattr(self, "acc", None))


class ChurnScoringFlow(MetricsMixin, BaseScoring):
    @step
    def start(self):
        self.probs = [(0.9, 1), (0.2, 0), (0.6, 0), (0.4, 1)]
        self.next(self.score)

    @step
    def score(self):
        self.acc = self.accuracy([(int(p > self.cutoff), y) for p, y in self.probs])
        self.next(self.end)


if __name__ == "__main__":
    ChurnScoringFlow()
