"""A foreach over a list of hyper-parameters with its join, "Creating Flows"'s Foreach section
(https://docs.metaflow.org/metaflow/basics#foreach): one task per item of the list named by
`foreach=`, each sees its item as `self.input`, the join sees every task through `inputs`."""

from metaflow import FlowSpec, Parameter, step


class HyperparameterSweepFlow(FlowSpec):
    target = Parameter("target", type=float, default=0.3)

    @step
    def start(self):
        self.alphas = [0.01, 0.1, 0.3, 1.0]
        self.next(self.train, foreach="alphas")

    @step
    def train(self):
        self.alpha = self.input
        self.loss = round(abs(self.alpha - self.target) + 0.05, 3)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.results = sorted((i.loss, i.alpha) for i in inputs)
        self.best_alpha = self.results[0][1]
        self.next(self.end)

    @step
    def end(self):
        print("tried", len(self.results), "best alpha", self.best_alpha, "loss", self.results[0][0])


if __name__ == "__main__":
    HyperparameterSweepFlow()
