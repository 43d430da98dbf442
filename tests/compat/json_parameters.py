"""Parameters as real projects write them: hyper-parameters as a JSONType default written as text,
a flag, a comma-separated list and a repeatable option (Metaflow's Parameter docstring and click)."""

from metaflow import FlowSpec, JSONType, Parameter, step


class HyperParameterFlow(FlowSpec):
    hyperparams = Parameter("hyperparams", type=JSONType, default='{"lr": 0.1, "depth": [3, 5]}', help="as JSON")
    dry_run = Parameter("dry-run", is_flag=True)
    features = Parameter("features", default="age,income", separator=",")
    seeds = Parameter("seed", multiple=True, type=int, default=[7])

    @step
    def start(self):
        self.grid = [(d, s) for d in self.hyperparams["depth"] for s in self.seeds]
        self.next(self.end)

    @step
    def end(self):
        print("lr", self.hyperparams["lr"], "grid", self.grid, "features", self.features, "dry", self.dry_run)


if __name__ == "__main__":
    HyperParameterFlow()
